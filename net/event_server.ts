/**
 * An event server with rooms over WebSocket: Python's `python-socketio`
 * model on `Deno.serve` and `Deno.upgradeWebSocket`.
 *
 * @module
 */

import {
  AckTimeoutError,
  checkEventName,
  checkMs,
  CLOSE,
  decodeFrame,
  dispatchEvent,
  encodeData,
  encodePacket,
  type EventHandler,
  type Frame,
  frameSize,
  Handlers,
  newSessionId,
  type Packet,
  PendingAcks,
  RESERVED_EVENTS,
  sizeOver,
} from "./_event_protocol.ts";
import {
  answer,
  AUTH_ALGORITHM,
  EventAuthError,
  isNonce,
  keyBytes,
  MAX_AUTH_MESSAGE,
  newNonce,
  verify,
} from "./_event_auth.ts";

export { AckTimeoutError, EventAuthError };
export type { EventHandler };

/**
 * Asks `emit` for an acknowledgement: it then returns a promise of the answer.
 *
 * @example
 * ```ts
 * import type { AckOptions } from "@weft/weft/net";
 *
 * const options: AckOptions = { ack: true, timeout: 2000 };
 * console.log(options.ack); // true
 * ```
 */
export interface AckOptions {
  /** Wait for the receiver's handler to answer. */
  ack: true;
  /** Milliseconds to wait before rejecting with {@linkcode AckTimeoutError} (default: the server's `ackTimeout`). */
  timeout?: number;
}

/**
 * Whom {@linkcode EventServer.emit} sends to (default: every client).
 *
 * @example
 * ```ts
 * import type { BroadcastOptions } from "@weft/weft/net";
 *
 * // room "general", except the client with this session id
 * const options: BroadcastOptions = { room: "general", skip: "a-session-id" };
 * console.log(options.room); // "general"
 * ```
 */
export interface BroadcastOptions {
  /** Only the members of this room (or of any of these rooms). */
  room?: string | readonly string[];
  /** Only this client (a socket or its session id). */
  to?: EventSocket | string;
  /** Leave out this client (or these), usually the sender. */
  skip?: EventSocket | string | readonly (EventSocket | string)[];
}

/**
 * Options of {@linkcode serveEvents}.
 *
 * @example Fast heartbeats, small messages, a shared secret
 * ```ts
 * import { type ServeEventsOptions, serveEvents } from "@weft/weft/net";
 *
 * const options: ServeEventsOptions = {
 *   port: 0,
 *   authKey: crypto.getRandomValues(new Uint8Array(32)),
 *   maxMessageSize: 64 * 1024,
 *   pingInterval: 5000,
 *   pingTimeout: 5000,
 * };
 * await using server = serveEvents(options);
 * console.log(server.addr.hostname); // "127.0.0.1"
 * ```
 */
export interface ServeEventsOptions {
  /** Interface to bind (default `"127.0.0.1"`: loopback only). */
  hostname?: string;
  /** TCP port (default `0`: a free port, see `server.addr`). */
  port?: number;
  /** URL path of the WebSocket endpoint (default `"/events"`). */
  path?: string;
  /** Called once per client after its handshake; register handlers here, synchronously. */
  onConnection?: (socket: EventSocket) => unknown;
  /** Serves every other HTTP request (pages, scripts); default answers 404. */
  handler?: (request: Request) => Response | Promise<Response>;
  /**
   * Decides from the `Origin` header (`null` when absent, as from Deno
   * clients) whether a WebSocket upgrade is accepted; refused ones get 403.
   * Default: all. Browsers let any web page open a WebSocket to a loopback
   * server, so a server without `authKey` that serves pages should accept
   * only its own origin.
   */
  allowOrigin?: (origin: string | null, request: Request) => boolean;
  /** Shared secret: clients must pass the HMAC-SHA256 handshake before any event. */
  authKey?: Uint8Array | string;
  /** Milliseconds a client has to pass the handshake (default 5000). */
  authTimeout?: number;
  /** Largest message in bytes, either direction (default 1 MiB). */
  maxMessageSize?: number;
  /** Milliseconds between heartbeat pings (default 25000). */
  pingInterval?: number;
  /** Milliseconds a client has to answer a ping before it is dropped (default 20000). */
  pingTimeout?: number;
  /** Default acknowledgement timeout in milliseconds (default 10000). */
  ackTimeout?: number;
  /** Aborting it shuts the server down, like `shutdown()`. */
  signal?: AbortSignal;
  /** Called with the bound address once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Errors thrown by handlers that had no acknowledgement to carry them (default: `console.error`). */
  onError?: (error: unknown, socket: EventSocket) => void;
}

/**
 * One connected client as the server sees it.
 *
 * @example Answer an event and greet a room
 * ```ts
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({
 *   onConnection(socket) {
 *     socket.join("lobby");
 *     socket.on("hello", (name) => `hi ${name}, you are ${socket.id}`);
 *   },
 * });
 * await using client = await connectEvents(server.url);
 * console.log(await client.emit("hello", "ada", { ack: true }));
 * ```
 */
export interface EventSocket {
  /** Session id, unique per connection (a reconnecting client gets a new one). */
  readonly id: string;
  /** Rooms this client is in (a copy). */
  readonly rooms: ReadonlySet<string>;
  /** Free-form per-client state for the application (e.g. a nickname). */
  readonly data: Record<string, unknown>;
  /** Address of the peer. */
  readonly remoteAddr: Deno.NetAddr;
  /** `true` once disconnected for any reason. */
  readonly closed: boolean;
  /** Resolves with the disconnect reason. */
  readonly finished: Promise<string>;
  /**
   * Adds a handler for `event`; its (awaited) return value answers an
   * acknowledgement request. `"disconnect"` handlers get the reason.
   */
  on(event: string, handler: EventHandler): this;
  /** Removes one handler, or all handlers of `event`. */
  off(event: string, handler?: EventHandler): this;
  /** Sends an event to this client; `false` if it is already closed. */
  emit(event: string, data?: unknown, options?: { ack?: false }): boolean;
  /** Sends an event and resolves with the client's answer. */
  emit(event: string, data: unknown, options: AckOptions): Promise<unknown>;
  /** Joins `room` (idempotent). */
  join(room: string): void;
  /** Leaves `room` (idempotent). */
  leave(room: string): void;
  /** Closes the connection (code 1000): the client does not reconnect. */
  disconnect(reason?: string): void;
}

interface Resolved {
  authKey?: Uint8Array;
  authTimeout: number;
  maxMessageSize: number;
  pingInterval: number;
  pingTimeout: number;
  ackTimeout: number;
  onConnection?: (socket: EventSocket) => unknown;
  onError: (error: unknown, socket: EventSocket) => void;
}

/** Close reasons are capped at 123 bytes by the WebSocket protocol. */
function closeReason(reason: string): string {
  let out = reason;
  while (frameSize(out) > 123) out = out.slice(0, -1);
  return out;
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    if (ws.readyState <= WebSocket.OPEN) ws.close(code, closeReason(reason));
  } catch {
    // already closing
  }
}

class Session implements EventSocket {
  readonly id: string;
  readonly data: Record<string, unknown> = {};
  readonly remoteAddr: Deno.NetAddr;
  readonly finished: Promise<string>;
  #hub: Hub;
  #ws: WebSocket;
  #opts: Resolved;
  #rooms = new Set<string>();
  #handlers = new Handlers();
  #pending = new PendingAcks();
  #closed = false;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveFinished!: (reason: string) => void;

  constructor(
    hub: Hub,
    ws: WebSocket,
    remoteAddr: Deno.NetAddr,
    opts: Resolved,
  ) {
    this.id = newSessionId();
    this.#hub = hub;
    this.#ws = ws;
    this.remoteAddr = remoteAddr;
    this.#opts = opts;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
  }

  get rooms(): ReadonlySet<string> {
    return new Set(this.#rooms);
  }

  get closed(): boolean {
    return this.#closed;
  }

  on(event: string, handler: EventHandler): this {
    this.#handlers.add(checkEventName(event, "add event handler"), handler);
    return this;
  }

  off(event: string, handler?: EventHandler): this {
    this.#handlers.remove(event, handler);
    return this;
  }

  emit(event: string, data?: unknown, options?: { ack?: false }): boolean;
  emit(event: string, data: unknown, options: AckOptions): Promise<unknown>;
  emit(
    event: string,
    data?: unknown,
    options?: { ack?: boolean; timeout?: number },
  ): boolean | Promise<unknown> {
    checkOutgoingName(event);
    if (options?.ack) {
      const timeout = checkMs(
        options.timeout,
        this.#opts.ackTimeout,
        "timeout",
      );
      if (this.#closed) {
        return Promise.reject(
          new TypeError(
            `Cannot emit event ${JSON.stringify(event)}: the socket is closed`,
          ),
        );
      }
      const [id, promise] = this.#pending.create(event, timeout);
      try {
        this.sendFrame(encodeChecked(event, data, id, this.#opts));
      } catch (error) {
        this.#pending.fail(id, error);
      }
      return promise;
    }
    const frame = encodeChecked(event, data, undefined, this.#opts);
    return this.sendFrame(frame);
  }

  join(room: string): void {
    checkRoom(room, "join room");
    if (this.#closed || this.#rooms.has(room)) return;
    this.#rooms.add(room);
    this.#hub.add(room, this);
  }

  leave(room: string): void {
    checkRoom(room, "leave room");
    if (!this.#rooms.delete(room)) return;
    this.#hub.remove(room, this);
  }

  /** Called by the hub when a room is closed. */
  forgetRoom(room: string): void {
    this.#rooms.delete(room);
  }

  disconnect(reason = "Disconnected by the server"): void {
    this.terminate(CLOSE.normal, reason);
  }

  /** Sends an encoded frame; `false` when the socket is closed. */
  sendFrame(frame: Frame): boolean {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(frame as string | Uint8Array<ArrayBuffer>);
    return true;
  }

  /** Handles one received message. */
  receive(message: string | ArrayBuffer): void {
    if (this.#closed) return;
    const size = sizeOver(message, this.#opts.maxMessageSize);
    if (size) {
      this.terminate(
        CLOSE.tooBig,
        `Message too big: ${size} bytes exceeds the limit of ${this.#opts.maxMessageSize} bytes`,
      );
      return;
    }
    let packet: Packet;
    try {
      packet = decodeFrame(message);
    } catch (error) {
      this.terminate(CLOSE.protocolError, (error as Error).message);
      return;
    }
    switch (packet.t) {
      case "P":
        clearTimeout(this.#pongTimer);
        this.#pongTimer = undefined;
        this.#schedulePing();
        return;
      case "a":
        this.#pending.settle(packet.id, packet.d, packet.e);
        return;
      case "e": {
        if (RESERVED_EVENTS.has(packet.n)) {
          if (packet.id !== undefined) {
            this.sendFrame(encodePacket({
              t: "a",
              id: packet.id,
              e: `event name ${JSON.stringify(packet.n)} is reserved`,
            }));
          }
          return;
        }
        dispatchEvent(
          this.#handlers,
          packet,
          (error) => this.#opts.onError(error, this),
        )?.then((reply) => {
          if (sizeOver(reply, this.#opts.maxMessageSize)) {
            reply = encodePacket({
              t: "a",
              id: packet.id!,
              e: "acknowledgement exceeds the message size limit",
            });
          }
          this.sendFrame(reply);
        });
        return;
      }
      default:
        this.terminate(
          CLOSE.protocolError,
          `Protocol error: unexpected packet type "${packet.t}"`,
        );
    }
  }

  /** Starts the heartbeat. */
  start(): void {
    this.#schedulePing();
  }

  #schedulePing(): void {
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined;
      if (!this.sendFrame(encodePacket({ t: "p" }))) return;
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = undefined;
        this.terminate(
          CLOSE.pingTimeout,
          `Ping timeout: no pong within ${this.#opts.pingTimeout} ms`,
        );
      }, this.#opts.pingTimeout);
    }, this.#opts.pingInterval);
  }

  /**
   * Ends the session at once (even if the peer is gone and never answers the
   * close frame): leaves every room, rejects pending acks, runs the
   * `"disconnect"` handlers.
   */
  terminate(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    for (const room of this.#rooms) this.#hub.remove(room, this);
    this.#rooms.clear();
    this.#hub.sessions.delete(this.id);
    this.#pending.rejectAll(`the connection closed (${reason})`);
    safeClose(this.#ws, code, reason);
    const handlers = this.#handlers.get("disconnect")?.slice() ?? [];
    this.#handlers.clear();
    for (const handler of handlers) {
      try {
        const result = handler(reason);
        if (result instanceof Promise) {
          result.catch((error) => this.#opts.onError(error, this));
        }
      } catch (error) {
        this.#opts.onError(error, this);
      }
    }
    this.#resolveFinished(reason);
  }

  /** For debugging output. */
  toString(): string {
    return `EventSocket(${this.id})`;
  }
}

function checkOutgoingName(event: string): void {
  checkEventName(event, "emit event");
  if (RESERVED_EVENTS.has(event)) {
    throw new TypeError(
      `Cannot emit event ${JSON.stringify(event)}: the name is reserved`,
    );
  }
}

function checkRoom(room: unknown, action: string): void {
  if (typeof room !== "string" || room.length === 0) {
    throw new TypeError(`Cannot ${action}: room must be a non-empty string`);
  }
}

function encodeChecked(
  event: string,
  data: unknown,
  ackId: number | undefined,
  opts: Resolved,
): Frame {
  let frame: Frame;
  try {
    frame = encodeData("e", event, data, ackId);
  } catch (error) {
    throw new TypeError(
      `Cannot emit event ${
        JSON.stringify(event)
      }: data is neither JSON-serializable nor a Uint8Array`,
      { cause: error },
    );
  }
  const size = sizeOver(frame, opts.maxMessageSize);
  if (size) {
    throw new RangeError(
      `Cannot emit event ${
        JSON.stringify(event)
      }: message of ${size} bytes exceeds the limit of ${opts.maxMessageSize} bytes`,
    );
  }
  return frame;
}

/** Rooms and sessions of one server. */
class Hub {
  sessions = new Map<string, Session>();
  rooms = new Map<string, Set<Session>>();

  add(room: string, session: Session): void {
    const members = this.rooms.get(room);
    if (members) members.add(session);
    else this.rooms.set(room, new Set([session]));
  }

  remove(room: string, session: Session): void {
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(session);
    if (members.size === 0) this.rooms.delete(room);
  }
}

/**
 * A running event server, returned by {@linkcode serveEvents}.
 *
 * @example Broadcast to a room, leaving out the sender
 * ```ts
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({
 *   onConnection(socket) {
 *     socket.on("join", (room) => socket.join(String(room)));
 *     socket.on("say", (text) => {
 *       server.emit("said", text, { room: "r1", skip: socket });
 *     });
 *   },
 * });
 * await using alice = await connectEvents(server.url);
 * await using bob = await connectEvents(server.url);
 * await alice.emit("join", "r1", { ack: true });
 * await bob.emit("join", "r1", { ack: true });
 * const heard = new Promise((resolve) => bob.on("said", resolve));
 * alice.emit("say", "hello");
 * console.log(await heard); // "hello"
 * ```
 */
export class EventServer implements AsyncDisposable {
  #http: Deno.HttpServer<Deno.NetAddr>;
  #opts: Resolved;
  #path: string;
  #hub = new Hub();
  #raw = new Map<WebSocket, Promise<void>>();
  #closing = false;
  #finished: Promise<void>;
  #resolveFinished!: () => void;
  #signal?: AbortSignal;
  #onAbort = () => void this.shutdown();

  /** Use {@linkcode serveEvents}. */
  constructor(options: ServeEventsOptions = {}) {
    const o = options;
    if (typeof o !== "object" || o === null) {
      throw new TypeError("Invalid options: expected an object");
    }
    const hostname = o.hostname ?? "127.0.0.1";
    if (typeof hostname !== "string") {
      throw new TypeError('Invalid option "hostname": expected a string');
    }
    const port = o.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError('Invalid option "port": expected 0 to 65535');
    }
    this.#path = o.path ?? "/events";
    if (typeof this.#path !== "string" || !this.#path.startsWith("/")) {
      throw new TypeError(
        'Invalid option "path": expected a string starting with "/"',
      );
    }
    for (
      const field of [
        "onConnection",
        "handler",
        "onListen",
        "onError",
        "allowOrigin",
      ] as const
    ) {
      if (o[field] !== undefined && typeof o[field] !== "function") {
        throw new TypeError(`Invalid option "${field}": expected a function`);
      }
    }
    const maxMessageSize = o.maxMessageSize ?? 1024 * 1024;
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 64) {
      throw new RangeError(
        'Invalid option "maxMessageSize": expected an integer of at least 64',
      );
    }
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
      throw new TypeError('Invalid option "signal": expected an AbortSignal');
    }
    this.#opts = {
      authKey: o.authKey === undefined
        ? undefined
        : keyBytes(o.authKey, "authKey"),
      authTimeout: checkMs(o.authTimeout, 5000, "authTimeout"),
      maxMessageSize,
      pingInterval: checkMs(o.pingInterval, 25000, "pingInterval"),
      pingTimeout: checkMs(o.pingTimeout, 20000, "pingTimeout"),
      ackTimeout: checkMs(o.ackTimeout, 10000, "ackTimeout"),
      onConnection: o.onConnection,
      onError: o.onError ??
        ((error, socket) =>
          console.error(`event handler of ${socket.id} failed:`, error)),
    };
    this.#finished = new Promise((resolve) => this.#resolveFinished = resolve);
    const fallback = o.handler ??
      (() => new Response("Not found", { status: 404 }));
    this.#http = Deno.serve({
      hostname,
      port,
      onListen: (addr) => o.onListen?.(addr as Deno.NetAddr),
    }, (request, info) => {
      const url = new URL(request.url);
      if (url.pathname !== this.#path) return fallback(request);
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Expected a WebSocket upgrade", { status: 426 });
      }
      if (this.#closing) {
        return new Response("Server shutting down", { status: 503 });
      }
      if (
        o.allowOrigin &&
        !o.allowOrigin(request.headers.get("origin"), request)
      ) {
        return new Response("Origin not allowed", { status: 403 });
      }
      const remoteAddr = info.remoteAddr as Deno.NetAddr; // read before upgrading
      const { socket, response } = Deno.upgradeWebSocket(request, {
        idleTimeout: 0, // heartbeats are ours (app-level ping/pong)
      });
      this.#accept(socket, remoteAddr);
      return response;
    });
    this.#signal = o.signal;
    if (o.signal?.aborted) void this.shutdown();
    else o.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Bound address (with the real port when `port` was 0). */
  get addr(): Deno.NetAddr {
    return this.#http.addr;
  }

  /** `ws://` URL of the event endpoint, for {@linkcode connectEvents}. */
  get url(): string {
    const { hostname, port } = this.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `ws://${host}:${port}${this.#path}`;
  }

  /** Connected clients (after their handshake), by session id. */
  get sockets(): ReadonlyMap<string, EventSocket> {
    return new Map(this.#hub.sessions);
  }

  /** Names of the rooms that have at least one member. */
  get rooms(): string[] {
    return [...this.#hub.rooms.keys()];
  }

  /** `true` once `shutdown()` started. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Resolves when the server has shut down and every socket is closed. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Members of `room` (empty when the room does not exist). */
  members(room: string): EventSocket[] {
    return [...this.#hub.rooms.get(room) ?? []];
  }

  /**
   * Sends `event` to every client, to a room (`room`), or to one client
   * (`to`), leaving out `skip`. Encodes once for all recipients and returns
   * their count.
   */
  emit(event: string, data?: unknown, options?: BroadcastOptions): number;
  /** The same, waiting for every recipient's acknowledgement. */
  emit(
    event: string,
    data: unknown,
    options: BroadcastOptions & AckOptions,
  ): Promise<unknown[]>;
  emit(
    event: string,
    data?: unknown,
    options: BroadcastOptions & { ack?: boolean; timeout?: number } = {},
  ): number | Promise<unknown[]> {
    checkOutgoingName(event);
    const targets = this.#targets(options);
    if (options.ack) {
      const timeout = checkMs(
        options.timeout,
        this.#opts.ackTimeout,
        "timeout",
      );
      return Promise.all(
        targets.map((s) => s.emit(event, data, { ack: true, timeout })),
      );
    }
    const frame = encodeChecked(event, data, undefined, this.#opts);
    let sent = 0;
    for (const session of targets) if (session.sendFrame(frame)) sent++;
    return sent;
  }

  #targets(options: BroadcastOptions): Session[] {
    const hub = this.#hub;
    const sessionOf = (s: EventSocket | string) =>
      typeof s === "string" ? hub.sessions.get(s) : s as Session;
    let targets: Iterable<Session>;
    if (options.to !== undefined) {
      const one = sessionOf(options.to);
      targets = one && !one.closed ? [one] : [];
    } else if (options.room !== undefined) {
      const rooms = typeof options.room === "string"
        ? [options.room]
        : options.room;
      const set = new Set<Session>();
      for (const room of rooms) {
        for (const s of hub.rooms.get(room) ?? []) set.add(s);
      }
      targets = set;
    } else targets = hub.sessions.values();
    const skip = options.skip === undefined
      ? []
      : (Array.isArray(options.skip) ? options.skip : [options.skip]);
    const skipped = new Set(skip.map(sessionOf));
    return [...targets].filter((s) => !skipped.has(s));
  }

  /** Makes every member leave `room`. */
  closeRoom(room: string): void {
    const members = this.#hub.rooms.get(room);
    if (!members) return;
    this.#hub.rooms.delete(room);
    for (const session of members) session.forgetRoom(room);
  }

  /**
   * Closes every socket (code 1001: clients may reconnect elsewhere), stops
   * listening and resolves once all is closed. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      for (const session of [...this.#hub.sessions.values()]) {
        session.terminate(CLOSE.goingAway, "Server shutting down");
      }
      for (const ws of this.#raw.keys()) {
        safeClose(ws, CLOSE.goingAway, "Server shutting down");
      }
      // A vanished peer never answers the close frame: wait a bounded time.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(this.#raw.values()),
        new Promise((resolve) => timer = setTimeout(resolve, 2000)),
      ]);
      clearTimeout(timer);
      await this.#http.shutdown();
      this.#resolveFinished();
    }
    return this.#finished;
  }

  /** Same as `shutdown()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #accept(ws: WebSocket, remoteAddr: Deno.NetAddr): void {
    ws.binaryType = "arraybuffer";
    this.#raw.set(
      ws,
      new Promise<void>((resolve) =>
        ws.addEventListener("close", () => {
          this.#raw.delete(ws);
          resolve();
        }, { once: true })
      ),
    );
    ws.addEventListener("error", () => {}); // reported through "close"
    ws.onopen = () => {
      if (this.#closing) {
        safeClose(ws, CLOSE.goingAway, "Server shutting down");
      } else if (this.#opts.authKey) this.#authenticate(ws, remoteAddr);
      else this.#open(ws, remoteAddr, undefined);
    };
  }

  #authenticate(ws: WebSocket, remoteAddr: Deno.NetAddr): void {
    const key = this.#opts.authKey!;
    const nonce = newNonce();
    let done = false;
    const fail = (detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.onmessage = null;
      safeClose(ws, CLOSE.authFailed, `Authentication failed: ${detail}`);
    };
    const timer = setTimeout(
      () => fail(`no answer within ${this.#opts.authTimeout} ms`),
      this.#opts.authTimeout,
    );
    ws.onclose = () => fail("connection closed");
    ws.onmessage = async (event: MessageEvent) => {
      // Exactly one message is read before the verdict.
      ws.onmessage = () => fail("message before the handshake finished");
      const message = event.data;
      if (typeof message !== "string") return fail("binary handshake message");
      if (frameSize(message) > MAX_AUTH_MESSAGE) {
        return fail("handshake message too big");
      }
      let packet: Packet;
      try {
        packet = decodeFrame(message);
      } catch {
        return fail("malformed handshake message");
      }
      if (packet.t !== "r" || !isNonce(packet.nonce)) {
        return fail("expected the challenge answer");
      }
      const ok = await verify(key, "client", nonce, packet.mac);
      if (done) return;
      if (!ok) return fail("wrong key");
      const proof = await answer(key, "server", packet.nonce);
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.onclose = null;
      this.#open(ws, remoteAddr, proof);
    };
    ws.send(encodePacket({ t: "c", alg: AUTH_ALGORITHM, nonce }));
  }

  #open(ws: WebSocket, remoteAddr: Deno.NetAddr, proof?: string): void {
    if (this.#closing || ws.readyState !== WebSocket.OPEN) {
      safeClose(ws, CLOSE.goingAway, "Server shutting down");
      return;
    }
    const session = new Session(this.#hub, ws, remoteAddr, this.#opts);
    this.#hub.sessions.set(session.id, session);
    ws.onmessage = (event: MessageEvent) => session.receive(event.data);
    ws.onclose = (event: CloseEvent) =>
      session.terminate(
        event.code,
        event.reason || `Connection closed (code ${event.code})`,
      );
    const hello: Packet = {
      t: "h",
      sid: session.id,
      pi: this.#opts.pingInterval,
      pt: this.#opts.pingTimeout,
      mx: this.#opts.maxMessageSize,
    };
    if (proof !== undefined) hello.mac = proof;
    ws.send(encodePacket(hello));
    session.start();
    if (this.#opts.onConnection) {
      try {
        const result = this.#opts.onConnection(session);
        if (result instanceof Promise) {
          result.catch((error) => this.#opts.onError(error, session));
        }
      } catch (error) {
        this.#opts.onError(error, session);
      }
    }
  }
}

/**
 * Starts an event server: Socket.IO's model (named events, rooms,
 * acknowledgements, heartbeats) over WebSocket on `Deno.serve`.
 *
 * Like python-socketio's `AsyncServer`, except that a handler's return
 * value is the acknowledgement (no callback argument), and the server binds
 * `127.0.0.1` unless told otherwise.
 *
 * ## Heartbeat
 * Every `pingInterval` ms the server sends an application-level ping; a
 * client that has not answered within `pingTimeout` ms is dropped (its
 * `"disconnect"` handlers run with a "Ping timeout" reason), so a vanished
 * client is gone within `pingInterval + pingTimeout`.
 *
 * ## Authentication
 * With `authKey`, each client must answer an HMAC-SHA256 challenge (and
 * checks the server's answer to its own) before any event is accepted; see
 * the step table in `_event_auth.ts`. Failing clients are closed with code
 * 4001 and never reach `onConnection`.
 *
 * ## Platform
 * Needs `--allow-net` for the address it binds.
 *
 * @example Echo with an acknowledgement
 * ```ts
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * const controller = new AbortController();
 * const server = serveEvents({
 *   signal: controller.signal,
 *   onConnection: (socket) => socket.on("echo", (data) => data),
 * });
 * const client = await connectEvents(server.url);
 * console.log(await client.emit("echo", { n: 1 }, { ack: true })); // { n: 1 }
 * await client.close();
 * controller.abort();
 * await server.finished;
 * ```
 */
export function serveEvents(options: ServeEventsOptions = {}): EventServer {
  return new EventServer(options);
}
