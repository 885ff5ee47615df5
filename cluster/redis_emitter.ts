/**
 * {@linkcode RedisEmitter}: emit to the clients of a whole event-server
 * fleet from any process, without running a server.
 *
 * @module
 */
import { RESERVED_EVENTS, Tuple } from "../net/mod.ts";
import { _Bus } from "./_adapter_bus.ts";
import {
  _REMOTE_DISCONNECT,
  _REMOTE_JOIN,
  _REMOTE_LEAVE,
  _SERVER_SIDE_EMIT,
} from "./_adapter_protocol.ts";
import { _encode } from "./_msgpack.ts";
import { _xadd } from "./_adapter_streams.ts";
import type { RedisClientLike } from "./redis_client.ts";

/**
 * Options of {@linkcode RedisEmitter}.
 *
 * @example Options for a namespace
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RedisEmitterOptions } from "@weft/weft/cluster";
 *
 * const options: RedisEmitterOptions = { url: "redis://127.0.0.1:6379", namespace: "/chat" };
 * assert.equal(options.namespace, "/chat");
 * ```
 */
export interface RedisEmitterOptions {
  /** `redis://` or `rediss://` URL (or give `client`). */
  url?: string | URL;
  /** Your own node-redis client (never closed by the emitter). */
  client?: RedisClientLike;
  /**
   * Channel prefix (default `"socket.io"`, as the adapters').
   *
   * @default {"socket.io"}
   */
  key?: string;
  /**
   * Default namespace.
   *
   * @default {"/"}
   */
  namespace?: string;
  /**
   * Milliseconds the first connection to Redis may take before a call fails.
   *
   * @default {5000}
   */
  connectTimeout?: number;
  /**
   * The fleet's bus: `"socket.io"` (default, `@socket.io/redis-adapter`)
   * or `"socket.io-streams"` (`@socket.io/redis-streams-adapter`; `key` is
   * then also the stream's name).
   *
   * @default {"socket.io"}
   */
  protocol?: "socket.io" | "socket.io-streams";
}

/**
 * Whom an emitter's operation reaches, like `server.emit`'s options.
 *
 * @example Target one room
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EmitterTarget } from "@weft/weft/cluster";
 *
 * const target: EmitterTarget = { room: "lobby", skip: "sid1" };
 * assert.equal(target.room, "lobby");
 * ```
 */
export interface EmitterTarget {
  /** A sid or room (or several): only their members. Same as `room`. */
  to?: string | readonly string[];
  /** A sid or room (or several): only their members. Same as `to`. */
  room?: string | readonly string[];
  /** Sids or rooms to leave out. */
  skip?: string | readonly string[];
  /** Namespace (default: the emitter's). */
  namespace?: string;
}

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = typeof value === "string" ? [value] : [...value];
  for (const item of items) {
    if (typeof item !== "string") {
      throw new TypeError("Cannot emit: rooms must be strings");
    }
  }
  return items;
}

function args(data: unknown): unknown[] {
  if (data === undefined) return [];
  if (data instanceof Tuple) return [...data];
  return [data];
}

/**
 * A write-only member of an event-server fleet on Redis, like npm
 * `@socket.io/redis-emitter` and python-socketio's write-only
 * `AsyncRedisManager`: a Pool task, a cron job or a script sends events to
 * the clients of every node (weft with {@linkcode redisAdapter}, or Node
 * socket.io with `@socket.io/redis-adapter`; with `protocol:
 * "socket.io-streams"`, the fleet of `@socket.io/redis-streams-adapter`),
 * makes their sockets join or leave rooms, or disconnects them. Nothing is
 * awaited from the nodes: each method resolves once Redis has the message.
 *
 * `data` follows the event server: one value, or a `tuple(a, b)` for
 * several arguments.
 *
 * @example Emit to a fleet from outside it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 * import { RedisAdapter, redisAdapter, RedisEmitter, RedisServer } from "@weft/weft/cluster";
 *
 * await using redis = await RedisServer.start();
 * await using server = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
 * await (server.of("/").adapter as RedisAdapter).ready;
 * server.on("connect", (sid) => server.enterRoom(sid, "job-42"));
 * await using client = await connectEvents(server.url);
 * const done = new Promise((resolve) => client.on("done", resolve));
 *
 * await using emitter = new RedisEmitter({ url: redis.url });
 * await emitter.emit("done", { ok: true }, { room: "job-42" });
 * assert.deepEqual(await done, { ok: true });
 * ```
 */
export class RedisEmitter {
  #bus: _Bus;
  #key: string;
  #namespace: string;
  #streams: boolean;
  #closed = false;

  /**
   * Prepares the emitter (it connects on first use).
   *
   * @param options Where Redis is, the channel prefix, the namespace.
   */
  constructor(options: RedisEmitterOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create Redis emitter: expected options");
    }
    const key = options.key ?? "socket.io";
    if (typeof key !== "string" || key === "") {
      throw new TypeError("Cannot create Redis emitter: invalid key");
    }
    const protocol = options.protocol ?? "socket.io";
    if (protocol !== "socket.io" && protocol !== "socket.io-streams") {
      throw new TypeError(
        `Cannot create Redis emitter: unknown protocol ${
          JSON.stringify(protocol)
        }`,
      );
    }
    this.#streams = protocol === "socket.io-streams";
    this.#key = key;
    this.#namespace = this.#nsp(options.namespace ?? "/");
    const connectTimeout = options.connectTimeout ?? 5000;
    if (!Number.isFinite(connectTimeout) || connectTimeout <= 0) {
      throw new RangeError(
        "Cannot create Redis emitter: connectTimeout must be a positive number of ms",
      );
    }
    this.#bus = new _Bus(options, "create Redis emitter");
    this.#bus.connectTimeout = connectTimeout;
    this.#bus.ref();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #nsp(name: unknown): string {
    if (typeof name !== "string") {
      throw new TypeError("Cannot use namespace: expected a string");
    }
    return name.startsWith("/") ? name : "/" + name;
  }

  #check(what: string): void {
    if (this.#closed) {
      throw new TypeError(`Cannot ${what}: the emitter is closed`);
    }
  }

  #opts(target: EmitterTarget) {
    return {
      nsp: this.#nsp(target.namespace ?? this.#namespace),
      rooms: [...new Set([...list(target.to), ...list(target.room)])],
      except: [...new Set(list(target.skip))],
    };
  }

  /**
   * Sends `event` to the target's clients on every node.
   *
   * @param event Event name (not a reserved one).
   * @param data One value, or a tuple of several arguments.
   * @param target Rooms / sids, exceptions, namespace.
   */
  async emit(
    event: string,
    data?: unknown,
    target: EmitterTarget = {},
  ): Promise<void> {
    this.#check("emit");
    if (typeof event !== "string" || event === "") {
      throw new TypeError("Cannot emit: event must be a non-empty string");
    }
    if (RESERVED_EVENTS.has(event)) {
      throw new TypeError(
        `Cannot emit event ${JSON.stringify(event)}: the name is reserved`,
      );
    }
    const { nsp, rooms, except } = this.#opts(target);
    if (this.#streams) {
      await this.#bus.command(_xadd(this.#key, "emitter", nsp, 3, {
        packet: { type: 2, data: [event, ...args(data)], nsp },
        opts: { rooms, except, flags: {} },
      }));
      return;
    }
    const msg = _encode([
      "emitter",
      { type: 2, data: [event, ...args(data)], nsp },
      { rooms, except, flags: {} },
    ]);
    let channel = `${this.#key}#${nsp}#`;
    if (rooms.length === 1) channel += rooms[0] + "#";
    await this.#bus.publish(channel, msg);
  }

  /**
   * Sends a `"message"` event (python-socketio's `send`).
   *
   * @param data One value, or a tuple.
   * @param target Rooms / sids, exceptions, namespace.
   */
  send(data: unknown, target: EmitterTarget = {}): Promise<void> {
    return this.emit("message", data, target);
  }

  async #request(
    what: string,
    nsp: string,
    body: Record<string, unknown> & { type: number },
  ): Promise<void> {
    this.#check(what);
    if (this.#streams) {
      const { type, uid: _uid, ...data } = body;
      if (type === _SERVER_SIDE_EMIT) { // ephemeral: pub/sub, msgpack
        await this.#bus.publish(
          `${this.#key}#${nsp}#`,
          _encode({
            uid: "emitter",
            nsp,
            type: 9,
            data: { packet: data.data },
          }),
        );
        return;
      }
      // REMOTE_JOIN 2 / LEAVE 3 / DISCONNECT 4 → SOCKETS_JOIN 4 / LEAVE 5 / DISCONNECT_SOCKETS 6
      await this.#bus.command(_xadd(this.#key, "emitter", nsp, type + 2, data));
      return;
    }
    await this.#bus.publish(
      `${this.#key}-request#${nsp}#`,
      JSON.stringify(body),
    );
  }

  /**
   * Makes the target's sockets (every node) join `rooms`.
   *
   * @param rooms Room(s) to join.
   * @param target Whose sockets (default: all of the namespace).
   */
  socketsJoin(
    rooms: string | readonly string[],
    target: EmitterTarget = {},
  ): Promise<void> {
    const { nsp, ...opts } = this.#opts(target);
    return this.#request("join rooms", nsp, {
      type: _REMOTE_JOIN,
      opts,
      rooms: list(rooms),
    });
  }

  /**
   * Makes the target's sockets (every node) leave `rooms`.
   *
   * @param rooms Room(s) to leave.
   * @param target Whose sockets (default: all of the namespace).
   */
  socketsLeave(
    rooms: string | readonly string[],
    target: EmitterTarget = {},
  ): Promise<void> {
    const { nsp, ...opts } = this.#opts(target);
    return this.#request("leave rooms", nsp, {
      type: _REMOTE_LEAVE,
      opts,
      rooms: list(rooms),
    });
  }

  /**
   * Removes every socket from `room` on every node (python-socketio's
   * `close_room`).
   *
   * @param room The room.
   * @param options Namespace.
   */
  closeRoom(room: string, options: { namespace?: string } = {}): Promise<void> {
    return this.socketsLeave(room, { room, namespace: options.namespace });
  }

  /**
   * Disconnects the target's sockets on every node (`close`: their whole
   * connection).
   *
   * @param target Whose sockets, plus `close`.
   */
  disconnectSockets(
    target: EmitterTarget & { close?: boolean } = {},
  ): Promise<void> {
    const { nsp, ...opts } = this.#opts(target);
    return this.#request("disconnect sockets", nsp, {
      type: _REMOTE_DISCONNECT,
      opts,
      close: target.close === true,
    });
  }

  /**
   * Runs `event` on every node's server-side handlers
   * (`onServerSideEmit`); no answers (an emitter is not on the bus).
   *
   * @param event Event name.
   * @param data One value, or a tuple.
   * @param options Namespace.
   */
  serverSideEmit(
    event: string,
    data?: unknown,
    options: { namespace?: string } = {},
  ): Promise<void> {
    if (typeof event !== "string" || event === "") {
      throw new TypeError(
        "Cannot emit to servers: event must be a non-empty string",
      );
    }
    const nsp = this.#nsp(options.namespace ?? this.#namespace);
    return this.#request("emit to servers", nsp, {
      uid: "emitter",
      type: _SERVER_SIDE_EMIT,
      data: [event, ...args(data)],
    });
  }

  /** Closes the Redis connection it opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#bus.close();
  }

  /** Same as {@linkcode RedisEmitter.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
