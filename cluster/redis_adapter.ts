/**
 * {@linkcode redisAdapter}: rooms across nodes for `serveEvents`, on
 * Socket.IO's own Redis bus (`@socket.io/redis-adapter`'s classic pub/sub
 * protocol), so weft nodes and Node socket.io 4 nodes on one Redis are one
 * logical server.
 *
 * @module
 */
import {
  type AdapterHost,
  type AdapterPacket,
  type AdapterTarget,
  InMemoryAdapter,
  type SocketInfo,
} from "../net/mod.ts";
import { _Bus, _buses } from "./_adapter_bus.ts";
import {
  _broadcastWithAck,
  _collectSockets,
  _Requests,
  _socketAnswers,
  _wireTarget,
  _within,
} from "./_adapter_requests.ts";
import {
  _ALL_ROOMS,
  _BROADCAST,
  _BROADCAST_ACK,
  _BROADCAST_CLIENT_COUNT,
  type _Channels,
  _channels,
  _checkOptions,
  _parseMessage,
  _REMOTE_DISCONNECT,
  _REMOTE_FETCH,
  _REMOTE_JOIN,
  _REMOTE_LEAVE,
  type _RichHost,
  _SERVER_SIDE_EMIT,
  _SOCKETS,
  _strings,
  _target,
  _uid,
} from "./_adapter_protocol.ts";
import { _decode, _encode } from "./_msgpack.ts";
import { RedisStreamsAdapter } from "./_adapter_streams.ts";

export { RedisStreamsAdapter };
import type { RedisClientLike } from "./redis_client.ts";

/**
 * Options of {@linkcode redisAdapter}.
 *
 * @example Options with a shorter request deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RedisAdapterOptions } from "@weft/weft/cluster";
 *
 * const options: RedisAdapterOptions = { url: "redis://127.0.0.1:6379", requestsTimeout: 2000 };
 * assert.equal(options.requestsTimeout, 2000);
 * ```
 */
export interface RedisAdapterOptions {
  /** `redis://` or `rediss://` URL (or give `client`). */
  url?: string | URL;
  /** Your own node-redis client (weft duplicates it to subscribe, never closes it). */
  client?: RedisClientLike;
  /**
   * Channel prefix (default `"socket.io"`, the Node adapter's default: joins its fleets); with `"socket.io-streams"` also the stream's name.
   *
   * @default {"socket.io"}
   */
  key?: string;
  /**
   * The bus: `"socket.io"` (default: `@socket.io/redis-adapter` 8.x,
   * classic pub/sub, {@linkcode RedisAdapter}) or `"socket.io-streams"`
   * (`@socket.io/redis-streams-adapter` 0.3.x, {@linkcode RedisStreamsAdapter}).
   *
   * @default {"socket.io"}
   */
  protocol?: "socket.io" | "socket.io-streams";
  /**
   * Milliseconds `fetchSockets`, `sockets`, `allRooms` wait for the other nodes.
   *
   * @default {5000}
   */
  requestsTimeout?: number;
}

/**
 * A namespace's adapter on Socket.IO's Redis bus: everything
 * {@linkcode InMemoryAdapter} does locally, plus the same on every other
 * node (weft or Node socket.io with `@socket.io/redis-adapter`) connected
 * to the same Redis with the same `key`. Made by {@linkcode redisAdapter}.
 *
 * - `broadcast` (`server.emit(..., { room, skip })`) reaches the target's
 *   sockets on every node, each exactly once.
 * - `fetchSockets`, `sockets`, `allRooms` and `serverSideEmit` ask every
 *   other node and wait for all answers (`serverCount() - 1`); a node that
 *   does not answer in time makes them reject with an `Error` named
 *   `"TimeoutError"` ("Cannot fetch sockets: timeout reached after ...").
 * - `addSockets`, `delSockets`, `disconnectSockets` (and `closeRoom`)
 *   apply on every node (fire and forget, like Socket.IO's).
 * - Incoming requests of every type the Node adapter sends are answered,
 *   including broadcasts with acknowledgements from Node servers
 *   (`io.timeout(ms).to(room).emitWithAck(...)`).
 *
 * ## Delivery
 * Redis pub/sub is at-most-once: while a node is cut from Redis, the
 * broadcasts published by the others are lost for its clients (the Node
 * adapter behaves the same).
 *
 * @example Two weft nodes, one room
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 * import { RedisAdapter, redisAdapter, RedisServer } from "@weft/weft/cluster";
 *
 * await using redis = await RedisServer.start();
 * await using a = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
 * await using b = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
 * await (a.of("/").adapter as RedisAdapter).ready;
 * await (b.of("/").adapter as RedisAdapter).ready;
 * b.on("connect", (sid) => b.enterRoom(sid, "lobby"));
 * await using client = await connectEvents(b.url);
 * const got = new Promise((resolve) => client.on("news", resolve));
 * a.emit("news", "from a", { room: "lobby" });
 * assert.equal(await got, "from a");
 * assert.equal(await a.of("/").adapter.serverCount(), 2);
 * ```
 */
export class RedisAdapter extends InMemoryAdapter {
  /** This node's id on the bus (6 characters, like the Node adapter's). */
  readonly uid: string = _uid();
  /** Resolves once this node listens on the bus (rejects if Redis is unreachable). */
  readonly ready: Promise<void>;
  #bus: _Bus;
  #key: string;
  #timeout: number;
  #ch: _Channels;
  #requests = new _Requests();
  #unlisten: (() => Promise<void>) | undefined;
  #closed = false;

  /**
   * Usually made by {@linkcode redisAdapter} (which shares one pair of
   * Redis connections among the namespaces of a server); made directly, it
   * opens its own.
   *
   * @param host The namespace.
   * @param options Where Redis is, the channel prefix, the requests' deadline.
   */
  constructor(host: AdapterHost, options: RedisAdapterOptions) {
    super(host);
    const { key, timeout } = _checkOptions(options);
    const bus = _buses.get(options) ??
      new _Bus(options, "create Redis adapter");
    this.#bus = bus;
    this.#key = key;
    this.#timeout = timeout;
    this.#ch = _channels(key, host.name, this.uid);
    bus.ref();
    this.ready = bus.listen(
      this.#ch.broadcast + "*",
      [this.#ch.request, this.#ch.response, this.#ch.specificResponse],
      (channel, bytes) => this.#onMessage(channel, bytes),
    ).then((unlisten) => {
      if (this.#closed) return void unlisten();
      this.#unlisten = unlisten;
    });
    this.ready.catch(() => {}); // surfaced by the requests that await it
  }

  /** The channel prefix. */
  get key(): string {
    return this.#key;
  }

  #publish(channel: string, message: string | Uint8Array): void {
    if (this.#closed) return;
    this.#bus.publish(channel, message).catch((e) => this.#bus.lastError = e);
  }

  // ---- local + remote operations (called by the namespace) ----

  /** Sends `packet` to the target's sockets on every node. */
  override broadcast(packet: AdapterPacket, target: AdapterTarget): void {
    const msg = _encode([
      this.uid,
      { type: packet.type, data: packet.data, nsp: this.host.name },
      { ..._wireTarget(target), flags: {} },
    ]);
    let channel = this.#ch.broadcast;
    if (target.rooms.size === 1) channel += [...target.rooms][0] + "#";
    this.#publish(channel, msg);
    super.broadcast(packet, target);
  }

  /** Makes the target's sockets join `rooms`, on every node. */
  override addSockets(target: AdapterTarget, rooms: string[]): void {
    super.addSockets(target, rooms);
    this.#publish(
      this.#ch.request,
      JSON.stringify({
        uid: this.uid,
        type: _REMOTE_JOIN,
        opts: _wireTarget(target),
        rooms,
      }),
    );
  }

  /** Makes the target's sockets leave `rooms`, on every node. */
  override delSockets(target: AdapterTarget, rooms: string[]): void {
    super.delSockets(target, rooms);
    this.#publish(
      this.#ch.request,
      JSON.stringify({
        uid: this.uid,
        type: _REMOTE_LEAVE,
        opts: _wireTarget(target),
        rooms,
      }),
    );
  }

  /** Disconnects the target's sockets, on every node. */
  override disconnectSockets(target: AdapterTarget, close: boolean): void {
    super.disconnectSockets(target, close);
    this.#publish(
      this.#ch.request,
      JSON.stringify({
        uid: this.uid,
        type: _REMOTE_DISCONNECT,
        opts: _wireTarget(target),
        close,
      }),
    );
  }

  /** Number of nodes on the bus for this namespace (`PUBSUB NUMSUB`). */
  override serverCount(): Promise<number> {
    return this.#nodes("count servers", this.#timeout);
  }

  /** `PUBSUB NUMSUB` of the request channel, within `ms` (Redis may be down). */
  #nodes(what: string, ms: number): Promise<number> {
    return _within(
      what,
      ms,
      this.ready.then(() => this.#bus.numsub(this.#ch.request)),
    );
  }

  /** The target's sockets on every node. */
  override async fetchSockets(target: AdapterTarget): Promise<SocketInfo[]> {
    const local = await super.fetchSockets(target);
    const out: SocketInfo[] = [...local];
    await this.#ask(
      "fetch sockets",
      {
        type: _REMOTE_FETCH,
        opts: _wireTarget(target),
      },
      this.#timeout,
      (response) => _collectSockets(out, response.sockets),
    );
    return out;
  }

  /** Sids of the rooms' sockets on every node. */
  override async sockets(rooms: ReadonlySet<string>): Promise<Set<string>> {
    const out = await super.sockets(rooms);
    await this.#ask(
      "list sockets",
      {
        type: _SOCKETS,
        rooms: [...rooms],
      },
      this.#timeout,
      (response) => {
        for (const sid of _strings(response.sockets)) out.add(sid);
      },
    );
    return out;
  }

  /** Room names with members on any node. */
  override async allRooms(): Promise<Set<string>> {
    const out = await super.allRooms();
    await this.#ask("list rooms", { type: _ALL_ROOMS }, this.#timeout, (r) => {
      for (const room of _strings(r.rooms)) out.add(room);
    });
    return out;
  }

  /** Runs `[event, ...args]` on the other nodes' handlers; resolves with one answer per node. */
  override async serverSideEmit(
    args: unknown[],
    timeout: number,
  ): Promise<unknown[]> {
    const answers: unknown[] = [];
    await this.#ask(
      "emit to other servers",
      {
        type: _SERVER_SIDE_EMIT,
        data: args,
      },
      timeout,
      (response) => answers.push(response.data),
    );
    return answers;
  }

  /** Leaves the bus (the last namespace closes the Redis connections it opened). */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#requests.close();
    await this.#unlisten?.();
    await this.#bus.close();
  }

  /**
   * Publishes a request and waits for `serverCount() - 1` answers, each
   * passed to `collect`; rejects after `ms` with a TimeoutError.
   */
  #ask(
    what: string,
    body: Record<string, unknown>,
    ms: number,
    collect: (response: Record<string, unknown>) => void,
  ): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(`Cannot ${what}: the adapter is closed`),
      );
    }
    const requestId = _uid();
    return this.#requests.ask(
      what,
      ms,
      () => this.#nodes(what, ms),
      requestId,
      () =>
        this.#bus.publish(
          this.#ch.request,
          JSON.stringify({ uid: this.uid, requestId, ...body }),
        ),
      collect,
    );
  }

  // ---- what other nodes send ----

  #onMessage(channel: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (channel.startsWith(this.#ch.response)) {
      const response = _parseMessage(bytes);
      if (response) this.#onResponse(response);
    } else if (channel === this.#ch.request) {
      const request = _parseMessage(bytes);
      if (request) {
        this.#onRequest(request).catch((e) => this.#bus.lastError = e);
      }
    } else if (channel.startsWith(this.#ch.broadcast)) {
      this.#onBroadcast(channel, bytes);
    }
  }

  #onBroadcast(channel: string, bytes: Uint8Array): void {
    const room = channel.slice(this.#ch.broadcast.length, -1);
    if (room !== "" && !this.rooms.has(room)) return;
    let message: unknown;
    try {
      message = _decode(bytes);
    } catch {
      return;
    }
    if (!Array.isArray(message)) return;
    const [uid, packet, opts] = message as [unknown, unknown, unknown];
    if (uid === this.uid || typeof packet !== "object" || packet === null) {
      return;
    }
    const p = packet as Record<string, unknown>;
    if ((p.nsp ?? "/") !== this.host.name || !Array.isArray(p.data)) return;
    super.broadcast(
      { type: Number(p.type ?? 2), nsp: this.host.name, data: p.data },
      _target(opts),
    );
  }

  #onResponse(response: Record<string, unknown>): void {
    this.#requests.answer(String(response.requestId), response);
  }

  #respond(response: string | Uint8Array): void {
    this.#publish(this.#ch.response, response);
  }

  async #onRequest(request: Record<string, unknown>): Promise<void> {
    const requestId = request.requestId;
    if (request.uid === this.uid) return;
    if (typeof requestId === "string" && this.#requests.has(requestId)) return;
    const host = this.host as _RichHost;
    const sid = typeof request.sid === "string" ? request.sid : undefined;
    switch (request.type) {
      case _SOCKETS: {
        const sids = await super.sockets(new Set(_strings(request.rooms)));
        this.#respond(
          JSON.stringify({ requestId, sockets: [...sids] }),
        );
        return;
      }
      case _ALL_ROOMS:
        this.#respond(
          JSON.stringify({ requestId, rooms: [...this.rooms.keys()] }),
        );
        return;
      case _REMOTE_JOIN:
      case _REMOTE_LEAVE: {
        const join = request.type === _REMOTE_JOIN;
        if (request.opts) {
          const rooms = _strings(request.rooms);
          if (join) super.addSockets(_target(request.opts), rooms);
          else super.delSockets(_target(request.opts), rooms);
          return;
        }
        if (!sid || !host.socketInfo(sid)) return;
        const room = String(request.room);
        if (join) this.addAll(sid, [room]);
        else this.del(sid, room);
        this.#respond(JSON.stringify({ requestId }));
        return;
      }
      case _REMOTE_DISCONNECT: {
        const close = request.close === true;
        if (request.opts) {
          return super.disconnectSockets(_target(request.opts), close);
        }
        if (!sid || !host.socketInfo(sid)) return;
        host.disconnectLocal(sid, close);
        this.#respond(JSON.stringify({ requestId }));
        return;
      }
      case _REMOTE_FETCH: {
        const infos = await super.fetchSockets(_target(request.opts));
        const sockets = _socketAnswers(host, infos);
        this.#respond(JSON.stringify({ requestId, sockets }));
        return;
      }
      case _SERVER_SIDE_EMIT: {
        const data = Array.isArray(request.data) ? request.data : [];
        if (data.length === 0) return;
        const answers = await host.runServerSideEmit(data);
        if (requestId === undefined) return;
        this.#respond(
          JSON.stringify({
            type: _SERVER_SIDE_EMIT,
            requestId,
            data: answers.length <= 1 ? answers[0] : answers,
          }),
        );
        return;
      }
      case _BROADCAST:
        return this.#broadcastWithAck(request, host);
    }
  }

  #broadcastWithAck(request: Record<string, unknown>, host: _RichHost): void {
    const packet = request.packet as Record<string, unknown> | undefined;
    const { requestId } = request;
    _broadcastWithAck(
      host,
      (target) => this.localSids(target),
      request.opts,
      Array.isArray(packet?.data) ? packet.data : [],
      (clientCount) =>
        this.#respond(
          JSON.stringify({
            type: _BROADCAST_CLIENT_COUNT,
            requestId,
            clientCount,
          }),
        ),
      (answer) =>
        this.#respond(
          _encode({ type: _BROADCAST_ACK, requestId, packet: answer }),
        ),
    );
  }
}

/**
 * The `adapter` option of `serveEvents` that puts every namespace on
 * Socket.IO's Redis bus (see {@linkcode RedisAdapter}). All namespaces of
 * one server share one publishing and one subscribing Redis connection,
 * closed when the server shuts down (a `client` you pass stays open).
 *
 * Compatible with npm `@socket.io/redis-adapter` 8.x (`createAdapter(pub,
 * sub)`, the classic pub/sub protocol, default `key`) and with
 * `@socket.io/redis-emitter` / weft's {@linkcode RedisEmitter}. Needs
 * `--allow-net=<redis host>` and `--allow-env=REDIS_DEBUG_MAINTENANCE`.
 *
 * @example One server on the Redis bus
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveEvents } from "@weft/weft/net";
 * import { redisAdapter, RedisServer } from "@weft/weft/cluster";
 *
 * await using redis = await RedisServer.start();
 * await using server = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
 * assert.equal(await server.of("/").adapter.serverCount(), 1);
 * ```
 *
 * @param options Where Redis is, the channel prefix, the requests' deadline.
 * @returns A factory making one adapter per namespace.
 */
export function redisAdapter(
  options: RedisAdapterOptions,
): (host: AdapterHost) => RedisAdapter | RedisStreamsAdapter {
  _checkOptions(options);
  const protocol = options.protocol ?? "socket.io";
  if (protocol !== "socket.io" && protocol !== "socket.io-streams") {
    throw new TypeError(
      `Cannot create Redis adapter: unknown protocol ${
        JSON.stringify(protocol)
      } (expected "socket.io" or "socket.io-streams")`,
    );
  }
  const shared = { ...options };
  _buses.set(shared, new _Bus(options, "create Redis adapter"));
  return protocol === "socket.io"
    ? (host) => new RedisAdapter(host, shared)
    : (host) => new RedisStreamsAdapter(host, shared);
}
