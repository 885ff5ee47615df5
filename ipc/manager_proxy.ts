/**
 * Proxies to objects held by a {@linkcode Manager} (see `manager.ts`):
 * the containers and the queue here, the synchronisation objects in
 * `manager_sync_proxy.ts` (re-exported).
 *
 * @module
 */

import {
  BaseProxy,
  type ProxyWaitOptions,
  waitArgs,
} from "./_manager_proxy_base.ts";

export { BaseProxy, type ProxyWaitOptions } from "./_manager_proxy_base.ts";
export * from "./manager_sync_proxy.ts";

/**
 * A proxy to a `dict` (a `Map` with primitive keys) in a manager.
 * Iterating it (`for await`) walks a snapshot of its entries.
 *
 * @example Setting, reading and iterating a shared dict
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const dict = await manager.dict<string, number>({ a: 1 });
 * await dict.set("b", 2);
 * assert.equal(await dict.get("b"), 2);
 * assert.equal(await dict.size(), 2);
 * const entries: [string, number][] = [];
 * for await (const entry of dict) entries.push(entry);
 * assert.deepEqual(entries, [["a", 1], ["b", 2]]);
 * ```
 */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  /** The value for `key`, or `fallback` (default `undefined`). */
  get(key: K, fallback?: V): Promise<V | undefined> {
    const args = fallback === undefined ? [key] : [key, fallback];
    return this.call("get", args) as Promise<V | undefined>;
  }
  /** Sets `key` to `value`. */
  async set(key: K, value: V): Promise<void> {
    await this.call("set", [key, value]);
  }
  /** Removes `key`; true if it was there. */
  delete(key: K): Promise<boolean> {
    return this.call("delete", [key]) as Promise<boolean>;
  }
  /** True if `key` is there. */
  has(key: K): Promise<boolean> {
    return this.call("has", [key]) as Promise<boolean>;
  }
  /** All keys, in insertion order. */
  keys(): Promise<K[]> {
    return this.call("keys", []) as Promise<K[]>;
  }
  /** All values, in insertion order. */
  values(): Promise<V[]> {
    return this.call("values", []) as Promise<V[]>;
  }
  /** All `[key, value]` pairs, in insertion order. */
  entries(): Promise<[K, V][]> {
    return this.call("entries", []) as Promise<[K, V][]>;
  }
  /** Number of entries. */
  size(): Promise<number> {
    return this.call("size", []) as Promise<number>;
  }
  /** Removes every entry. */
  async clear(): Promise<void> {
    await this.call("clear", []);
  }
  /** Sets many entries in one atomic step (a Map, pairs or an object). */
  async update(
    entries: Map<K, V> | [K, V][] | Record<string, V>,
  ): Promise<void> {
    await this.call("update", [entries]);
  }
  /** Python's `setdefault`: the value for `key`, setting `value` if absent (atomic). */
  setdefault(key: K, value: V): Promise<V> {
    return this.call("setdefault", [key, value]) as Promise<V>;
  }
  /** Removes `key` and returns its value, or `fallback` when absent. */
  pop(key: K, fallback?: V): Promise<V | undefined> {
    const args = fallback === undefined ? [key] : [key, fallback];
    return this.call("pop", args) as Promise<V | undefined>;
  }
  /** Adds `by` (default 1) to the number at `key` (0 when absent), atomically; returns the new value. */
  increment(key: K, by: number = 1): Promise<number> {
    return this.call("increment", [key, by]) as Promise<number>;
  }
  /** Walks a snapshot of the entries taken in one call. */
  async *[Symbol.asyncIterator](): AsyncGenerator<[K, V]> {
    yield* await this.entries();
  }
}

/**
 * A proxy to a `list` (an array) in a manager.
 * Iterating it (`for await`) walks a snapshot of its items.
 *
 * @example Appending to a shared list
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const list = await manager.list<number>([1, 2]);
 * await list.push(3);
 * assert.deepEqual(await list.toArray(), [1, 2, 3]);
 * assert.equal(await list.at(-1), 3);
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** Appends items; returns the new length. */
  push(...items: T[]): Promise<number> {
    return this.call("push", items) as Promise<number>;
  }
  /** Appends every item of `items` in one atomic step; returns the new length. */
  extend(items: T[]): Promise<number> {
    return this.call("extend", [items]) as Promise<number>;
  }
  /**
   * Removes and returns the item at `index` (default: the last one).
   * Rejects with a `RemoteError` (`RangeError`) if the list is empty.
   */
  pop(index?: number): Promise<T> {
    return this.call("pop", index === undefined ? [] : [index]) as Promise<T>;
  }
  /** Inserts `item` before `index` (clamped, negative counts from the end). */
  insert(index: number, item: T): Promise<number> {
    return this.call("insert", [index, item]) as Promise<number>;
  }
  /** The item at `index` (negative counts from the end), or `undefined`. */
  at(index: number): Promise<T | undefined> {
    return this.call("at", [index]) as Promise<T | undefined>;
  }
  /** Replaces the item at `index` (must exist). */
  async set(index: number, item: T): Promise<void> {
    await this.call("set", [index, item]);
  }
  /** A copy of `[start, end)` like `Array.prototype.slice`. */
  slice(start?: number, end?: number): Promise<T[]> {
    return this.call("slice", [start, end]) as Promise<T[]>;
  }
  /** Number of items. */
  length(): Promise<number> {
    return this.call("length", []) as Promise<number>;
  }
  /** A copy of all items. */
  toArray(): Promise<T[]> {
    return this.call("toArray", []) as Promise<T[]>;
  }
  /** Removes every item. */
  async clear(): Promise<void> {
    await this.call("clear", []);
  }
  /** Index of the first item `===` to `item`, or -1. */
  indexOf(item: T): Promise<number> {
    return this.call("indexOf", [item]) as Promise<number>;
  }
  /** Walks a snapshot of the items taken in one call. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* await this.toArray();
  }
}

/**
 * A proxy to a `Namespace` (named attributes) in a manager. Python writes
 * `ns.x = 1`; proxies are async, so it is `await ns.set("x", 1)`.
 *
 * @example Attributes of a shared namespace
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const ns = await manager.Namespace({ x: 1 });
 * await ns.set("y", "two");
 * assert.deepEqual(await ns.toObject(), { x: 1, y: "two" });
 * ```
 */
export class NamespaceProxy<
  T extends Record<string, unknown> = Record<string, unknown>,
> extends BaseProxy {
  /** The attribute `name`, or `undefined`. */
  get<N extends keyof T & string>(name: N): Promise<T[N]> {
    return this.call("get", [name]) as Promise<T[N]>;
  }
  /** Sets the attribute `name`. */
  async set<N extends keyof T & string>(name: N, value: T[N]): Promise<void> {
    await this.call("set", [name, value]);
  }
  /** Removes the attribute `name`; true if it was there. */
  delete(name: keyof T & string): Promise<boolean> {
    return this.call("delete", [name]) as Promise<boolean>;
  }
  /** True if the attribute `name` is set. */
  has(name: keyof T & string): Promise<boolean> {
    return this.call("has", [name]) as Promise<boolean>;
  }
  /** Sets several attributes in one atomic step. */
  async update(values: Partial<T>): Promise<void> {
    await this.call("update", [values]);
  }
  /** A copy of all attributes. */
  toObject(): Promise<Partial<T>> {
    return this.call("toObject", []) as Promise<Partial<T>>;
  }
}

/**
 * A proxy to a `Value` in a manager, with atomic read-modify-write calls so
 * counters need no lock round trip.
 *
 * @example Increments from two callers are not lost
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const counter = await manager.Value(0);
 * await Promise.all([counter.increment(), counter.increment(5)]);
 * assert.equal(await counter.get(), 6);
 * ```
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The current value. */
  get(): Promise<T> {
    return this.call("get", []) as Promise<T>;
  }
  /** Replaces the value. */
  async set(value: T): Promise<void> {
    await this.call("set", [value]);
  }
  /** Adds `by` (default 1) atomically; returns the new value. */
  increment(by: T extends bigint ? bigint : number = 1 as never): Promise<T> {
    return this.call("increment", [by]) as Promise<T>;
  }
  /** Sets `next` only if the value is still `expected` (`Object.is`); true if it did. */
  compareAndSet(expected: T, next: T): Promise<boolean> {
    return this.call("compareAndSet", [expected, next]) as Promise<boolean>;
  }
  /** Sets `next` and returns the previous value, atomically. */
  getAndSet(next: T): Promise<T> {
    return this.call("getAndSet", [next]) as Promise<T>;
  }
}

/**
 * A proxy to a FIFO `Queue` in a manager. A `get` waiting here does not hold
 * up any other call to the manager.
 *
 * On timeout, `get` / `getNowait` reject with `concurrency`'s `QueueEmpty`,
 * `put` / `putNowait` with `QueueFull` (each with the `RemoteError` as
 * `cause`), like Python's proxies re-raising `queue.Empty`.
 *
 * @example Putting and getting one job
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const queue = await manager.Queue<string>();
 * await queue.put("job");
 * assert.equal(await queue.get({ timeout: 1000 }), "job");
 * assert.equal(await queue.qsize(), 0);
 * ```
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Adds an item, waiting for room when the queue has a `maxsize`. */
  async put(item: T, options?: ProxyWaitOptions): Promise<void> {
    await this.call("put", [item, ...waitArgs(options)], {
      signal: options?.signal,
    });
  }
  /** Removes and returns the oldest item, waiting for one. */
  get(options?: ProxyWaitOptions): Promise<T> {
    return this.call("get", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<T>;
  }
  /** Adds an item or rejects at once with `QueueFull`. */
  async putNowait(item: T): Promise<void> {
    await this.call("putNowait", [item]);
  }
  /** Removes an item or rejects at once with `QueueEmpty`. */
  getNowait(): Promise<T> {
    return this.call("getNowait", []) as Promise<T>;
  }
  /** Number of items waiting. */
  qsize(): Promise<number> {
    return this.call("qsize", []) as Promise<number>;
  }
  /** True if no item is waiting. */
  empty(): Promise<boolean> {
    return this.call("empty", []) as Promise<boolean>;
  }
  /** True if the queue is at its `maxsize`. */
  full(): Promise<boolean> {
    return this.call("full", []) as Promise<boolean>;
  }
  /** Marks one fetched item as processed (for {@linkcode QueueProxy.join}). */
  async taskDone(): Promise<void> {
    await this.call("taskDone", []);
  }
  /** Waits until every item put has been marked done; false on timeout. */
  join(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("join", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<boolean>;
  }
}

/**
 * The methods of `T`, each returning a promise (what a proxy offers).
 *
 * @example Every method returns a promise of its result
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RemoteMethods } from "@weft/weft/ipc";
 *
 * class Counter { n = 0; add(k: number): number { return this.n += k; } }
 * const remote: RemoteMethods<Counter> = { add: (k) => Promise.resolve(k) };
 * assert.equal(await remote.add(2), 2);
 * ```
 */
export type RemoteMethods<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]:
    T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
};

/**
 * A proxy to an instance of a registered class `T` (see `Manager.register`
 * and `Manager.create`): `BaseProxy` plus the async twin of each method.
 *
 * @example A proxy for a registered class
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, type ObjectProxy } from "@weft/weft/ipc";
 *
 * const source = "export class Box { v = 0; put(v) { this.v = v; } take() { return this.v; } }";
 * await using manager = await Manager.start();
 * await manager.register("Box", "data:text/javascript," + encodeURIComponent(source), "Box");
 * const box: ObjectProxy<{ put(v: number): void; take(): number }> = await manager.create("Box");
 * await box.put(7);
 * assert.equal(await box.take(), 7);
 * ```
 */
export type ObjectProxy<T> = BaseProxy & RemoteMethods<T>;
