/**
 * {@linkcode RedisList}: a Manager-style `list` proxy kept in a Redis LIST.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { _decode, _encode } from "./_codec.ts";

const POP_AT = _script(`
local n = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = i + n end
if i < 0 or i >= n then return false end
local v = redis.call('LINDEX', KEYS[1], i)
redis.call('LSET', KEYS[1], i, '__weft_deleted__')
redis.call('LREM', KEYS[1], 1, '__weft_deleted__')
return v`);
const INSERT = _script(`
local n = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = math.max(0, i + n) end
if i >= n then return redis.call('RPUSH', KEYS[1], ARGV[2]) end
local tail = redis.call('LRANGE', KEYS[1], i, -1)
redis.call('LTRIM', KEYS[1], 0, i - 1)
if i == 0 then redis.call('DEL', KEYS[1]) end
redis.call('RPUSH', KEYS[1], ARGV[2])
for _, v in ipairs(tail) do redis.call('RPUSH', KEYS[1], v) end
return n + 1`);

/**
 * A list shared through Redis by every process that opens it by the same
 * name — the cluster form of the Manager's `list()` proxy, with the same
 * async methods (each one atomic).
 *
 * @example A shared list
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const l = await m.list<string>(["a"], { name: "log" });
 * await l.push("b", "c");
 * await l.insert(0, "z");
 * assert.deepEqual([await l.toArray(), await l.pop()], [["z", "a", "b", "c"], "c"]);
 * ```
 */
export class RedisList<T = unknown> {
  #conn: _Connection;
  #key: string;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.list()`. */
  constructor(conn: _Connection, key: string, name: string) {
    this.#conn = conn;
    this.#key = key;
    this.name = name;
  }

  /**
   * Appends items; returns the new length.
   *
   * @example Append items
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * assert.equal(await l.push("a", "b"), 2);
   * ```
   */
  async push(...items: T[]): Promise<number> {
    if (items.length === 0) return await this.length();
    return Number(
      await this.#conn.command(["RPUSH", this.#key, ...items.map(_encode)]),
    );
  }
  /**
   * Appends every item of `items`; returns the new length.
   *
   * @example Append an array
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * assert.equal(await l.extend(["a", "b"]), 2);
   * ```
   */
  extend(items: T[]): Promise<number> {
    return this.push(...items);
  }
  /**
   * Removes and returns the item at `index` (default: the last).
   *
   * @example Pop the last item
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "b", "c");
   * assert.equal(await l.pop(), "c");
   * assert.equal(await l.pop(0), "a");
   * ```
   */
  async pop(index?: number): Promise<T> {
    const v = index === undefined
      ? await this.#conn.command(["RPOP", this.#key])
      : await this.#conn.script(POP_AT, [this.#key], [String(index)]);
    if (v === null) {
      throw new RangeError("Cannot pop from list: index out of range");
    }
    return _decode<T>(v as string);
  }
  /**
   * Inserts `item` before `index`; returns the new length.
   *
   * @example Insert in the middle
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "c");
   * await l.insert(1, "b");
   * assert.deepEqual(await l.toArray(), ["a", "b", "c"]);
   * ```
   */
  async insert(index: number, item: T): Promise<number> {
    return Number(
      await this.#conn.script(INSERT, [this.#key], [
        String(Math.trunc(index)),
        _encode(item),
      ]),
    );
  }
  /**
   * The item at `index` (negative counts from the end), or `undefined`.
   *
   * @example Read from the end
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "b");
   * assert.equal(await l.at(-1), "b");
   * ```
   */
  async at(index: number): Promise<T | undefined> {
    const v = await this.#conn.command(["LINDEX", this.#key, String(index)]);
    return v === null ? undefined : _decode<T>(v as string);
  }
  /**
   * Replaces the item at `index`.
   *
   * @example Replace an item
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a");
   * await l.set(0, "z");
   * assert.equal(await l.at(0), "z");
   * ```
   */
  async set(index: number, item: T): Promise<void> {
    try {
      await this.#conn.command([
        "LSET",
        this.#key,
        String(index),
        _encode(item),
      ]);
    } catch (error) {
      throw new RangeError("Cannot set list item: index out of range", {
        cause: error,
      });
    }
  }
  /**
   * Items from `start` up to (not including) `end`, like `Array.slice`.
   *
   * @example Copy a range
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "b", "c");
   * assert.deepEqual(await l.slice(1), ["b", "c"]);
   * ```
   */
  async slice(start = 0, end?: number): Promise<T[]> {
    const last = end === undefined ? -1 : end === 0 ? null : end - 1;
    if (last === null || (end !== undefined && end > 0 && start >= end)) {
      return [];
    }
    const raw = await this.#conn.command([
      "LRANGE",
      this.#key,
      String(start),
      String(last),
    ]) as string[];
    return raw.map((v) => _decode<T>(v));
  }
  /**
   * Number of items.
   *
   * @example Count the items
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a");
   * assert.equal(await l.length(), 1);
   * ```
   */
  async length(): Promise<number> {
    return Number(await this.#conn.command(["LLEN", this.#key]));
  }
  /**
   * A copy of all items.
   *
   * @example Read the whole list
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "b");
   * assert.deepEqual(await l.toArray(), ["a", "b"]);
   * ```
   */
  toArray(): Promise<T[]> {
    return this.slice();
  }
  /**
   * Removes every item.
   *
   * @example Remove every item
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a");
   * await l.clear();
   * assert.equal(await l.length(), 0);
   * ```
   */
  async clear(): Promise<void> {
    await this.#conn.command(["DEL", this.#key]);
  }
  /**
   * Index of the first item equal (by encoding) to `item`, or -1.
   *
   * @example Find an item
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const l = await m.list<string>(undefined, { name: "l" });
   * await l.push("a", "b");
   * assert.equal(await l.indexOf("b"), 1);
   * ```
   */
  async indexOf(item: T): Promise<number> {
    const r = await this.#conn.command(["LPOS", this.#key, _encode(item)]);
    return r === null ? -1 : Number(r);
  }
}
