/**
 * The event client's WebSocket transport (private).
 *
 * In Deno the client speaks RFC 6455 itself, on `Deno.connect` (or
 * `Deno.connectTls` for `wss:`), with the framing the event server uses
 * (`_event_websocket.ts`, client role): a frame header announcing more than
 * `maxPayload` bytes closes the connection before its payload is read, so a
 * hostile server cannot make the client buffer a huge message (Deno's
 * `WebSocket` buffers whole messages of up to 64 MiB first). The handshake
 * head is capped at 16 KiB and must arrive within the timeout.
 *
 * In browsers (no `Deno.connect`), and in Deno behind a proxy named in the
 * environment (`HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`, which Deno's own
 * `WebSocket` honours, as `fetch` does), the web `WebSocket` is used; a
 * message over `maxPayload` closes the connection too, but only once it
 * has been received.
 *
 * Either way the transport reports `"payload too large"` as its close
 * reason for an oversize message.
 *
 * @module
 */

import { HttpConn } from "./_event_http.ts";
import { acceptKey, ServerWebSocket } from "./_event_websocket.ts";

/** Close reason of a transport that refused an oversize message. */
export const TOO_LARGE = "payload too large";

/** Largest handshake response head the client reads. */
const MAX_HEAD = 16 * 1024;
/** Unsent bytes a client socket may queue (the server does not read). */
const MAX_BUFFERED = 64 * 1024 * 1024;

/** Options of one client WebSocket. */
export interface ClientSocketOptions {
  /** Milliseconds for the TCP connection and the handshake. */
  timeout: number;
  /** Largest incoming message in bytes. */
  maxPayload: number;
}

/** One Engine.IO WebSocket transport, as the engine client sees it. */
export interface ClientSocket {
  readonly name: "websocket";
  /** An engine packet (string) or a binary message. */
  onpacket: (packet: string | Uint8Array) => void;
  /** Called once when the socket ends. */
  onclose: (reason: string) => void;
  /** Delivers messages to `onpacket` from now on (queued until then). */
  start(): void;
  /** Sends engine packets, one message each. */
  send(packets: readonly (string | Uint8Array)[]): void;
  /** Closes the socket (after the close packet `1` when `graceful`). */
  close(graceful: boolean): void;
  /** Resolves once the socket has ended. */
  settled(): Promise<void>;
}

/** What the client uses of Deno, when running in Deno (browsers: none). */
interface DenoNet {
  connect: typeof Deno.connect;
  connectTls: typeof Deno.connectTls;
  env: { get(name: string): string | undefined };
  permissions: {
    querySync(d: { name: "env"; variable: string }): { state: string };
  };
}

/** Opens a WebSocket to `url` (`ws:`/`wss:`); rejects when it cannot. */
export function openWebSocket(
  url: string,
  o: ClientSocketOptions,
): Promise<ClientSocket> {
  // looked up at run time: the browser build holds no call to a Deno API
  const deno = (globalThis as { Deno?: DenoNet }).Deno;
  // Behind a proxy from the environment, Deno's own WebSocket goes through
  // it (as fetch does); weft's framing connects directly, so it steps aside.
  return typeof deno?.connect === "function" && !proxied(deno, new URL(url))
    ? openFramed(deno, url, o)
    : openWeb(url, o);
}

/**
 * Would Deno send a request for `url` through a proxy named in the
 * environment (`HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`, minus `NO_PROXY`)?
 * Variables the program may not read (no prompt is raised) count as unset.
 */
export function proxied(deno: DenoNet, url: URL): boolean {
  const read = (name: string) => {
    for (const variable of [name, name.toLowerCase()]) {
      try {
        const state = deno.permissions.querySync({ name: "env", variable });
        const value = state.state === "granted"
          ? deno.env.get(variable)
          : undefined;
        if (value) return value;
      } catch {
        // not allowed to ask
      }
    }
    return undefined;
  };
  const proxy = read(url.protocol === "wss:" ? "HTTPS_PROXY" : "HTTP_PROXY") ??
    read("ALL_PROXY");
  if (!proxy) return false;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  for (const raw of (read("NO_PROXY") ?? "").split(",")) {
    const entry = raw.trim().toLowerCase().replace(/^\*?\./, ".");
    if (entry === "*") return false;
    if (entry === "") continue;
    if (
      entry.startsWith(".")
        ? host.endsWith(entry) || host === entry.slice(1)
        : host === entry || host.endsWith("." + entry)
    ) return false;
  }
  return true;
}

/** Base of both kinds: queues messages until `start()`. */
abstract class Base {
  readonly name = "websocket" as const;
  onpacket: (packet: string | Uint8Array) => void = () => {};
  onclose: (reason: string) => void = () => {};
  #started = false;
  #early: (string | Uint8Array)[] = [];
  protected ended = false;

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const early = this.#early;
    this.#early = [];
    for (const m of early) this.onpacket(m);
  }

  protected deliver(message: string | Uint8Array): void {
    if (this.ended) return;
    if (this.#started) this.onpacket(message);
    else this.#early.push(message);
  }

  protected end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onclose(reason);
  }
}

/** Deno: weft's own framing over a TCP (or TLS) connection. */
class FramedSocket extends Base implements ClientSocket {
  #ws: ServerWebSocket;
  #run?: Promise<void>;

  constructor(http: HttpConn, maxPayload: number) {
    super();
    this.#ws = new ServerWebSocket(http, {
      maxPayload,
      maxBuffered: MAX_BUFFERED,
      client: true,
    });
    this.#ws.onmessage = (m) => this.deliver(m);
    this.#ws.onclose = (code) =>
      this.end(code === 1009 ? TOO_LARGE : "transport close");
    this.#run = this.#ws.run();
  }

  send(packets: readonly (string | Uint8Array)[]): void {
    for (const p of packets) this.#ws.send(p);
  }

  close(graceful: boolean): void {
    this.end("forced close");
    if (graceful && !this.#ws.closed) this.#ws.send("1");
    this.#ws.close(1000);
  }

  async settled(): Promise<void> {
    await this.#run;
  }
}

async function openFramed(
  net: DenoNet,
  url: string,
  o: ClientSocketOptions,
): Promise<ClientSocket> {
  const u = new URL(url);
  const tls = u.protocol === "wss:";
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port) || (tls ? 443 : 80);
  let http: HttpConn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    http?.close();
  }, o.timeout);
  try {
    const conn = tls
      ? await net.connectTls({ hostname, port })
      : await net.connect({ hostname, port });
    http = new HttpConn(conn);
    if (timedOut) throw new Error("timeout");
    if (!tls) (conn as Deno.TcpConn).setNoDelay(true);
    const raw = crypto.getRandomValues(new Uint8Array(16));
    const key = btoa(String.fromCharCode(...raw));
    await http.write(
      new TextEncoder().encode(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const head = await http.readResponseHead(MAX_HEAD);
    if (head.status !== 101) {
      throw new Error(
        `Cannot connect: the WebSocket handshake got HTTP ${head.status}`,
      );
    }
    if (head.headers.get("sec-websocket-accept") !== await acceptKey(key)) {
      throw new Error("Cannot connect: wrong Sec-WebSocket-Accept");
    }
    clearTimeout(timer);
    return new FramedSocket(http, o.maxPayload);
  } catch (error) {
    clearTimeout(timer);
    http?.close();
    if (timedOut) {
      throw new Error(
        `Cannot connect: no WebSocket handshake within ${o.timeout} ms`,
      );
    }
    throw error;
  }
}

/** Browsers: the web `WebSocket` (messages checked after receipt). */
class WebSocketWrapper extends Base implements ClientSocket {
  #ws: WebSocket;
  #closed: Promise<void>;

  constructor(ws: WebSocket, maxPayload: number) {
    super();
    this.#ws = ws;
    this.#closed = new Promise((resolve) =>
      ws.addEventListener("close", () => resolve(), { once: true })
    );
    ws.onmessage = (m) => {
      const data = typeof m.data === "string"
        ? m.data
        : new Uint8Array(m.data as ArrayBuffer);
      // a string's UTF-8 size is at least its length
      if (data.length > maxPayload) {
        ws.close(1009);
        return this.end(TOO_LARGE);
      }
      this.deliver(data);
    };
    ws.onclose = () => this.end("transport close");
  }

  send(packets: readonly (string | Uint8Array)[]): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    for (const p of packets) {
      this.#ws.send(p as string | Uint8Array<ArrayBuffer>);
    }
  }

  close(graceful: boolean): void {
    this.end("forced close");
    try {
      if (graceful && this.#ws.readyState === WebSocket.OPEN) {
        this.#ws.send("1");
      }
      this.#ws.close(1000);
    } catch {
      // already closing
    }
  }

  settled(): Promise<void> {
    return this.#closed;
  }
}

function openWeb(url: string, o: ClientSocketOptions): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      ws.onopen = ws.onclose = null;
      ws.close();
      reject(
        new Error(
          `Cannot connect: no WebSocket handshake within ${o.timeout} ms`,
        ),
      );
    }, o.timeout);
    ws.onerror = () => {};
    ws.onclose = (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot connect: WebSocket closed (code ${e.code})`));
    };
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(new WebSocketWrapper(ws, o.maxPayload));
    };
  });
}
