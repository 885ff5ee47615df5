/**
 * A Socket.IO server (Engine.IO 4 + Socket.IO 5, WebSocket and HTTP
 * long-polling) with python-socketio's server model in camelCase.
 *
 * @module
 */

import { EngineServer, type EngineSocket } from "./_event_engine.ts";
import {
  type Head,
  HttpConn,
  HttpError,
  readBody,
  writeResponse,
  writeSimple,
} from "./_event_http.ts";
import { isNamespace } from "./_event_packets.ts";
import { AckTimeoutError, Tuple, tuple } from "./_event_common.ts";
import { CORES, type NamespaceCore, Session } from "./_event_session.ts";
import { EventAuthError } from "./_event_auth.ts";
import {
  ConnectionRefusedError,
  type EmitOptions,
  type Environ,
  Namespace,
  type NamespaceSettings,
  type ServerHandler,
} from "./event_namespace.ts";
import type { SocketInfo } from "./event_adapter.ts";
import {
  type NamespaceOption,
  resolveOptions,
  type ServeEventsOptions,
  type ServerLimits,
} from "./_event_server_options.ts";

export {
  AckTimeoutError,
  ConnectionRefusedError,
  EventAuthError,
  Tuple,
  tuple,
};
export type {
  EmitOptions,
  Environ,
  NamespaceOption,
  ServeEventsOptions,
  ServerHandler,
};

/**
 * A running Socket.IO server, returned by {@linkcode serveEvents}. Its
 * methods are python-socketio's `AsyncServer` methods, camelCased, for the
 * namespace in `options.namespace` (default `"/"`).
 *
 * | python-socketio                       | weft                                          |
 * | ------------------------------------- | --------------------------------------------- |
 * | `@sio.on("connect")` `(sid, environ, auth)` | `server.on("connect", (sid, environ, auth) => ...)` |
 * | `sio.emit(ev, data, to=, room=, skip_sid=, namespace=, callback=)` | `server.emit(ev, data, { to, room, skip, namespace, callback })` |
 * | `sio.send(data, ...)`, `sio.call(ev, data, to=, timeout=)` | `server.send(data, ...)`, `server.call(ev, data, { to, timeout })` |
 * | `enter_room`, `leave_room`, `close_room`, `rooms(sid)` | `enterRoom`, `leaveRoom`, `closeRoom`, `rooms(sid)` |
 * | `get_session`, `save_session`, `disconnect(sid)` | `getSession`, `saveSession`, `disconnect(sid)` |
 * | a tuple as data or return value       | `tuple(a, b)`                                 |
 *
 * @example Rooms, a broadcast that skips the sender, an acknowledgement
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * server.on("join", (sid, room) => {
 *   server.enterRoom(sid, room);
 *   return "joined";
 * });
 * server.on("say", (sid, text) => {
 *   server.emit("said", text, { room: "r1", skip: sid });
 * });
 * await using alice = await connectEvents(server.url);
 * await using bob = await connectEvents(server.url);
 * assert.equal(await alice.call("join", "r1"), "joined");
 * await bob.call("join", "r1");
 * const heard = new Promise((resolve) => bob.on("said", resolve));
 * alice.emit("say", "hello");
 * assert.equal(await heard, "hello");
 * ```
 */
export class EventServer implements AsyncDisposable {
  #listener: Deno.TcpListener;
  #engine: EngineServer;
  #path: string;
  #namespaces = new Map<string, Namespace>();
  #ctx: NamespaceSettings;
  #served: "*" | ReadonlySet<string>;
  #fallback: NonNullable<ServeEventsOptions["handler"]>;
  #conns = new Map<HttpConn, Promise<void>>();
  #idle = new Set<HttpConn>();
  #limits: ServerLimits;
  #closing = false;
  #finished: Promise<void>;
  #resolveFinished!: () => void;
  #signal?: AbortSignal;
  #onAbort = () => void this.shutdown();
  #loop: Promise<void>;

  /** Use {@linkcode serveEvents}. */
  constructor(options: ServeEventsOptions = {}) {
    const r = resolveOptions(options);
    const o = options;
    this.#path = r.path;
    this.#limits = r.limits;
    this.#served = r.served;
    this.#ctx = r.ctx;
    this.#engine = new EngineServer(r.engine);
    const host = {
      namespace: (name: string) => this.#namespaceCore(name),
      limits: this.#limits,
    };
    this.#engine.onsession = (engine: EngineSocket) =>
      void new Session(engine, host);
    this.#fallback = o.handler ??
      (() => new Response("Not found", { status: 404 }));
    this.of("/");
    this.#finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#listener = Deno.listen({
      hostname: r.hostname,
      port: r.port,
      transport: "tcp",
    });
    o.onListen?.(this.#listener.addr);
    this.#loop = this.#accept();
    this.#signal = o.signal;
    if (o.signal?.aborted) void this.shutdown();
    else o.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  #namespaceCore(name: string): NamespaceCore | undefined {
    let nsp = this.#namespaces.get(name);
    if (!nsp) {
      if (this.#served !== "*" && !this.#served.has(name)) return undefined;
      nsp = this.of(name);
    }
    return CORES.get(nsp);
  }

  /** Bound address (with the real port when `port` was 0). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** `http://host:port` of the server, for {@linkcode connectEvents} and the official clients. */
  get url(): string {
    const { hostname, port } = this.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `http://${host}:${port}`;
  }

  /** The Socket.IO path, e.g. `"/socket.io/"`. */
  get path(): string {
    return this.#path;
  }

  /** `true` once `shutdown()` started. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Resolves when the server has shut down. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** The namespace `name` (created on first use; it is then served). */
  of(name: string): Namespace {
    if (!isNamespace(name)) {
      throw new TypeError(
        `Cannot get namespace ${JSON.stringify(name)}: names start with "/"`,
      );
    }
    let nsp = this.#namespaces.get(name);
    if (!nsp) {
      nsp = new Namespace(name, this.#ctx);
      this.#namespaces.set(name, nsp);
    }
    return nsp;
  }

  /** Registers a handler (see {@linkcode ServerHandler}); `"*"` catches every event without one. */
  on(
    event: string,
    handler: ServerHandler,
    options: NamespaceOption = {},
  ): this {
    this.of(options.namespace ?? "/").on(event, handler);
    return this;
  }

  /** Sends `event` to everyone, a room or a sid (see {@linkcode EmitOptions}). */
  emit(
    event: string,
    data?: unknown,
    options: EmitOptions & NamespaceOption = {},
  ): void {
    this.of(options.namespace ?? "/").emit(event, data, options);
  }

  /** Sends a `"message"` event. */
  send(data: unknown, options: EmitOptions & NamespaceOption = {}): void {
    this.of(options.namespace ?? "/").send(data, options);
  }

  /** Sends `event` to one sid and resolves with its acknowledgement. */
  call(
    event: string,
    data: unknown,
    options: { to: string; timeout?: number } & NamespaceOption,
  ): Promise<unknown> {
    return this.of(options?.namespace ?? "/").call(event, data, options);
  }

  /** Adds `sid` to `room`. */
  enterRoom(sid: string, room: string, options: NamespaceOption = {}): void {
    this.of(options.namespace ?? "/").enterRoom(sid, room);
  }

  /** Removes `sid` from `room`. */
  leaveRoom(sid: string, room: string, options: NamespaceOption = {}): void {
    this.of(options.namespace ?? "/").leaveRoom(sid, room);
  }

  /** Removes everyone from `room`. */
  closeRoom(room: string, options: NamespaceOption = {}): void {
    this.of(options.namespace ?? "/").closeRoom(room);
  }

  /** Rooms of `sid`, its own sid first. */
  rooms(sid: string, options: NamespaceOption = {}): string[] {
    return this.of(options.namespace ?? "/").rooms(sid);
  }

  /** Disconnects `sid` from the namespace. */
  disconnect(sid: string, options: NamespaceOption = {}): void {
    this.of(options.namespace ?? "/").disconnect(sid);
  }

  /** The session object of `sid` (mutable). */
  getSession(
    sid: string,
    options: NamespaceOption = {},
  ): Record<string, unknown> {
    return this.of(options.namespace ?? "/").getSession(sid);
  }

  /** Replaces the session object of `sid`. */
  saveSession(
    sid: string,
    session: Record<string, unknown>,
    options: NamespaceOption = {},
  ): void {
    this.of(options.namespace ?? "/").saveSession(sid, session);
  }

  /** The transport `sid` uses now. */
  transport(
    sid: string,
    options: NamespaceOption = {},
  ): "polling" | "websocket" | undefined {
    return this.of(options.namespace ?? "/").transport(sid);
  }

  /** Sockets of a room (or all) on every node. */
  fetchSockets(
    options: { room?: string | readonly string[] } & NamespaceOption = {},
  ): Promise<SocketInfo[]> {
    return this.of(options.namespace ?? "/").fetchSockets(options);
  }

  /**
   * Closes every session and connection, stops listening, closes the
   * adapters, and resolves once all is closed. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      try {
        this.#listener.close();
      } catch {
        // already closed
      }
      this.#engine.closeAll("server shutting down");
      for (const http of this.#idle) http.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const all = Promise.all(this.#conns.values());
      await Promise.race([
        all,
        new Promise((r) => timer = setTimeout(r, 1500)),
      ]);
      clearTimeout(timer);
      for (const http of this.#conns.keys()) http.close();
      await Promise.all(this.#conns.values());
      await this.#loop;
      for (const nsp of this.#namespaces.values()) {
        try {
          await nsp.adapter.close();
        } catch (error) {
          this.#ctx.onError(error);
        }
      }
      this.#resolveFinished();
    }
    return this.#finished;
  }

  /** Same as `shutdown()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // listener closed
      }
      if (this.#closing || this.#conns.size >= this.#limits.maxConnections) {
        conn.close();
        continue;
      }
      try {
        conn.setNoDelay(true); // small frames go out at once (no Nagle delay)
      } catch {
        // not a TCP socket option here
      }
      const http = new HttpConn(conn);
      const done = this.#serveConn(http, conn.remoteAddr as Deno.NetAddr)
        .finally(() => this.#conns.delete(http));
      this.#conns.set(http, done);
    }
  }

  async #serveConn(http: HttpConn, remoteAddr: Deno.NetAddr): Promise<void> {
    const limits = this.#limits;
    let upgraded = false;
    try {
      while (!this.#closing && !http.closed) {
        const timer = setTimeout(() => http.close(), limits.headerTimeout);
        let head: Head | null;
        let body: Uint8Array;
        let url: URL | undefined;
        try {
          if (http.buffered === 0) this.#idle.add(http);
          head = await http.readHead(limits.maxHeaderSize);
          this.#idle.delete(http);
          if (!head) return;
          url = new URL(head.target, "http://localhost");
          const engine = url.pathname === this.#path;
          body = head.method === "POST" || head.method === "PUT"
            ? await readBody(
              http,
              head,
              engine ? limits.maxHttpBufferSize : 1024 * 1024,
            )
            : new Uint8Array(0);
        } catch (error) {
          if (error instanceof HttpError && !http.closed) {
            const sid = error.status === 413
              ? url?.searchParams.get("sid")
              : null;
            if (sid) {
              this.#engine.sessions.get(sid)?.close(
                `Payload too large: over the limit of ${limits.maxHttpBufferSize} bytes`,
              );
            }
            await writeSimple(
              http,
              error.status,
              { "Content-Type": "text/plain" },
              error.message,
              false,
            )
              .catch(() => {});
          }
          return;
        } finally {
          clearTimeout(timer);
          this.#idle.delete(http);
        }
        if (url.pathname === this.#path) {
          const result = await this.#engine.handle(
            http,
            head,
            body,
            url,
            remoteAddr,
          );
          if (result === "upgraded") {
            upgraded = true; // the WebSocket closes the connection itself
            return;
          }
        } else {
          await this.#serveFallback(http, head, body, url, remoteAddr);
        }
        if (!head.keepAlive) return;
      }
    } catch {
      // connection errors end this connection only
    } finally {
      if (!upgraded) http.close();
    }
  }

  async #serveFallback(
    http: HttpConn,
    head: Head,
    body: Uint8Array,
    url: URL,
    remoteAddr: Deno.NetAddr,
  ): Promise<void> {
    const host = head.headers.get("host") ??
      `${this.addr.hostname}:${this.addr.port}`;
    const request = new Request(`http://${host}${url.pathname}${url.search}`, {
      method: head.method,
      headers: head.headers,
      body: body.length > 0 ? body as Uint8Array<ArrayBuffer> : undefined,
    });
    let response: Response;
    try {
      response = await this.#fallback(request, { remoteAddr });
    } catch (error) {
      this.#ctx.onError(error);
      response = new Response("Internal server error", { status: 500 });
    }
    await writeResponse(http, response, head.keepAlive, head.method === "HEAD");
  }
}

/**
 * Starts a Socket.IO server: Engine.IO 4 + Socket.IO 5 over WebSocket and
 * HTTP long-polling, so the official clients (JavaScript, python-socketio,
 * Swift, Java, C++) and weft's {@linkcode connectEvents} connect to it.
 * python-socketio's `AsyncServer` model, camelCased; binds `127.0.0.1`
 * unless told otherwise.
 *
 * ## Limits
 * Request heads, polling bodies and WebSocket messages are checked against
 * their caps before they are buffered; a half-sent request is closed after
 * `headerTimeout`; a client that does not poll or read is dropped once
 * `maxBufferedBytes` are waiting for it; a client that does not answer pings
 * is dropped after `pingInterval + pingTimeout`.
 *
 * ## Authentication
 * With `authkey`, a client must prove it knows the key in its CONNECT auth
 * payload (HMAC-SHA256 over the server-chosen session id, checked in
 * constant time, each proof usable once) before any handler runs; weft's
 * client also checks the server's proof.
 *
 * ## Platform
 * Needs `--allow-net` for the address it binds.
 *
 * @example Echo with an acknowledgement
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * const server = serveEvents();
 * server.on("echo", (_sid, data) => data);
 * const client = await connectEvents(server.url);
 * assert.deepEqual(await client.call("echo", { n: 1 }), { n: 1 });
 * await client.disconnect();
 * await server.shutdown();
 * ```
 */
export function serveEvents(options: ServeEventsOptions = {}): EventServer {
  return new EventServer(options);
}
