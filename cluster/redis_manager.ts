/**
 * {@linkcode RedisManager}: the Manager's factory names, on Redis, shared
 * across machines by name.
 *
 * @module
 */

import { _Connection, _script } from "./_connection.ts";
import { _encode } from "./_codec.ts";
import { _randomId } from "./_wait.ts";
import type { RedisClientLike } from "./redis_client.ts";
import { RedisDict } from "./redis_dict.ts";
import { RedisList } from "./redis_list.ts";
import { RedisNamespace, RedisValue } from "./redis_value.ts";
import { RedisLock, type RedisLockOptions, RedisRLock } from "./redis_lock.ts";
import { RedisSemaphore } from "./redis_semaphore.ts";
import { RedisEvent } from "./redis_event.ts";
import { RedisBarrier } from "./redis_barrier.ts";
import { JoinableQueue } from "./joinable_queue.ts";
import type { QueueConnectOptions } from "./queue_options.ts";

/** Options of {@linkcode RedisManager.connect}. */
export interface RedisManagerOptions {
  /**
   * Milliseconds a command keeps being retried while Redis is unreachable.
   *
   * @default {30000}
   */
  retryTimeout?: number;
  /**
   * Milliseconds the first connection keeps being tried before `connect` rejects.
   *
   * @default {5000}
   */
  connectTimeout?: number;
  /**
   * Key prefix (default `"weft"`): objects live at `<prefix>:<kind>:{<name>}`.
   *
   * @default {"weft"}
   */
  prefix?: string;
}

/** Options naming a shared object. */
export interface SharedNameOptions {
  /** The object's name: every process opening this name shares it
   * (default: a fresh random name, see the proxy's `name`). */
  name?: string;
}

// Sets initial contents only when the object does not exist yet.
const INIT_HASH = _script(`
if redis.call('EXISTS', KEYS[1]) == 1 or #ARGV == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`);
const INIT_LIST = _script(`
if redis.call('EXISTS', KEYS[1]) == 1 or #ARGV == 0 then return 0 end
redis.call('RPUSH', KEYS[1], unpack(ARGV))
return 1`);

function objectName(what: string, options?: SharedNameOptions): string {
  const name = options?.name ?? _randomId();
  if (typeof name !== "string" || name === "" || /[{}\s]/.test(name)) {
    throw new TypeError(
      `Cannot create ${what}: "name" must be a non-empty string without braces or spaces, got ${
        String(name)
      }`,
    );
  }
  return name;
}

/**
 * Shared state for a fleet, on Redis: the factory names of weft's (and
 * Python's) `Manager` — `dict`, `list`, `Namespace`, `Value`, `Lock`,
 * `RLock`, `Semaphore`, `Event`, `Barrier`, `Queue`, `JoinableQueue` —
 * returning async proxies. There
 * is no manager process: every object lives in Redis under its **name**,
 * so processes on different machines that open the same name share it
 * (initial contents apply only when the object does not exist yet). Locks
 * and semaphores are leases renewed while held, freed when the holder dies
 * (after the lease), with fencing tokens.
 *
 * @example Shared state between two managers
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using one = await RedisManager.connect(server.url, { prefix: "app" });
 * await using two = await RedisManager.connect(server.url, { prefix: "app" });
 * const a = await one.dict<string, string>({ bob: "s0" }, { name: "sessions" });
 * // the dict exists now: this initial content is ignored
 * const b = await two.dict<string, string>({ eve: "x" }, { name: "sessions" });
 * await a.set("alice", "s1");
 * assert.deepEqual([await b.get("alice"), await b.size()], ["s1", 2]);
 * ```
 */
export class RedisManager implements AsyncDisposable {
  #conn: _Connection;
  #prefix: string;
  #target: string | URL | RedisClientLike;
  #disposables = new Set<AsyncDisposable>();

  private constructor(
    conn: _Connection,
    prefix: string,
    target: string | URL | RedisClientLike,
  ) {
    this.#target = target;
    this.#conn = conn;
    this.#prefix = prefix;
  }

  /**
   * Connects to the Redis at `target` (a `redis://` URL or your own
   * node-redis client).
   *
   * @example Connect with a key prefix
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url, { prefix: "demo" });
   * assert.deepEqual(m.prefix, "demo");
   * ```
   *
   * @throws {TypeError} (rejection) If the URL is invalid or no server answers.
   */
  static async connect(
    target: string | URL | RedisClientLike,
    options: RedisManagerOptions = {},
  ): Promise<RedisManager> {
    const prefix = options.prefix ?? "weft";
    if (typeof prefix !== "string" || prefix === "" || /[{}\s]/.test(prefix)) {
      throw new TypeError(
        `Cannot connect manager: "prefix" must be a non-empty string without braces or spaces`,
      );
    }
    const conn = await _Connection.open(target, "connect manager", options);
    return new RedisManager(conn, prefix, target);
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#prefix;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#conn.closed;
  }

  #key(kind: string, name: string): string {
    return `${this.#prefix}:${kind}:{${name}}`;
  }

  /**
   * A shared dictionary (a Redis HASH).
   *
   * @example Open a dict
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict({ a: 1 }, { name: "config" });
   * assert.equal(await d.get("a"), 1);
   * ```
   */
  async dict<K = unknown, V = unknown>(
    initial?: Iterable<readonly [K, V]> | Record<string, V>,
    options?: SharedNameOptions,
  ): Promise<RedisDict<K, V>> {
    const name = objectName("dict", options);
    const key = this.#key("dict", name);
    if (initial !== undefined) {
      const args: string[] = [];
      const source = Symbol.iterator in Object(initial)
        ? initial as Iterable<readonly [K, V]>
        : Object.entries(initial) as unknown as Iterable<readonly [K, V]>;
      for (const [k, v] of source) args.push(_encode(k), _encode(v));
      await this.#conn.script(INIT_HASH, [key], args);
    }
    return new RedisDict<K, V>(this.#conn, key, name);
  }

  /**
   * A shared list (a Redis LIST).
   *
   * @example Open a list
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list([1, 2], { name: "numbers" });
   * assert.deepEqual(await l.toArray(), [1, 2]);
   * ```
   */
  async list<T = unknown>(
    initial?: Iterable<T>,
    options?: SharedNameOptions,
  ): Promise<RedisList<T>> {
    const name = objectName("list", options);
    const key = this.#key("list", name);
    if (initial !== undefined) {
      await this.#conn.script(INIT_LIST, [key], Array.from(initial, _encode));
    }
    return new RedisList<T>(this.#conn, key, name);
  }

  /**
   * Shared named attributes (a Redis HASH).
   *
   * @example Open a namespace
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace({ mode: "fast" }, { name: "settings" });
   * assert.equal(await ns.get("mode"), "fast");
   * ```
   */
  async Namespace<T extends Record<string, unknown> = Record<string, unknown>>(
    initial?: Partial<T>,
    options?: SharedNameOptions,
  ): Promise<RedisNamespace<T>> {
    const name = objectName("Namespace", options);
    const key = this.#key("ns", name);
    if (initial !== undefined) {
      const args: string[] = [];
      for (const [k, v] of Object.entries(initial)) args.push(k, _encode(v));
      await this.#conn.script(INIT_HASH, [key], args);
    }
    return new RedisNamespace<T>(this.#conn, key, name);
  }

  /**
   * A shared value (a Redis STRING), set to `initial` if new.
   *
   * @example Open a value
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value(0, { name: "counter" });
   * assert.equal(await v.increment(), 1);
   * ```
   */
  async Value<T = unknown>(
    initial?: T,
    options?: SharedNameOptions,
  ): Promise<RedisValue<T>> {
    const name = objectName("Value", options);
    const key = this.#key("value", name);
    if (initial !== undefined) {
      await this.#conn.command(["SET", key, _encode(initial), "NX"]);
    }
    return new RedisValue<T>(this.#conn, key, name);
  }

  #track<T extends AsyncDisposable>(object: T): T {
    this.#disposables.add(object);
    return object;
  }

  /**
   * A leased lock with fencing tokens.
   *
   * @example Open a lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.Lock({ name: "jobs", lease: 5000 });
   * assert.equal(await lock.acquire(), true);
   * await lock.release();
   * ```
   */
  Lock(options: RedisLockOptions = {}): Promise<RedisLock> {
    const name = objectName("Lock", options);
    return Promise.resolve(this.#track(
      new RedisLock(this.#conn, this.#key("lock", name), name, options),
    ));
  }

  /**
   * A re-entrant leased lock.
   *
   * @example Open a re-entrant lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.RLock({ name: "tree" });
   * assert.equal(await lock.acquire(), true);
   * await lock.release();
   * ```
   */
  RLock(options: RedisLockOptions = {}): Promise<RedisRLock> {
    const name = objectName("RLock", options);
    return Promise.resolve(this.#track(
      new RedisRLock(this.#conn, this.#key("lock", name), name, options),
    ));
  }

  /**
   * A semaphore of `value` leased slots (the first creator fixes `value`).
   *
   * @example Open a semaphore
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const s = await m.Semaphore(3, { name: "downloads" });
   * assert.equal(await s.value(), 3);
   * ```
   */
  async Semaphore(
    value = 1,
    options: SharedNameOptions & { lease?: number } = {},
  ): Promise<RedisSemaphore> {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot create Semaphore: "value" must be an integer >= 0, got ${value}`,
      );
    }
    const lease = options.lease ?? 10_000;
    if (!Number.isInteger(lease) || lease < 30) {
      throw new RangeError(
        `Cannot create Semaphore: "lease" must be an integer >= 30 ms, got ${lease}`,
      );
    }
    const name = objectName("Semaphore", options);
    const key = this.#key("sem", name);
    await this.#conn.command(["SET", key + ":max", String(value), "NX"]);
    return this.#track(new RedisSemaphore(this.#conn, key, name, lease));
  }

  /**
   * An event flag.
   *
   * @example Open an event
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const e = await m.Event({ name: "ready" });
   * assert.equal(await e.isSet(), false);
   * ```
   */
  Event(options?: SharedNameOptions): Promise<RedisEvent> {
    const name = objectName("Event", options);
    return Promise.resolve(
      new RedisEvent(this.#conn, this.#key("event", name), name),
    );
  }

  /**
   * A barrier for `parties` callers (the first creator fixes `parties`).
   *
   * @example Open a barrier
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(2, { name: "start" });
   * assert.equal(b.parties, 2);
   * ```
   */
  async Barrier(
    parties: number,
    options?: SharedNameOptions,
  ): Promise<RedisBarrier> {
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(
        `Cannot create Barrier: "parties" must be an integer >= 1, got ${parties}`,
      );
    }
    const name = objectName("Barrier", options);
    const key = this.#key("barrier", name);
    await this.#conn.command(["HSETNX", key, "parties", String(parties)]);
    const stored = Number(await this.#conn.command(["HGET", key, "parties"]));
    return new RedisBarrier(this.#conn, key, name, stored);
  }

  /**
   * A queue shared by name (its own connection; same keys as
   * `JoinableQueue.connect(url, { name, prefix })`, so both meet).
   *
   * @example Open a queue
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * await using q = await m.Queue<string>({ name: "mail", maxsize: 10 });
   * await q.put("hi");
   * assert.equal(await q.get(), "hi");
   * await q.taskDone();
   * ```
   */
  Queue<T = unknown>(
    options: Omit<QueueConnectOptions, "prefix">,
  ): Promise<JoinableQueue<T>> {
    return JoinableQueue.connect<T>(this.#target, {
      ...options,
      prefix: this.#prefix,
    });
  }

  /**
   * The same as {@linkcode RedisManager.Queue} (Python's Manager has both
   * names).
   *
   * @example Open a joinable queue
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * await using q = await m.JoinableQueue<number>({ name: "work" });
   * assert.equal(await q.join({ timeout: 10 }), true);
   * ```
   */
  JoinableQueue<T = unknown>(
    options: Omit<QueueConnectOptions, "prefix">,
  ): Promise<JoinableQueue<T>> {
    return this.Queue<T>(options);
  }

  /**
   * Releases the locks and semaphore slots its handles hold, stops their
   * lease renewers and closes the connection. Idempotent. (A process that
   * dies without closing frees them after one lease.)
   *
   * @example Close a manager
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const other = await RedisManager.connect(server.url);
   * await other.close();
   * assert.equal(other.closed, true);
   * ```
   */
  async close(): Promise<void> {
    for (const d of this.#disposables) await d[Symbol.asyncDispose]();
    this.#disposables.clear();
    await this.#conn.close();
  }

  /** Closes the manager. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
