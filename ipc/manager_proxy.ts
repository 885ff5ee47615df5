/**
 * Proxies to objects held by a {@linkcode Manager} (see `manager.ts`).
 *
 * @module
 */

import {
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../concurrency/_share.ts";
import { type Link, toHex } from "./_manager_net.ts";
import { ROOT_ID } from "./_manager_protocol.ts";

/**
 * Options of a proxied wait (`acquire`, `get`, `put`, `wait`, `join`): like
 * the waits of `concurrency`. The timeout runs inside the manager.
 *
 * @example
 * ```ts
 * import type { ProxyWaitOptions } from "@weft/weft/ipc";
 *
 * const options: ProxyWaitOptions = { timeout: 500, signal: AbortSignal.timeout(1000) };
 * console.log(options.timeout); // 500
 * ```
 */
export interface ProxyWaitOptions {
  /** Give up after this many milliseconds (resolve `false`). */
  timeout?: number;
  /** `false` never waits (like Python's `blocking=False`). */
  blocking?: boolean;
  /** Abort the wait; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

const HANDLE_KIND = "ManagerProxy";
const REVIVER_MODULE = new URL("./manager.ts", import.meta.url).href;

function waitArgs(options: ProxyWaitOptions | undefined): unknown[] {
  if (options === undefined) return [];
  const { timeout, blocking } = options;
  return [{ timeout, blocking }];
}

/**
 * What every manager proxy has: the object's `id` and `typeid`, `release()`
 * and sharing. Proxies are shareable: pass one as an argument to a
 * `Process` or `Thread` (or through `share`) and it arrives connected to the
 * same manager, authkey included (carried inside the handle, never on a
 * command line or in the environment).
 *
 * Proxies come from {@linkcode Manager} methods; do not construct them.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const value = await manager.Value(1);
 * console.log(value.typeid, typeof value.id); // "Value" "number"
 * await value.destroy();
 * ```
 */
export class BaseProxy {
  #link: Link;
  /** The object's id inside its manager. */
  readonly id: number;
  /** The object's type id (`"dict"`, `"Lock"`, a registered class...). */
  readonly typeid: string;

  /** Binds a proxy to object `id` of the manager behind `link`. */
  constructor(link: Link, id: number, typeid: string) {
    this.#link = link;
    this.id = id;
    this.typeid = typeid;
  }

  /** Calls `method` on the remote object. */
  protected call(
    method: string,
    args: unknown[],
    options?: { signal?: AbortSignal; onLate?: (value: unknown) => void },
  ): Promise<unknown> {
    return this.#link.call(this.id, method, args, options);
  }

  /**
   * Removes the object from the manager (like `del` on its last
   * reference). Every proxy to it then fails with a `RemoteError`; waiting
   * calls on it reject. Resolves `false` if it was already gone.
   */
  destroy(): Promise<boolean> {
    return this.#link.call(ROOT_ID, "release", [this.id]) as Promise<boolean>;
  }

  /**
   * Returns the handle that rebuilds this proxy in another worker or process.
   *
   * @throws {TypeError} If the manager has no network address (never, for
   * managers made by `Manager.start`, `serve` or `connect`).
   */
  [TO_HANDLE](_target: ShareTarget): SharedHandle {
    const { address, authkey } = this.#link;
    if (address === undefined || authkey === undefined) {
      throw new TypeError(
        "Cannot share proxy: its manager has no address other processes can reach",
      );
    }
    return {
      "@@weft": HANDLE_KIND,
      // The module a receiving process imports to get this handle's reviver.
      "@@module": REVIVER_MODULE,
      address,
      authkey: toHex(authkey),
      id: this.id,
      typeid: this.typeid,
    };
  }
}

/**
 * A proxy to a `dict` (a `Map` with primitive keys) in a manager.
 * Iterating it (`for await`) walks a snapshot of its entries.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const dict = await manager.dict<string, number>({ a: 1 });
 * await dict.set("b", 2);
 * console.log(await dict.get("b"), await dict.size()); // 2 2
 * for await (const [key, value] of dict) console.log(key, value);
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
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const list = await manager.list<number>([1, 2]);
 * await list.push(3);
 * console.log(await list.toArray(), await list.at(-1)); // [1, 2, 3] 3
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
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const ns = await manager.Namespace({ x: 1 });
 * await ns.set("y", "two");
 * console.log(await ns.toObject()); // { x: 1, y: "two" }
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
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const counter = await manager.Value(0);
 * await Promise.all([counter.increment(), counter.increment(5)]);
 * console.log(await counter.get()); // 6
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
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const queue = await manager.Queue<string>();
 * await queue.put("job");
 * console.log(await queue.get({ timeout: 1000 }), await queue.qsize()); // "job" 0
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
 * A proxy to a lock-like object in a manager (`Lock`, `RLock`, `Semaphore`).
 *
 * The manager records which connection (client process, or worker) holds
 * it; if that connection drops — the process died — the manager releases
 * what it held. (Python's manager does not.)
 *
 * @example Holding a proxied lock for a block
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const lock = await manager.Lock();
 * {
 *   await using _ = await lock.guard({ timeout: 5000 });
 *   console.log(await lock.locked()); // true
 * }
 * console.log(await lock.locked()); // false
 * ```
 */
export class AcquirableProxy extends BaseProxy {
  /**
   * Waits to acquire; resolves `false` on timeout. An abort rejects with
   * `signal.reason`; if the manager granted it just before the abort arrived,
   * it is given back.
   */
  acquire(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("acquire", waitArgs(options), {
      signal: options?.signal,
      onLate: (granted) => {
        if (granted === true) this.call("release", []).catch(() => {});
      },
    }) as Promise<boolean>;
  }
  /** Releases once; rejects with a `RemoteError` if it was not held. */
  async release(): Promise<void> {
    await this.call("release", []);
  }
  /**
   * Acquires and returns an `AsyncDisposable` that releases (once), for
   * `await using _ = await lock.guard();`.
   *
   * @throws {Error} With `timeout`, if it could not be acquired in time.
   */
  async guard(options?: ProxyWaitOptions): Promise<AsyncDisposable> {
    if (!await this.acquire(options)) {
      throw new Error(
        `Cannot acquire ${this.typeid}: timed out after ${options?.timeout} ms`,
      );
    }
    let released = false;
    return {
      [Symbol.asyncDispose]: async () => {
        if (released) return;
        released = true;
        await this.call("release", []);
      },
    };
  }
}

/**
 * A proxy to a `Lock` in a manager: like `threading.Lock` behind Python's
 * manager. Any connection may release it (as in Python).
 *
 * @example The ticket-grabbing pattern
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const lock = await manager.Lock();
 * const tickets = await manager.Value(1);
 * {
 *   await using _ = await lock.guard();
 *   if (await tickets.get() > 0) await tickets.set(0);
 * }
 * console.log(await lock.locked()); // false
 * ```
 */
export class LockProxy extends AcquirableProxy {
  /** True if some connection holds it. */
  locked(): Promise<boolean> {
    return this.call("locked", []) as Promise<boolean>;
  }
}

/**
 * A proxy to an `RLock` in a manager: re-entrant per connection (one per
 * process or worker), so every task of one process counts as the same owner.
 * Releasing from another connection rejects.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const rlock = await manager.RLock();
 * await rlock.acquire();
 * await rlock.acquire();
 * await rlock.release();
 * await rlock.release();
 * console.log(await rlock.locked()); // false
 * ```
 */
export class RLockProxy extends AcquirableProxy {
  /** True if some connection holds it. */
  locked(): Promise<boolean> {
    return this.call("locked", []) as Promise<boolean>;
  }
}

/**
 * A proxy to a `Semaphore` (or `BoundedSemaphore`) in a manager. Permits a
 * dead connection held are given back.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const slots = await manager.Semaphore(2);
 * await slots.acquire();
 * console.log(await slots.value()); // 1
 * await slots.release();
 * ```
 */
export class SemaphoreProxy extends AcquirableProxy {
  /** Permits available now. */
  value(): Promise<number> {
    return this.call("value", []) as Promise<number>;
  }
}

/**
 * A proxy to an `Event` in a manager.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const ready = await manager.Event();
 * setTimeout(() => ready.set(), 10);
 * console.log(await ready.wait({ timeout: 5000 })); // true
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    await this.call("set", []);
  }
  /** Clears the flag. */
  async clear(): Promise<void> {
    await this.call("clear", []);
  }
  /** True if the flag is set. */
  isSet(): Promise<boolean> {
    return this.call("isSet", []) as Promise<boolean>;
  }
  /** Waits for the flag; resolves `false` on timeout. */
  wait(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<boolean>;
  }
}

/**
 * The methods of `T`, each returning a promise (what a proxy offers).
 *
 * @example
 * ```ts
 * import type { RemoteMethods } from "@weft/weft/ipc";
 *
 * class Counter { n = 0; add(k: number): number { return this.n += k; } }
 * const remote: RemoteMethods<Counter> = { add: (k) => Promise.resolve(k) };
 * console.log(await remote.add(2)); // 2
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
 * @example
 * ```ts
 * import { Manager, type ObjectProxy } from "@weft/weft/ipc";
 *
 * const source = "export class Box { v = 0; put(v) { this.v = v; } take() { return this.v; } }";
 * await using manager = await Manager.start();
 * await manager.register("Box", "data:text/javascript," + encodeURIComponent(source), "Box");
 * const box: ObjectProxy<{ put(v: number): void; take(): number }> = await manager.create("Box");
 * await box.put(7);
 * console.log(await box.take()); // 7
 * ```
 */
export type ObjectProxy<T> = BaseProxy & RemoteMethods<T>;

/**
 * A proxy to a `Condition` in a manager, over a manager `Lock` or `RLock`
 * (a fresh `RLock` by default). Like Python's, `wait` and `notify` need the
 * lock held by this connection (process or worker); `wait` releases it while
 * waiting and holds it again when it resolves. An aborted `wait` rejects
 * without the lock.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const cond = await manager.Condition();
 * await cond.acquire();
 * console.log(await cond.wait({ timeout: 10 })); // false (nobody notified)
 * console.log(await cond.notify()); // 0 (nobody waiting)
 * await cond.release();
 * ```
 */
export class ConditionProxy extends AcquirableProxy {
  /** Waits for a notify; resolves `false` on timeout. */
  wait(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<boolean>;
  }
  /** Wakes up to `n` waiters (default 1); resolves how many. */
  notify(n: number = 1): Promise<number> {
    return this.call("notify", [n]) as Promise<number>;
  }
  /** Wakes every waiter; resolves how many. */
  notifyAll(): Promise<number> {
    return this.call("notifyAll", []) as Promise<number>;
  }
}

/**
 * A proxy to a `Barrier` in a manager. `wait` resolves with the arrival
 * index (0 for the first); a timeout, an abort, or a waiting process dying
 * breaks the barrier, and waits then reject with `concurrency`'s
 * `BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const barrier = await manager.Barrier(2);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
 * console.log(indexes.sort()); // [0, 1]
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** Waits until `parties` callers are waiting; resolves the arrival index. */
  wait(options?: ProxyWaitOptions): Promise<number> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<number>;
  }
  /** Fails current waiters with `BrokenBarrierError` and un-breaks it. */
  async reset(): Promise<void> {
    await this.call("reset", []);
  }
  /** Breaks it: current and later waits reject until `reset`. */
  async abort(): Promise<void> {
    await this.call("abort", []);
  }
  /** True if broken. */
  broken(): Promise<boolean> {
    return this.call("broken", []) as Promise<boolean>;
  }
  /** Callers needed to pass. */
  parties(): Promise<number> {
    return this.call("parties", []) as Promise<number>;
  }
  /** Callers waiting now. */
  nWaiting(): Promise<number> {
    return this.call("nWaiting", []) as Promise<number>;
  }
}
