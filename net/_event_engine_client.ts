/**
 * Engine.IO 4 client transports (private; web APIs only: `WebSocket` and
 * `fetch`, so the browser build works too).
 *
 * WebSocket is tried first; if it cannot open (a proxy that refuses
 * upgrades, a server configured for polling only) the client falls back to
 * HTTP long-polling: one `GET` poll outstanding, `POST`s one at a time
 * carrying the queued packets `\x1e`-joined (binary as `b<base64>`). A
 * server silent for `pingInterval + pingTimeout` is treated as gone.
 *
 * @module
 */

import { decodePayload, encodePayload, PacketError } from "./_event_packets.ts";

/** Options of one Engine.IO connection. */
export interface EngineClientOptions {
  transports: readonly ("websocket" | "polling")[];
  path: string;
  query: Record<string, string>;
  timeout: number;
}

interface OpenInfo {
  sid: string;
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

function parseOpen(text: string): OpenInfo {
  if (text[0] !== "0") throw new PacketError("Expected the open packet");
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text.slice(1));
  } catch {
    throw new PacketError("Invalid open packet");
  }
  if (
    typeof o?.sid !== "string" || typeof o.pingInterval !== "number" ||
    typeof o.pingTimeout !== "number"
  ) throw new PacketError("Invalid open packet");
  return {
    sid: o.sid,
    pingInterval: o.pingInterval,
    pingTimeout: o.pingTimeout,
    maxPayload: typeof o.maxPayload === "number" ? o.maxPayload : 1e6,
  };
}

function endpoint(
  base: string,
  o: EngineClientOptions,
  transport: string,
  sid?: string,
): string {
  const url = new URL(base);
  url.pathname = o.path;
  url.search = "";
  for (const [k, v] of Object.entries(o.query)) url.searchParams.set(k, v);
  url.searchParams.set("EIO", "4");
  url.searchParams.set("transport", transport);
  if (sid) url.searchParams.set("sid", sid);
  if (transport === "websocket") {
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  }
  return url.href;
}

/** One Engine.IO connection (either transport). */
export class EngineClient {
  readonly sid: string;
  readonly transport: "websocket" | "polling";
  readonly info: OpenInfo;
  /** A socket.io-level message. */
  onmessage: (data: string | Uint8Array) => void = () => {};
  /** Called once when the connection ends. */
  onclose: (reason: string) => void = () => {};
  #ws?: WebSocket;
  #base = "";
  #opts?: EngineClientOptions;
  #closed = false;
  #timer?: ReturnType<typeof setTimeout>;
  #queue: (string | Uint8Array)[] = [];
  #posting = false;
  #abort = new AbortController();
  #tasks = new Set<Promise<unknown>>();

  #track(promise: Promise<unknown>): void {
    const p = promise.catch(() => {}).finally(() => this.#tasks.delete(p));
    this.#tasks.add(p);
  }

  private constructor(info: OpenInfo, transport: "websocket" | "polling") {
    this.info = info;
    this.sid = info.sid;
    this.transport = transport;
  }

  /** Opens a connection: WebSocket first, then polling. */
  static async open(
    base: string,
    o: EngineClientOptions,
  ): Promise<EngineClient> {
    let firstError: unknown;
    for (const transport of o.transports) {
      try {
        return transport === "websocket"
          ? await EngineClient.#openWebSocket(base, o)
          : await EngineClient.#openPolling(base, o);
      } catch (error) {
        firstError ??= error;
      }
    }
    throw firstError;
  }

  static #openWebSocket(
    base: string,
    o: EngineClientOptions,
  ): Promise<EngineClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(endpoint(base, o, "websocket"));
      ws.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        fail(
          new Error(`Cannot connect: no open packet within ${o.timeout} ms`),
        );
        ws.close();
      }, o.timeout);
      const fail = (error: unknown) => {
        clearTimeout(timer);
        ws.onmessage = ws.onclose = ws.onerror = null;
        reject(error);
      };
      ws.onerror = () => {};
      ws.onclose = (e) =>
        fail(new Error(`Cannot connect: WebSocket closed (code ${e.code})`));
      ws.onmessage = (e) => {
        clearTimeout(timer);
        let info: OpenInfo;
        try {
          info = parseOpen(String(e.data));
        } catch (error) {
          ws.close();
          return fail(error);
        }
        const client = new EngineClient(info, "websocket");
        client.#ws = ws;
        client.#track(
          new Promise<void>((r) =>
            ws.addEventListener("close", () => r(), { once: true })
          ),
        );
        ws.onmessage = (m) =>
          client.#receive(
            typeof m.data === "string"
              ? m.data
              : new Uint8Array(m.data as ArrayBuffer),
          );
        ws.onclose = () => client.#finish("transport close");
        client.#heartbeat();
        resolve(client);
      };
    });
  }

  static async #openPolling(
    base: string,
    o: EngineClientOptions,
  ): Promise<EngineClient> {
    const signal = AbortSignal.timeout(o.timeout);
    const response = await fetch(endpoint(base, o, "polling"), { signal });
    const body = await response.text();
    if (!response.ok) {
      throw new Error(
        `Cannot connect: HTTP ${response.status} ${body.slice(0, 200)}`,
      );
    }
    const [first, ...rest] = decodePayload(body);
    const info = parseOpen(String(first));
    const client = new EngineClient(info, "polling");
    client.#base = base;
    client.#opts = o;
    client.#heartbeat();
    queueMicrotask(() => {
      for (const p of rest) client.#receive(p);
      client.#track(client.#pollLoop());
    });
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #heartbeat(): void {
    clearTimeout(this.#timer);
    const ms = this.info.pingInterval + this.info.pingTimeout;
    this.#timer = setTimeout(() => this.close("ping timeout"), ms);
  }

  #receive(packet: string | Uint8Array): void {
    if (this.#closed) return;
    if (typeof packet !== "string") return this.onmessage(packet);
    switch (packet[0]) {
      case "4":
        return this.onmessage(packet.slice(1));
      case "2":
        this.#heartbeat();
        return this.#sendRaw(["3"]);
      case "1":
        return this.#finish("transport close");
      case "6":
        return;
      default:
        return this.close("parse error");
    }
  }

  async #pollLoop(): Promise<void> {
    while (!this.#closed) {
      let body: string;
      try {
        const r = await fetch(
          endpoint(this.#base, this.#opts!, "polling", this.sid),
          {
            signal: this.#abort.signal,
          },
        );
        body = await r.text();
        if (!r.ok) return this.#finish("transport error");
      } catch {
        return this.#finish("transport error");
      }
      let packets: (string | Uint8Array)[];
      try {
        packets = decodePayload(body);
      } catch {
        return this.close("parse error");
      }
      for (const p of packets) this.#receive(p);
    }
  }

  /**
   * Sends socket.io messages. A message over the server's `maxPayload`
   * throws a `RangeError` (the server would drop the connection).
   */
  send(messages: readonly (string | Uint8Array)[]): void {
    const max = this.info.maxPayload;
    const packets = messages.map((m) => typeof m === "string" ? "4" + m : m);
    for (const p of packets) {
      const size = this.#size(p);
      if (size > max) {
        throw new RangeError(
          `Cannot send message: ${size} bytes exceed the server's maxPayload of ${max} bytes`,
        );
      }
    }
    this.#sendRaw(packets);
  }

  /** Bytes of a packet on this transport (polling: base64 for binary). */
  #size(p: string | Uint8Array): number {
    if (typeof p !== "string") {
      return this.#ws ? p.length : 1 + Math.ceil(p.length / 3) * 4;
    }
    let n = p.length; // UTF-8 bytes, counted without encoding
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 0x80) continue;
      if (c < 0x800) n += 1;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < p.length) {
        n += 2; // a surrogate pair: 2 units, 4 bytes
        i++;
      } else n += 2;
    }
    return n;
  }

  #sendRaw(packets: readonly (string | Uint8Array)[]): void {
    if (this.#closed) return;
    if (this.#ws) {
      if (this.#ws.readyState !== WebSocket.OPEN) return;
      for (const p of packets) {
        this.#ws.send(p as string | Uint8Array<ArrayBuffer>);
      }
      return;
    }
    this.#queue.push(...packets);
    if (!this.#posting) this.#track(this.#postLoop());
  }

  async #postLoop(): Promise<void> {
    this.#posting = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        // one body at most maxPayload bytes (the server refuses more)
        let size = 0, count = 0;
        while (count < this.#queue.length) {
          const next = this.#size(this.#queue[count]) + 1;
          if (count > 0 && size + next > this.info.maxPayload) break;
          size += next;
          count++;
        }
        const batch = this.#queue.splice(0, count);
        const r = await fetch(
          endpoint(this.#base, this.#opts!, "polling", this.sid),
          {
            method: "POST",
            body: encodePayload(batch),
            headers: { "Content-Type": "text/plain;charset=UTF-8" },
            signal: this.#abort.signal,
          },
        );
        await r.text();
        if (!r.ok) return this.#finish("transport error");
      }
    } catch {
      this.#finish("transport error");
    } finally {
      this.#posting = false;
    }
  }

  /** Resolves once every socket and request of this connection has ended (at most ~3 s). */
  async settled(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    while (this.#tasks.size > 0) {
      const all = Promise.all(this.#tasks);
      const late = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), 3000)),
      ]);
      clearTimeout(timer);
      if (late) return;
    }
  }

  /** Closes the connection (sends the close packet first). */
  close(reason = "forced close"): void {
    if (this.#closed) return;
    if (this.#ws) {
      try {
        this.#ws.send("1");
        this.#ws.close(1000);
      } catch {
        // already closing
      }
    } else {
      const url = endpoint(this.#base, this.#opts!, "polling", this.sid);
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 2000);
      this.#track(
        fetch(url, { method: "POST", body: "1", signal: abort.signal })
          .then((r) => r.body?.cancel()).finally(() => clearTimeout(timer)),
      );
    }
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) {
      try {
        this.#ws.close(1000);
      } catch {
        // closing
      }
    }
    this.onclose(reason);
  }
}
