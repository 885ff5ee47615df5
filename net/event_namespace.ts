/**
 * One Socket.IO namespace of an event server, with python-socketio's server
 * methods (camelCased) scoped to it.
 *
 * @module
 */

import type { Environ } from "./_event_engine.ts";
import { Prepared } from "./_event_engine.ts";
import { encodePacket, SIO } from "./_event_packets.ts";
import {
  checkEvent,
  checkMs,
  fromArgs,
  runHandler,
  toArgs,
} from "./_event_common.ts";
import { CORES, type ServerSocket } from "./_event_session.ts";
import {
  type AdapterHost,
  type AdapterPacket,
  type EventAdapter,
  RESERVED_EVENTS,
  type SocketInfo,
} from "./event_adapter.ts";
import { serverProof, verifyClient } from "./_event_auth.ts";

export type { Environ };

/**
 * Refuses a connection from a `"connect"` handler, like python-socketio's
 * `ConnectionRefusedError`: the client gets `connect_error` with `message`
 * and `data`.
 *
 * @example Refusing a client without the right token
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, ConnectionRefusedError, EventConnectionError, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * server.on("connect", (_sid, _environ, auth) => {
 *   if (auth.token !== "let-me-in") {
 *     throw new ConnectionRefusedError("Not authorized", { retry: false });
 *   }
 * });
 * const attempt = connectEvents(server.url, { auth: { token: "guess" }, reconnection: false });
 * await assert.rejects(attempt, (error) => {
 *   assert.ok(error instanceof EventConnectionError);
 *   assert.equal(error.message, "Not authorized");
 *   assert.deepEqual(error.data, { retry: false });
 *   return true;
 * });
 * ```
 */
export class ConnectionRefusedError extends Error {
  /** Extra data sent to the client with the refusal. */
  readonly data?: unknown;
  /**
   * Creates the refusal.
   *
   * @param message Sent to the client as the error's message.
   * @param data Sent to the client as the error's `data`.
   */
  constructor(message = "Connection rejected by server", data?: unknown) {
    super(message);
    this.name = "ConnectionRefusedError";
    this.data = data;
  }
}

/**
 * A server-side handler: `"connect"` gets `(sid, environ, auth)`,
 * `"disconnect"` `(sid, reason)`, `"*"` `(event, sid, ...args)`, any other
 * event `(sid, ...args)`. The (awaited) return value answers the client's
 * acknowledgement; return {@linkcode tuple}`(a, b)` for several values.
 *
 * @example A handler whose return value is the acknowledgement
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServerHandler } from "@weft/weft/net";
 *
 * const add: ServerHandler = (_sid, a, b) => Number(a) + Number(b);
 * assert.equal(add("sid", 1, 2), 3);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ServerHandler = (...args: any[]) => unknown;

/**
 * Whom `emit`/`send` reach (python-socketio's `to`/`room`, `skip_sid`,
 * `callback`).
 *
 * @example To a room, except the sender
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EmitOptions } from "@weft/weft/net";
 *
 * const options: EmitOptions = { room: "lobby", skip: "sid-of-sender" };
 * assert.equal(options.room, "lobby");
 * ```
 */
export interface EmitOptions {
  /** A sid or room (or several): only their members. Same as `room`. */
  to?: string | readonly string[];
  /** A sid or room (or several): only their members. Same as `to`. */
  room?: string | readonly string[];
  /** Sids or rooms to leave out (python-socketio's `skip_sid`). */
  skip?: string | readonly string[];
  /** Called with the client's acknowledgement values (`to` must name one sid). */
  callback?: (...args: unknown[]) => void;
  /** Milliseconds to wait for `callback`'s acknowledgement (default: the server's `ackTimeout`). */
  timeout?: number;
}

/**
 * Server-wide settings a namespace uses (the server passes its own; a
 * namespace is made by `server.of(name)`).
 *
 * @example Settings with the in-memory adapter
 * ```ts
 * import assert from "node:assert/strict";
 * import { InMemoryAdapter, type NamespaceSettings } from "@weft/weft/net";
 *
 * const settings: NamespaceSettings = {
 *   ackTimeout: 5000,
 *   adapter: (host) => new InMemoryAdapter(host),
 *   onError: () => {},
 * };
 * assert.equal(settings.ackTimeout, 5000);
 * ```
 */
export interface NamespaceSettings {
  /** Default acknowledgement timeout of `call`, in milliseconds. */
  ackTimeout: number;
  /** The `authkey` bytes, if the server has one. */
  authkey?: Uint8Array;
  /** Makes the namespace's adapter. */
  adapter: (host: AdapterHost) => EventAdapter;
  /** Receives handler errors. */
  onError: (error: unknown, sid?: string) => void;
}

function asList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : [...value];
  for (const v of list) {
    if (typeof v !== "string" || v.length === 0) {
      throw new TypeError(
        "Cannot emit: rooms and sids must be non-empty strings",
      );
    }
  }
  return list;
}

/**
 * A namespace (`server.of("/chat")`): handlers, emits, rooms and sessions of
 * the clients connected to it. Every sid is its own room.
 *
 * @example A handler on the `/chat` namespace
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * const chat = server.of("/chat");
 * chat.on("hello", (_sid, name) => `hi ${name}`);
 * await using client = await connectEvents(server.url, { namespaces: ["/chat"] });
 * assert.equal(await client.call("hello", "ada", { namespace: "/chat" }), "hi ada");
 * ```
 */
export class Namespace implements AdapterHost {
  /** Namespace name, e.g. `"/"` or `"/chat"`. */
  readonly name: string;
  /** Rooms and broadcasts. */
  readonly adapter: EventAdapter;
  #ctx: NamespaceSettings;
  #handlers = new Map<string, ServerHandler>();
  #serverHandlers = new Map<string, ServerHandler>();
  #sockets = new Map<string, ServerSocket>();

  /**
   * Use `server.of(name)`.
   *
   * @param name Namespace name.
   * @param ctx Server settings.
   */
  constructor(name: string, ctx: NamespaceSettings) {
    this.name = name;
    this.#ctx = ctx;
    this.adapter = ctx.adapter(this);
    CORES.set(this, {
      connect: (s, auth) => void this.#connect(s, auth),
      event: (s, args, id) => this.#event(s, args, id),
      remove: (s, reason) => this.#remove(s, reason),
    });
  }

  /** Sids connected to this namespace on this node. */
  get sids(): string[] {
    return [...this.#sockets.keys()];
  }

  /** Registers the handler of `event` (replacing any earlier one). */
  on(event: string, handler: ServerHandler): this {
    checkEvent(event, "add event handler");
    if (typeof handler !== "function") {
      throw new TypeError(
        "Cannot add event handler: handler must be a function",
      );
    }
    this.#handlers.set(event, handler);
    return this;
  }

  /** Removes the handler of `event`. */
  off(event: string): this {
    this.#handlers.delete(event);
    return this;
  }

  /** Sends `event` (data: one value, or a {@linkcode tuple} of several). */
  emit(event: string, data?: unknown, options: EmitOptions = {}): void {
    checkEvent(event, "emit event");
    if (RESERVED_EVENTS.has(event)) {
      throw new TypeError(
        `Cannot emit event ${JSON.stringify(event)}: the name is reserved`,
      );
    }
    const rooms = [...asList(options.to), ...asList(options.room)];
    if (options.callback) {
      if (typeof options.callback !== "function" || rooms.length !== 1) {
        throw new TypeError(
          "Cannot emit with a callback: `to` must name exactly one sid",
        );
      }
      const cb = options.callback;
      this.call(event, data, {
        to: rooms[0],
        timeout: options.timeout,
        raw: true,
      })
        .then(
          (args) => cb(...(args as unknown[])),
          (e) => this.#ctx.onError(e, rooms[0]),
        );
      return;
    }
    const packet: AdapterPacket = {
      type: SIO.event,
      nsp: this.name,
      data: [event, ...toArgs(data)],
    };
    this.adapter.broadcast(packet, {
      rooms: new Set(rooms),
      except: new Set(asList(options.skip)),
    });
  }

  /** Sends a `"message"` event (python-socketio's `send`). */
  send(data: unknown, options: EmitOptions = {}): void {
    this.emit("message", data, options);
  }

  /**
   * Sends `event` to one client and resolves with its acknowledgement (one
   * value, or a tuple of several); rejects with `AckTimeoutError`.
   */
  call(
    event: string,
    data: unknown,
    options: { to: string; timeout?: number; raw?: boolean },
  ): Promise<unknown> {
    checkEvent(event, "call event");
    const socket = this.#sockets.get(options?.to);
    if (!socket) {
      return Promise.reject(
        new TypeError(
          `Cannot call event ${JSON.stringify(event)}: no client with sid ${
            JSON.stringify(options?.to)
          }`,
        ),
      );
    }
    const timeout = checkMs(options.timeout, this.#ctx.ackTimeout, "timeout");
    const [id, promise] = socket.acks.create(event, timeout);
    socket.send({
      type: SIO.event,
      nsp: this.name,
      id,
      data: [event, ...toArgs(data)],
    });
    return options.raw ? promise : promise.then(fromArgs);
  }

  /** Adds client `sid` to `room`. */
  enterRoom(sid: string, room: string): void {
    this.#checkRoom(room, "enter room");
    this.#settle(this.adapter.addAll(sid, [room]), sid);
  }

  /** Removes client `sid` from `room`. */
  leaveRoom(sid: string, room: string): void {
    this.#checkRoom(room, "leave room");
    this.#settle(this.adapter.del(sid, room), sid);
  }

  /** Removes every client from `room`. */
  closeRoom(room: string): void {
    this.#checkRoom(room, "close room");
    this.#settle(
      this.adapter.delSockets({ rooms: new Set([room]), except: new Set() }, [
        room,
      ]),
    );
  }

  /** Rooms of client `sid`, its own sid first. */
  rooms(sid: string): string[] {
    return [...this.adapter.socketRooms(sid) ?? []];
  }

  /** Disconnects client `sid` from this namespace. */
  disconnect(sid: string): void {
    const socket = this.#sockets.get(sid);
    if (socket) socket.session.disconnect(socket);
  }

  /** The per-client session object (mutable; python-socketio's `get_session`). */
  getSession(sid: string): Record<string, unknown> {
    const socket = this.#sockets.get(sid);
    if (!socket) {
      throw new TypeError(
        `Cannot get session: no client with sid ${JSON.stringify(sid)}`,
      );
    }
    return socket.data;
  }

  /** Replaces the per-client session object. */
  saveSession(sid: string, session: Record<string, unknown>): void {
    const socket = this.#sockets.get(sid);
    if (!socket) {
      throw new TypeError(
        `Cannot save session: no client with sid ${JSON.stringify(sid)}`,
      );
    }
    if (typeof session !== "object" || session === null) {
      throw new TypeError("Cannot save session: expected an object");
    }
    socket.data = session;
  }

  /** The request that opened client `sid`'s connection. */
  environ(sid: string): Environ | undefined {
    return this.#sockets.get(sid)?.environ;
  }

  /** The transport client `sid` uses now. */
  transport(sid: string): "polling" | "websocket" | undefined {
    return this.#sockets.get(sid)?.session.engine.transport;
  }

  /** Sockets of `room` (or all), on every node of the adapter. */
  fetchSockets(
    options: { room?: string | readonly string[] } = {},
  ): Promise<SocketInfo[]> {
    return this.adapter.fetchSockets({
      rooms: new Set(asList(options.room)),
      except: new Set(),
    });
  }

  /** Sends `event` to the other nodes' {@linkcode Namespace.onServerSideEmit} handlers; resolves with their answers. */
  serverSideEmit(
    event: string,
    data?: unknown,
    options: { timeout?: number } = {},
  ): Promise<unknown[]> {
    checkEvent(event, "emit to other servers");
    const timeout = checkMs(options.timeout, this.#ctx.ackTimeout, "timeout");
    return this.adapter.serverSideEmit([event, ...toArgs(data)], timeout);
  }

  /** Registers the handler of `event` sent by another node's `serverSideEmit`. */
  onServerSideEmit(event: string, handler: ServerHandler): this {
    checkEvent(event, "add server-side handler");
    this.#serverHandlers.set(event, handler);
    return this;
  }

  // ---- AdapterHost ----

  /** Sends `packet` to these local sids, encoded once. */
  deliver(packet: AdapterPacket, sids: Iterable<string>): number {
    let prepared: Prepared | undefined;
    let n = 0;
    for (const sid of sids) {
      const socket = this.#sockets.get(sid);
      if (!socket) continue;
      prepared ??= new Prepared(
        encodePacket({ type: packet.type, nsp: this.name, data: packet.data }),
      );
      socket.sendPrepared(prepared);
      n++;
    }
    return n;
  }

  /** Information about a local socket. */
  socketInfo(sid: string): SocketInfo | undefined {
    const socket = this.#sockets.get(sid);
    if (!socket) return undefined;
    return { id: sid, rooms: this.rooms(sid), data: socket.data };
  }

  /** Disconnects a local socket (`close`: its whole connection). */
  disconnectLocal(sid: string, close: boolean): void {
    const socket = this.#sockets.get(sid);
    if (!socket) return;
    if (close) socket.session.close("server disconnect");
    else socket.session.disconnect(socket);
  }

  /** Runs this node's handler for a `serverSideEmit` from another node. */
  async runServerSideEmit(args: unknown[]): Promise<unknown[]> {
    const handler = this.#serverHandlers.get(String(args[0]));
    if (!handler) return [];
    const result = await runHandler(
      () => handler(...args.slice(1)),
      (e) => this.#ctx.onError(e),
    );
    return toArgs(result);
  }

  // ---- connection lifecycle (called by the session) ----

  async #connect(
    socket: ServerSocket,
    auth: Record<string, unknown>,
  ): Promise<void> {
    const extra: Record<string, unknown> = {};
    if (this.#ctx.authkey) {
      const used = socket.session.nonces;
      const nonce = await verifyClient(
        this.#ctx.authkey,
        socket.session.engine.id,
        this.name,
        auth,
        used,
      );
      if (socket.closed) return;
      if (nonce === undefined) return socket.refuse("Authentication failed");
      extra.hmac = await serverProof(
        this.#ctx.authkey,
        socket.session.engine.id,
        this.name,
        nonce,
      );
      const { nonce: _n, hmac: _h, ...rest } = auth;
      auth = rest;
    }
    this.#sockets.set(socket.sid, socket);
    this.adapter.addAll(socket.sid, [socket.sid]);
    const handler = this.#handlers.get("connect");
    let refusal: ConnectionRefusedError | undefined;
    if (handler) {
      try {
        const result = await handler(socket.sid, socket.environ, auth);
        if (result === false) refusal = new ConnectionRefusedError();
      } catch (error) {
        if (error instanceof ConnectionRefusedError) refusal = error;
        else {
          this.#ctx.onError(error, socket.sid);
          refusal = new ConnectionRefusedError();
        }
      }
    }
    if (socket.closed) {
      this.#forget(socket);
      return;
    }
    if (refusal) {
      this.#forget(socket);
      return socket.refuse(refusal.message, refusal.data);
    }
    socket.accept(extra);
  }

  #event(socket: ServerSocket, args: unknown[], id: number | undefined): void {
    const event = String(args[0]);
    const rest = args.slice(1);
    let handler = this.#handlers.get(event);
    let call: () => unknown;
    if (handler && event !== "connect" && event !== "disconnect") {
      const h = handler;
      call = () => h(socket.sid, ...rest);
    } else {
      handler = this.#handlers.get("*");
      if (!handler) return;
      const h = handler;
      call = () => h(event, socket.sid, ...rest);
    }
    const onError = (e: unknown) => this.#ctx.onError(e, socket.sid);
    const ack = (result: unknown) => {
      if (id !== undefined) {
        socket.send({
          type: SIO.ack,
          nsp: this.name,
          id,
          data: toArgs(result),
        });
      }
    };
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      return onError(error); // no acknowledgement, as python-socketio
    }
    if (!(result instanceof Promise)) return ack(result);
    const done = result.then(ack, onError);
    socket.session.track(done);
  }

  #forget(socket: ServerSocket): void {
    this.#sockets.delete(socket.sid);
    this.#settle(this.adapter.delAll(socket.sid));
  }

  #remove(socket: ServerSocket, reason: string): void {
    // Like python-socketio: the handler starts while the sid still has its
    // session and rooms; they go once it returns (or reaches its first await).
    const handler = this.#handlers.get("disconnect");
    if (handler) {
      void runHandler(
        () => handler(socket.sid, reason),
        (e) => this.#ctx.onError(e, socket.sid),
      );
    }
    this.#forget(socket);
  }

  #checkRoom(room: unknown, action: string): void {
    if (typeof room !== "string" || room.length === 0) {
      throw new TypeError(`Cannot ${action}: room must be a non-empty string`);
    }
  }

  #settle(result: void | Promise<void>, sid?: string): void {
    if (result instanceof Promise) {
      result.catch((e) => this.#ctx.onError(e, sid));
    }
  }

  /** For debugging output. */
  toString(): string {
    return `Namespace(${this.name})`;
  }
}
