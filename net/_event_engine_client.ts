/**
 * Engine.IO 4 client session (private; web APIs only, except the Deno
 * WebSocket framing chosen in `_event_client_websocket.ts`).
 *
 * Transports are tried in the order given (default: WebSocket, then
 * long-polling). A session opened on polling upgrades to WebSocket when the
 * server offers it (`upgrades` of the open packet) and `upgrade` is on, as
 * socket.io-client does:
 *
 * | step | client                                         | server              |
 * | ---- | ---------------------------------------------- | ------------------- |
 * | 1    | opens a WebSocket with the sid, sends `2probe`  | answers `3probe`, ends the pending poll with `6` |
 * | 2    | pauses polling: waits for the poll in flight and every `POST`; holds new packets | |
 * | 3    | sends `5` on the WebSocket, then the held packets | switches the session, flushes its queue there |
 *
 * So no packet is lost or sent twice across the switch, and order holds:
 * everything posted is answered before `5` leaves, everything the server
 * queued before `5` comes on the last poll or first on the WebSocket. A
 * probe that fails leaves the session on polling.
 *
 * A server silent for `pingInterval + pingTimeout` is treated as gone.
 * Incoming messages over `maxPayload` bytes end the session with the reason
 * `"payload too large"`.
 *
 * @module
 */

import { PacketError } from "./_event_packets.ts";
import { type ClientSocket, openWebSocket } from "./_event_client_websocket.ts";
import { packetSize, PollingTransport } from "./_event_client_polling.ts";

/** Options of one Engine.IO connection. */
export interface EngineClientOptions {
  transports: readonly ("websocket" | "polling")[];
  path: string;
  query: Record<string, string>;
  timeout: number;
  /** Upgrade a polling session to WebSocket when offered. */
  upgrade: boolean;
  /** Largest incoming message (WebSocket) or polling response, in bytes. */
  maxPayload: number;
}

interface OpenInfo {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

function parseOpen(text: string | Uint8Array): OpenInfo {
  if (typeof text !== "string" || text[0] !== "0") {
    throw new PacketError("Expected the open packet");
  }
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
    upgrades: Array.isArray(o.upgrades) ? o.upgrades.map(String) : [],
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

/**
 * The open packet: the first message of a new WebSocket (the messages
 * after it, until the caller takes over, go to `later`).
 */
function firstMessage(
  socket: ClientSocket,
  timeout: number,
  later: (string | Uint8Array)[],
): Promise<string | Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close(false);
      reject(new Error(`Cannot connect: no open packet within ${timeout} ms`));
    }, timeout);
    socket.onpacket = (m) => {
      clearTimeout(timer);
      socket.onpacket = (next) => later.push(next);
      resolve(m);
    };
    socket.onclose = (reason) => {
      clearTimeout(timer);
      reject(new Error(`Cannot connect: ${reason}`));
    };
    socket.start();
  });
}

type Transport = ClientSocket | PollingTransport;

/** One Engine.IO connection (either transport, upgraded on the way). */
export class EngineClient {
  readonly sid: string;
  readonly info: OpenInfo;
  /** A socket.io-level message. */
  onmessage: (data: string | Uint8Array) => void = () => {};
  /** Called once when the connection ends. */
  onclose: (reason: string) => void = () => {};
  #t: Transport;
  #closed = false;
  #timer?: ReturnType<typeof setTimeout>;
  /** Packets held while the transports switch (`undefined`: not switching). */
  #held?: (string | Uint8Array)[];
  #probe?: Promise<void>;
  #old = new Set<Transport>();

  private constructor(
    info: OpenInfo,
    t: Transport,
    handlers: Pick<EngineClient, "onmessage" | "onclose">,
  ) {
    this.info = info;
    this.sid = info.sid;
    this.onmessage = handlers.onmessage;
    this.onclose = handlers.onclose;
    this.#t = t;
    t.onpacket = (p) => this.#receive(p);
    t.onclose = (reason) => this.#finish(reason);
    this.#heartbeat();
  }

  /**
   * Opens a connection with the first transport that works; `handlers`
   * are in place before any message is delivered.
   */
  static async open(
    base: string,
    o: EngineClientOptions,
    handlers: Pick<EngineClient, "onmessage" | "onclose">,
  ): Promise<EngineClient> {
    let firstError: unknown;
    for (const transport of o.transports) {
      try {
        if (transport === "websocket") {
          const socket = await openWebSocket(
            endpoint(base, o, "websocket"),
            o,
          );
          const later: (string | Uint8Array)[] = [];
          let info: OpenInfo;
          try {
            info = parseOpen(await firstMessage(socket, o.timeout, later));
          } catch (error) {
            socket.close(false);
            throw error;
          }
          const client = new EngineClient(info, socket, handlers);
          for (const p of later) client.#receive(p);
          return client;
        }
        const [first, ...rest] = await PollingTransport.handshake(
          endpoint(base, o, "polling"),
          o.timeout,
          o.maxPayload,
        );
        const info = parseOpen(first);
        const polling = new PollingTransport(
          endpoint(base, o, "polling", info.sid),
          o.maxPayload,
          info.maxPayload,
        );
        const client = new EngineClient(info, polling, handlers);
        queueMicrotask(() => {
          if (client.#closed) return;
          for (const p of rest) client.#receive(p);
          polling.start();
          if (
            o.upgrade && firstError === undefined &&
            o.transports.includes("websocket") &&
            info.upgrades.includes("websocket")
          ) client.#probe = client.#upgrade(base, o);
        });
        return client;
      } catch (error) {
        firstError ??= error;
      }
    }
    throw firstError;
  }

  /** The transport in use. */
  get transport(): "websocket" | "polling" {
    return this.#t.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Probes a WebSocket, pauses polling, then switches (see the module). */
  async #upgrade(base: string, o: EngineClientOptions): Promise<void> {
    let socket: ClientSocket;
    try {
      socket = await openWebSocket(
        endpoint(base, o, "websocket", this.sid),
        o,
      );
    } catch {
      return; // stay on polling
    }
    this.#old.add(socket);
    if (this.#closed) return socket.close(false);
    const probed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), o.timeout);
      socket.onpacket = (p) => {
        clearTimeout(timer);
        resolve(p === "3probe");
      };
      socket.onclose = () => {
        clearTimeout(timer);
        resolve(false);
      };
      socket.start();
      socket.send(["2probe"]);
    });
    const polling = this.#t;
    if (!probed || this.#closed || polling.name !== "polling") {
      socket.close(false);
      return;
    }
    this.#held = [];
    socket.onpacket = () => {}; // nothing comes before `5`
    socket.onclose = () => {};
    await polling.pause();
    const held = this.#held;
    this.#held = undefined;
    if (this.#closed) return socket.close(false);
    this.#old.add(polling);
    polling.discard();
    this.#t = socket;
    socket.onpacket = (p) => this.#receive(p);
    socket.onclose = (reason) => this.#finish(reason);
    socket.send(["5", ...held]);
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

  /**
   * Sends socket.io messages. A message over the server's `maxPayload`
   * throws a `RangeError` (the server would drop the connection).
   */
  send(messages: readonly (string | Uint8Array)[]): void {
    const max = this.info.maxPayload;
    // sized for polling (base64) until upgraded: either may carry it
    const raw = this.#t.name === "websocket";
    const packets = messages.map((m) => typeof m === "string" ? "4" + m : m);
    for (const p of packets) {
      const size = packetSize(p, raw);
      if (size > max) {
        throw new RangeError(
          `Cannot send message: ${size} bytes exceed the server's maxPayload of ${max} bytes`,
        );
      }
    }
    this.#sendRaw(packets);
  }

  #sendRaw(packets: readonly (string | Uint8Array)[]): void {
    if (this.#closed) return;
    if (this.#held) this.#held.push(...packets);
    else this.#t.send(packets);
  }

  /** Resolves once every socket and request of this connection has ended (at most ~3 s). */
  async settled(): Promise<void> {
    await this.#probe;
    await Promise.all(
      [this.#t, ...this.#old].map((t) => t.settled().catch(() => {})),
    );
  }

  /** Closes the connection (sends the close packet first). */
  close(reason = "forced close"): void {
    if (this.#closed) return;
    this.#finish(reason, true);
  }

  #finish(reason: string, graceful = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#t.onclose = () => {};
    this.#t.close(graceful);
    for (const t of this.#old) t.close(false);
    this.onclose(reason);
  }
}
