/**
 * {@linkcode RedisValue} and {@linkcode RedisNamespace}: Manager-style
 * `Value` and `Namespace` proxies kept in Redis.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { _decode, _encode } from "./_codec.ts";
import { _NUM } from "./_lua_num.ts";
import { LeaseLost } from "./lease_lost.ts";

const INCREMENT = _script(
  _NUM + `
local cur = num(redis.call('GET', KEYS[1]), 0)
if cur == nil then return redis.error_reply('ERR value is not a number') end
local out = enc(cur + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], out)
return out`,
);
const CAS = _script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0`);
const FENCED_SET = _script(`
local hi = tonumber(redis.call('GET', KEYS[2]) or '0')
local t = tonumber(ARGV[2])
if t < hi then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
return 1`);

/** Options of {@linkcode RedisValue.set}. */
export interface FencedSetOptions {
  /**
   * A lock's fencing token (`lock.token`): the write is refused with
   * `LeaseLost` if a newer token already wrote — so a holder whose lease
   * expired (paused, partitioned) cannot overwrite its successor's work.
   */
  fence?: number;
}

/**
 * A single value shared through Redis — the Manager's `Value()`, with
 * atomic `increment`, `compareAndSet`, `getAndSet`, and fenced writes
 * (`set(v, { fence: lock.token })`) that refuse a stale lock holder.
 *
 * @example A shared stock counter
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const v = await m.Value<number>(10, { name: "stock" });
 * assert.deepEqual([await v.increment(-3), await v.compareAndSet(7, 0), await v.get()], [7, true, 0]);
 * ```
 */
export class RedisValue<T = unknown> {
  #conn: _Connection;
  #key: string;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Value()`. */
  constructor(conn: _Connection, key: string, name: string) {
    this.#conn = conn;
    this.#key = key;
    this.name = name;
  }

  /**
   * The current value (`undefined` if never set).
   *
   * @example Read the value
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value<number>(1, { name: "v" });
   * assert.equal(await v.get(), 1);
   * ```
   */
  async get(): Promise<T> {
    const v = await this.#conn.command(["GET", this.#key]);
    return (v === null ? undefined : _decode<T>(v as string)) as T;
  }
  /**
   * Replaces the value; with `{ fence }`, only if no newer fencing token
   * wrote before.
   *
   * @example A stale fencing token is refused
   * ```ts
   * import assert from "node:assert/strict";
   * import { LeaseLost, RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value<string>("", { name: "owner" });
   * await v.set("new holder", { fence: 8 });
   * await assert.rejects(v.set("stale holder", { fence: 7 }), LeaseLost);
   * ```
   */
  async set(value: T, options: FencedSetOptions = {}): Promise<void> {
    if (options.fence === undefined) {
      await this.#conn.command(["SET", this.#key, _encode(value)]);
      return;
    }
    const ok = await this.#conn.script(
      FENCED_SET,
      [this.#key, this.#key + ":fence"],
      [_encode(value), String(options.fence)],
    );
    if (Number(ok) !== 1) {
      throw new LeaseLost(
        `Cannot set value: fencing token ${options.fence} is older than the last writer's`,
      );
    }
  }
  /**
   * Adds `by` (default 1) atomically; returns the new value.
   *
   * @example Add one
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value<number>(1, { name: "v" });
   * assert.equal(await v.increment(), 2);
   * ```
   */
  async increment(by = 1): Promise<number> {
    const v = await this.#conn.script(INCREMENT, [this.#key], [String(by)]);
    return _decode<number>(v as string);
  }
  /**
   * Sets `next` only if the value is still `expected` (same encoding).
   *
   * @example Compare and set
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value<number>(1, { name: "v" });
   * assert.equal(await v.compareAndSet(1, 5), true);
   * assert.equal(await v.compareAndSet(1, 6), false);
   * ```
   */
  async compareAndSet(expected: T, next: T): Promise<boolean> {
    return Number(
      await this.#conn.script(CAS, [this.#key], [
        _encode(expected),
        _encode(next),
      ]),
    ) === 1;
  }
  /**
   * Sets `next`, returns the previous value.
   *
   * @example Swap in a new value
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const v = await m.Value<number>(1, { name: "v" });
   * assert.equal(await v.getAndSet(3), 1);
   * assert.equal(await v.get(), 3);
   * ```
   */
  async getAndSet(next: T): Promise<T> {
    const v = await this.#conn.command([
      "SET",
      this.#key,
      _encode(next),
      "GET",
    ]);
    return (v === null ? undefined : _decode<T>(v as string)) as T;
  }
}

/**
 * Named attributes shared through Redis — the Manager's `Namespace()`.
 *
 * @example Shared settings
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const ns = await m.Namespace<{ mode: string; n: number }>({ mode: "fast" }, { name: "cfg" });
 * await ns.set("n", 3);
 * assert.deepEqual(await ns.toObject(), { mode: "fast", n: 3 });
 * ```
 */
export class RedisNamespace<
  T extends Record<string, unknown> = Record<string, unknown>,
> {
  #conn: _Connection;
  #key: string;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Namespace()`. */
  constructor(conn: _Connection, key: string, name: string) {
    this.#conn = conn;
    this.#key = key;
    this.name = name;
  }

  /**
   * The attribute `name`, or `undefined`.
   *
   * @example Read an attribute
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * await ns.set("a", 1);
   * assert.equal(await ns.get("a"), 1);
   * ```
   */
  async get<N extends keyof T & string>(name: N): Promise<T[N]> {
    const v = await this.#conn.command(["HGET", this.#key, name]);
    return (v === null ? undefined : _decode(v as string)) as T[N];
  }
  /**
   * Sets the attribute `name`.
   *
   * @example Set an attribute
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * await ns.set("b", "x");
   * assert.equal(await ns.get("b"), "x");
   * ```
   */
  async set<N extends keyof T & string>(name: N, value: T[N]): Promise<void> {
    await this.#conn.command(["HSET", this.#key, name, _encode(value)]);
  }
  /**
   * Removes the attribute `name`; true if it was there.
   *
   * @example Delete an attribute
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * await ns.set("a", 1);
   * assert.equal(await ns.delete("a"), true);
   * ```
   */
  async delete(name: keyof T & string): Promise<boolean> {
    return Number(await this.#conn.command(["HDEL", this.#key, name])) === 1;
  }
  /**
   * True if the attribute `name` is set.
   *
   * @example Test for an attribute
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * assert.equal(await ns.has("a"), false);
   * ```
   */
  async has(name: keyof T & string): Promise<boolean> {
    return Number(await this.#conn.command(["HEXISTS", this.#key, name])) ===
      1;
  }
  /**
   * Sets several attributes in one atomic step.
   *
   * @example Set several attributes
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * await ns.update({ a: 1, b: "x" });
   * assert.deepEqual(await ns.toObject(), { a: 1, b: "x" });
   * ```
   */
  async update(values: Partial<T>): Promise<void> {
    const pairs: string[] = [];
    for (const [k, v] of Object.entries(values)) pairs.push(k, _encode(v));
    if (pairs.length > 0) {
      await this.#conn.command(["HSET", this.#key, ...pairs]);
    }
  }
  /**
   * A copy of all attributes.
   *
   * @example Read every attribute
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const ns = await m.Namespace<{ a: number; b: string }>(undefined, { name: "ns" });
   * await ns.set("a", 2);
   * assert.deepEqual(await ns.toObject(), { a: 2 });
   * ```
   */
  async toObject(): Promise<Partial<T>> {
    const raw = await this.#conn.command(["HGETALL", this.#key]);
    const out: Record<string, unknown> = {};
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i += 2) out[raw[i]] = _decode(raw[i + 1]);
    } else {
      for (const [k, v] of Object.entries(raw as Record<string, string>)) {
        out[k] = _decode(v);
      }
    }
    return out as Partial<T>;
  }
}
