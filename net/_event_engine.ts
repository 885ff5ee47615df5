/**
 * Engine.IO 4 server: sessions over HTTP long-polling and WebSocket, the
 * upgrade probe, heartbeats and every size limit (private).
 *
 * | step | client                                        | server                                                   |
 * | ---- | --------------------------------------------- | -------------------------------------------------------- |
 * | 1    | `GET ?EIO=4&transport=polling` (or `websocket`) | new sid; answers the open packet `0{sid,upgrades,pingInterval,pingTimeout,maxPayload}` |
 * | 2    | `POST ?sid=` bodies (≤ `maxPayload`, checked from `Content-Length`), `GET ?sid=` polls (one at a time) | queued packets answer the pending poll, `\x1e`-joined, binary as `b<base64>` |
 * | 3    | WebSocket `?sid=`, sends `2probe`             | answers `3probe`, ends the pending poll (and any poll until `5`) with `6` (noop) |
 * | 4    | sends `5` (upgrade)                           | switches the session to the WebSocket, flushes the queue; polls are refused from now on |
 * | 5    | answers every `2` with `3`                    | pings every `pingInterval`; no pong within `pingTimeout` → closed ("ping timeout") |
 *
 * A session whose unsent packets exceed `maxBuffered` bytes (a poller that
 * never polls again, a WebSocket that never reads) is closed and its queue
 * dropped. An upgrade that does not finish within `upgradeTimeout` is
 * closed; the polling session goes on.
 *
 * @module
 */

import type { Head, HttpConn } from "./_event_http.ts";
import { writeSimple } from "./_event_http.ts";
import { acceptKey, encodeFrame, ServerWebSocket } from "./_event_websocket.ts";
import { decodePayload, encodePayload } from "./_event_packets.ts";
import { randomId } from "./_event_common.ts";

/**
 * The request that opened a session (python-socketio's `environ`).
 *
 * @example What the first request of a session looked like
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, type Environ, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * let seen: Environ | undefined;
 * server.on("connect", (_sid, environ: Environ) => void (seen = environ));
 * await using _client = await connectEvents(server.url, { transports: ["websocket"] });
 * assert.equal(seen?.transport, "websocket");
 * assert.equal(seen?.query.get("EIO"), "4");
 * assert.equal(seen?.remoteAddr.hostname, "127.0.0.1");
 * ```
 */
export interface Environ {
  /** Full URL of the first request, with its query string. */
  url: string;
  /** Query parameters of that request. */
  query: URLSearchParams;
  /** Its headers. */
  headers: Headers;
  /** Address of the peer. */
  remoteAddr: Deno.NetAddr;
  /** When the session opened. */
  time: Date;
  /** The first transport: `"polling"` or `"websocket"`. */
  transport: "polling" | "websocket";
}

/** Options of the engine. */
export interface EngineOptions {
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
  maxBuffered: number;
  upgradeTimeout: number;
  transports: readonly ("polling" | "websocket")[];
  /** Is a request with this `Origin` header (never `null` here) allowed? */
  cors: (origin: string, headers: Headers) => boolean;
  allowRequest?: (environ: Environ) => boolean;
}

/** A message prepared once for many sessions (broadcasts). */
export class Prepared {
  readonly messages: readonly (string | Uint8Array)[];
  #frames?: Uint8Array[];
  constructor(messages: readonly (string | Uint8Array)[]) {
    this.messages = messages.map((m) => typeof m === "string" ? "4" + m : m);
  }
  get frames(): Uint8Array[] {
    return this.#frames ??= this.messages.map((m) => encodeFrame(m));
  }
}

const ERRORS = {
  transport: [0, "Transport unknown"],
  sid: [1, "Session ID unknown"],
  method: [2, "Bad handshake method"],
  request: [3, "Bad request"],
  forbidden: [4, "Forbidden"],
  version: [5, "Unsupported protocol version"],
} as const;

interface Poll {
  http: HttpConn;
  keepAlive: boolean;
  resolve: () => void;
  headers: Record<string, string>;
}

/** One Engine.IO session. */
export class EngineSocket {
  readonly id: string = randomId(15);
  readonly environ: Environ;
  #engine: EngineServer;
  #transport: "polling" | "websocket";
  #ws?: ServerWebSocket;
  #queue: (string | Uint8Array)[] = [];
  #queued = 0;
  #poll?: Poll;
  #upgrading = false;
  /** Probed (`2probe` answered): polls end at once until the switch. */
  #probed = false;
  #closed = false;
  #pingTimer?: ReturnType<typeof setTimeout>;
  #pongTimer?: ReturnType<typeof setTimeout>;
  #flushScheduled = false;
  /** A socket.io-level message (the text after `4`, or bytes). */
  onmessage: (data: string | Uint8Array) => void = () => {};
  /** The session ended. */
  onclose: (reason: string) => void = () => {};

  constructor(engine: EngineServer, environ: Environ) {
    this.#engine = engine;
    this.environ = environ;
    this.#transport = environ.transport;
  }

  get transport(): "polling" | "websocket" {
    return this.#transport;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The open packet. */
  openPacket(): string {
    const o = this.#engine.options;
    return "0" + JSON.stringify({
      sid: this.id,
      upgrades:
        this.#transport === "polling" && o.transports.includes("websocket")
          ? ["websocket"]
          : [],
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
      maxPayload: o.maxPayload,
    });
  }

  /** Sends socket.io messages (each prefixed with `4` when text). */
  send(messages: readonly (string | Uint8Array)[]): void {
    this.sendPrepared(new Prepared(messages));
  }

  /** Sends a prepared message (frames shared across sessions). */
  sendPrepared(p: Prepared): void {
    if (this.#closed) return;
    if (this.#transport === "websocket" && this.#ws && !this.#upgrading) {
      for (const f of p.frames) this.#ws.sendFrame(f);
      return;
    }
    for (const m of p.messages) this.#enqueue(m);
  }

  #enqueue(packet: string | Uint8Array): void {
    this.#queue.push(packet);
    this.#queued += typeof packet === "string"
      ? packet.length
      : packet.length * 4 / 3;
    if (this.#queued > this.#engine.options.maxBuffered) {
      this.#queue = [];
      this.#queued = 0;
      this.close("Send buffer full: the client does not poll");
      return;
    }
    if (this.#poll && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const poll = this.#poll;
    if (!poll || this.#queue.length === 0) return;
    this.#poll = undefined;
    const body = encodePayload(this.#queue);
    this.#queue = [];
    this.#queued = 0;
    writeSimple(poll.http, 200, poll.headers, body, poll.keepAlive)
      .catch(() => poll.http.close())
      .finally(poll.resolve);
  }

  /** Starts the heartbeat. */
  startHeartbeat(): void {
    const o = this.#engine.options;
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined;
      this.#sendEngine("2");
      this.#pongTimer = setTimeout(
        () => this.close("ping timeout"),
        o.pingTimeout,
      );
    }, o.pingInterval);
  }

  #sendEngine(packet: string): void {
    if (this.#closed) return;
    if (this.#transport === "websocket" && this.#ws && !this.#upgrading) {
      this.#ws.send(packet);
    } else this.#enqueue(packet);
  }

  /** Handles one engine packet from either transport. */
  receive(packet: string | Uint8Array): void {
    if (this.#closed) return;
    if (typeof packet !== "string") return this.onmessage(packet);
    switch (packet[0]) {
      case "4":
        return this.onmessage(packet.slice(1));
      case "3":
        clearTimeout(this.#pongTimer);
        this.#pongTimer = undefined;
        return this.startHeartbeat();
      case "1":
        return this.close("transport close");
      case "6":
        return;
      default:
        return this.close("parse error");
    }
  }

  /** A polling GET (long poll). */
  poll(
    http: HttpConn,
    keepAlive: boolean,
    headers: Record<string, string>,
  ): Promise<void> {
    if (this.#transport !== "polling") {
      // a poll that raced the upgrade: refuse it, the session goes on
      return engineError(http, ERRORS.request, keepAlive, headers);
    }
    if (this.#poll) {
      this.close("transport error: overlapping polls");
      return engineError(http, ERRORS.request, keepAlive, headers);
    }
    return new Promise<void>((resolve) => {
      this.#poll = { http, keepAlive, resolve, headers };
      // a client pausing for the upgrade must not wait out a long poll
      if (this.#queue.length === 0 && this.#probed) this.#enqueue("6");
      else if (this.#queue.length > 0) this.#flush();
    });
  }

  /** A polling POST with its body (already read, at most `maxPayload` bytes). */
  async post(
    http: HttpConn,
    head: Head,
    body: Uint8Array,
    headers: Record<string, string>,
  ): Promise<void> {
    if (this.#transport !== "polling") {
      this.close("transport error");
      return engineError(http, ERRORS.request, head.keepAlive, headers);
    }
    let packets: (string | Uint8Array)[];
    try {
      packets = decodePayload(
        new TextDecoder("utf-8", { fatal: true }).decode(body),
      );
    } catch {
      this.close("parse error");
      return engineError(http, ERRORS.request, head.keepAlive, headers);
    }
    await writeSimple(
      http,
      200,
      { ...headers, "Content-Type": "text/html" },
      "ok",
      head.keepAlive,
    );
    for (const p of packets) this.receive(p);
  }

  /** Attaches a WebSocket: directly (new session) or as an upgrade. */
  attach(ws: ServerWebSocket, upgrade: boolean): void {
    if (!upgrade) {
      this.#ws = ws;
      ws.onmessage = (m) => this.receive(m);
      ws.onclose = (code, why) => this.close(wsReason(code, why));
      return;
    }
    if (this.#upgrading || this.#transport !== "polling") {
      ws.close(1002, "Upgrade not allowed");
      return;
    }
    this.#upgrading = true;
    const timer = setTimeout(() => {
      this.#upgrading = this.#probed = false;
      ws.close(1002, "Upgrade timeout");
    }, this.#engine.options.upgradeTimeout);
    ws.onclose = () => {
      clearTimeout(timer);
      if (this.#upgrading) this.#upgrading = this.#probed = false;
    };
    ws.onmessage = (m) => {
      if (m === "2probe") {
        ws.send("3probe");
        this.#probed = true;
        this.#enqueue("6");
        return;
      }
      if (m === "5") {
        clearTimeout(timer);
        this.#upgrading = this.#probed = false;
        this.#transport = "websocket";
        this.#ws = ws;
        ws.onmessage = (msg) => this.receive(msg);
        ws.onclose = (code, why) => this.close(wsReason(code, why));
        const poll = this.#poll;
        if (poll) {
          this.#poll = undefined;
          writeSimple(poll.http, 200, poll.headers, "6", poll.keepAlive)
            .catch(() => {}).finally(poll.resolve);
        }
        const queued = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        for (const p of queued) if (p !== "6") ws.send(p);
        return;
      }
      clearTimeout(timer);
      this.#upgrading = this.#probed = false;
      ws.close(1002, "Invalid upgrade");
    };
  }

  /** Ends the session (idempotent). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    this.#engine.sessions.delete(this.id);
    if (this.#ws) {
      const code = reason.startsWith("parse error")
        ? 1002
        : reason === "server shutting down"
        ? 1001
        : reason === "transport close"
        ? 1000
        : 1008;
      this.#ws.close(code, reason);
    }
    const poll = this.#poll;
    if (poll) {
      this.#poll = undefined;
      writeSimple(poll.http, 200, poll.headers, "1", poll.keepAlive)
        .catch(() => poll.http.close()).finally(poll.resolve);
    }
    this.#queue = [];
    this.#queued = 0;
    try {
      this.onclose(reason);
    } catch {
      // the owner's callback
    }
  }
}

function wsReason(code: number, reason: string): string {
  return code === 1000 || code === 1001 || code === 1005 || code === 1006 ||
      !reason
    ? "transport close"
    : reason;
}

function engineError(
  http: HttpConn,
  [code, message]: readonly [number, string],
  keepAlive: boolean,
  headers: Record<string, string>,
  status = 400,
): Promise<void> {
  return writeSimple(
    http,
    status,
    { ...headers, "Content-Type": "application/json" },
    JSON.stringify({ code, message }),
    keepAlive,
  );
}

/** Sessions of one server, and the HTTP entry point. */
export class EngineServer {
  readonly options: EngineOptions;
  readonly sessions: Map<string, EngineSocket> = new Map();
  /** Called for each new session (before any message). */
  onsession: (socket: EngineSocket) => void = () => {};

  constructor(options: EngineOptions) {
    this.options = options;
  }

  #corsHeaders(head: Head): Record<string, string> | undefined {
    const origin = head.headers.get("origin");
    if (origin === null) return {};
    if (!this.options.cors(origin, head.headers)) return undefined;
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Credentials": "true",
      "Vary": "Origin",
    };
  }

  /**
   * Handles one request on the engine path. Returns `"upgraded"` when the
   * connection now belongs to a WebSocket.
   */
  async handle(
    http: HttpConn,
    head: Head,
    body: Uint8Array,
    url: URL,
    remoteAddr: Deno.NetAddr,
  ): Promise<"done" | "upgraded"> {
    const q = url.searchParams;
    const cors = this.#corsHeaders(head);
    const keepAlive = head.keepAlive;
    if (cors === undefined) {
      await engineError(http, ERRORS.forbidden, keepAlive, {}, 403);
      return "done";
    }
    if (head.method === "OPTIONS") {
      await writeSimple(
        http,
        204,
        {
          ...cors,
          "Access-Control-Allow-Methods": "GET, POST",
          "Access-Control-Allow-Headers":
            head.headers.get("access-control-request-headers") ?? "",
        },
        "",
        keepAlive,
      );
      return "done";
    }
    const headers = { ...cors, "Content-Type": "text/plain; charset=UTF-8" };
    if (q.get("EIO") !== "4") {
      await engineError(http, ERRORS.version, keepAlive, headers);
      return "done";
    }
    const transport = q.get("transport");
    if (
      (transport !== "polling" && transport !== "websocket") ||
      !this.options.transports.includes(transport)
    ) {
      await engineError(http, ERRORS.transport, keepAlive, headers);
      return "done";
    }
    const sid = q.get("sid");
    const isUpgrade =
      head.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (transport === "websocket") {
      if (!isUpgrade || head.method !== "GET") {
        await engineError(http, ERRORS.request, keepAlive, headers);
        return "done";
      }
      let session: EngineSocket | undefined;
      if (sid !== null) {
        session = this.sessions.get(sid);
        if (!session || session.transport !== "polling") {
          await engineError(http, ERRORS.sid, keepAlive, headers);
          return "done";
        }
      } else {
        const environ = this.#environ(url, head, remoteAddr, "websocket");
        if (this.options.allowRequest && !this.options.allowRequest(environ)) {
          await engineError(http, ERRORS.forbidden, keepAlive, headers, 403);
          return "done";
        }
        session = new EngineSocket(this, environ);
      }
      const key = head.headers.get("sec-websocket-key");
      if (!key || head.headers.get("sec-websocket-version") !== "13") {
        await engineError(http, ERRORS.request, keepAlive, headers);
        return "done";
      }
      await http.write(new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`,
      ));
      const ws = new ServerWebSocket(http, {
        maxPayload: this.options.maxPayload,
        maxBuffered: this.options.maxBuffered,
      });
      if (sid !== null) {
        session.attach(ws, true);
      } else {
        session.attach(ws, false);
        this.sessions.set(session.id, session);
        ws.send(session.openPacket());
        session.startHeartbeat();
        this.onsession(session);
      }
      await ws.run();
      return "upgraded";
    }
    // polling
    if (sid === null) {
      if (head.method !== "GET") {
        await engineError(http, ERRORS.method, keepAlive, headers);
        return "done";
      }
      const environ = this.#environ(url, head, remoteAddr, "polling");
      if (this.options.allowRequest && !this.options.allowRequest(environ)) {
        await engineError(http, ERRORS.forbidden, keepAlive, headers, 403);
        return "done";
      }
      const session = new EngineSocket(this, environ);
      this.sessions.set(session.id, session);
      await writeSimple(http, 200, headers, session.openPacket(), keepAlive);
      session.startHeartbeat();
      this.onsession(session);
      return "done";
    }
    const session = this.sessions.get(sid);
    if (!session) {
      await engineError(http, ERRORS.sid, keepAlive, headers);
      return "done";
    }
    if (head.method === "GET") await session.poll(http, keepAlive, headers);
    else if (head.method === "POST") {
      await session.post(http, head, body, headers);
    } else await engineError(http, ERRORS.method, keepAlive, headers);
    return "done";
  }

  #environ(
    url: URL,
    head: Head,
    remoteAddr: Deno.NetAddr,
    transport: "polling" | "websocket",
  ): Environ {
    return {
      url: url.href,
      query: url.searchParams,
      headers: head.headers,
      remoteAddr,
      time: new Date(),
      transport,
    };
  }

  /** Closes every session. */
  closeAll(reason: string): void {
    for (const s of [...this.sessions.values()]) s.close(reason);
  }
}
