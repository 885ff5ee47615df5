/**
 * {@linkcode RedisDict}: a Manager-style `dict` proxy kept in a Redis HASH.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { _decode, _encode } from "./_codec.ts";
import { _NUM } from "./_lua_num.ts";

const POP = _script(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v`);
const SETDEFAULT = _script(`
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])`);
const INCREMENT = _script(
  _NUM + `
local cur = num(redis.call('HGET', KEYS[1], ARGV[1]), 0)
if cur == nil then return redis.error_reply('ERR value is not a number') end
local out = enc(cur + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], ARGV[1], out)
return out`,
);

/**
 * A dictionary shared through Redis by every process that opens it by the
 * same name — the cluster form of the Manager's `dict()` proxy, with the
 * same async methods. Keys and values are structured-cloneable (keys are
 * compared by their encoding: `1` and `"1"` are different keys). Each
 * method is one atomic Redis step.
 *
 * @example A shared dict of scores
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const d = await m.dict<string, number>({ a: 1 }, { name: "scores" });
 * await d.set("b", 2);
 * assert.deepEqual([await d.get("a"), await d.size(), await d.increment("b", 5)], [1, 2, 7]);
 * ```
 */
export class RedisDict<K = unknown, V = unknown> {
  #conn: _Connection;
  #key: string;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.dict()`. */
  constructor(conn: _Connection, key: string, name: string) {
    this.#conn = conn;
    this.#key = key;
    this.name = name;
  }

  /**
   * The value of `key`, or `fallback`.
   *
   * @example Read a key
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * assert.equal(await d.get("a"), 1);
   * assert.equal(await d.get("zz", 0), 0);
   * ```
   */
  async get(key: K, fallback?: V): Promise<V | undefined> {
    const v = await this.#conn.command(["HGET", this.#key, _encode(key)]);
    return v === null ? fallback : _decode<V>(v as string);
  }
  /**
   * Sets `key`.
   *
   * @example Overwrite a key
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 2);
   * assert.equal(await d.get("a"), 2);
   * ```
   */
  async set(key: K, value: V): Promise<void> {
    await this.#conn.command(["HSET", this.#key, _encode(key), _encode(value)]);
  }
  /**
   * Removes `key`; true if it was there.
   *
   * @example Delete a key
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * assert.equal(await d.delete("a"), true);
   * assert.equal(await d.delete("a"), false);
   * ```
   */
  async delete(key: K): Promise<boolean> {
    return Number(
      await this.#conn.command(["HDEL", this.#key, _encode(key)]),
    ) === 1;
  }
  /**
   * True if `key` is set.
   *
   * @example Test for a key
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * assert.equal(await d.has("a"), true);
   * ```
   */
  async has(key: K): Promise<boolean> {
    return Number(
      await this.#conn.command(["HEXISTS", this.#key, _encode(key)]),
    ) === 1;
  }
  /**
   * The keys.
   *
   * @example List the keys
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.update({ a: 1, b: 2 });
   * assert.deepEqual((await d.keys()).sort(), ["a", "b"]);
   * ```
   */
  async keys(): Promise<K[]> {
    const raw = await this.#conn.command(["HKEYS", this.#key]) as string[];
    return raw.map((k) => _decode<K>(k));
  }
  /**
   * The values.
   *
   * @example List the values
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.update({ a: 1, b: 2 });
   * assert.deepEqual((await d.values()).sort(), [1, 2]);
   * ```
   */
  async values(): Promise<V[]> {
    const raw = await this.#conn.command(["HVALS", this.#key]) as string[];
    return raw.map((v) => _decode<V>(v));
  }
  /**
   * The `[key, value]` pairs.
   *
   * @example List the entries
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * assert.deepEqual(await d.entries(), [["a", 1]]);
   * ```
   */
  async entries(): Promise<[K, V][]> {
    const raw = await this.#conn.command(["HGETALL", this.#key]);
    const out: [K, V][] = [];
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i += 2) {
        out.push([_decode<K>(raw[i]), _decode<V>(raw[i + 1])]);
      }
    } else {
      for (const [k, v] of Object.entries(raw as Record<string, string>)) {
        out.push([_decode<K>(k), _decode<V>(v)]);
      }
    }
    return out;
  }
  /**
   * Number of keys.
   *
   * @example Count the entries
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.update([["a", 1], ["b", 2]]);
   * assert.equal(await d.size(), 2);
   * ```
   */
  async size(): Promise<number> {
    return Number(await this.#conn.command(["HLEN", this.#key]));
  }
  /**
   * Removes every key.
   *
   * @example Remove every entry
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * await d.clear();
   * assert.equal(await d.size(), 0);
   * ```
   */
  async clear(): Promise<void> {
    await this.#conn.command(["DEL", this.#key]);
  }
  /**
   * Sets several keys in one step (from pairs or a plain object).
   *
   * @example Set several keys at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.update({ a: 1, b: 2 });
   * assert.equal(await d.get("b"), 2);
   * ```
   */
  async update(
    values: Iterable<readonly [K, V]> | Record<string, V>,
  ): Promise<void> {
    const pairs: string[] = [];
    const source = Symbol.iterator in Object(values)
      ? values as Iterable<readonly [K, V]>
      : Object.entries(values) as unknown as Iterable<readonly [K, V]>;
    for (const [k, v] of source) pairs.push(_encode(k), _encode(v));
    if (pairs.length > 0) {
      await this.#conn.command(["HSET", this.#key, ...pairs]);
    }
  }
  /**
   * The value of `key`, setting it to `value` first if missing.
   *
   * @example Set a key only when missing
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * assert.equal(await d.setdefault("a", 5), 5);
   * assert.equal(await d.setdefault("a", 9), 5);
   * ```
   */
  async setdefault(key: K, value: V): Promise<V> {
    const v = await this.#conn.script(SETDEFAULT, [this.#key], [
      _encode(key),
      _encode(value),
    ]);
    return _decode<V>(v as string);
  }
  /**
   * Removes `key` and returns its value (or `fallback`).
   *
   * @example Remove a key and return its value
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * await d.set("a", 1);
   * assert.equal(await d.pop("a"), 1);
   * assert.equal(await d.pop("a", -1), -1);
   * ```
   */
  async pop(key: K, fallback?: V): Promise<V | undefined> {
    const v = await this.#conn.script(POP, [this.#key], [_encode(key)]);
    return v === null ? fallback : _decode<V>(v as string);
  }
  /**
   * Adds `by` to the number at `key` (missing = 0); returns the result.
   *
   * @example Count hits atomically
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const d = await m.dict<string, number>(undefined, { name: "d" });
   * assert.equal(await d.increment("hits"), 1);
   * assert.equal(await d.increment("hits", 10), 11);
   * ```
   */
  async increment(key: K, by = 1): Promise<number> {
    const v = await this.#conn.script(INCREMENT, [this.#key], [
      _encode(key),
      String(by),
    ]);
    return _decode<number>(v as string);
  }
}
