/**
 * {@linkcode Queue}: Python's `queue.Queue` shared by every process on every
 * machine that connects to the same Redis, with leases (at-least-once).
 *
 * @module
 */

import { _Connection } from "./_connection.ts";
import { _decode, _encode } from "./_codec.ts";
import {
  _QueueStore,
  type _Raw,
  type _StepOptions,
  type _Stream,
  _validName,
} from "./_queue_store.ts";
// deno-lint-ignore no-unused-vars -- named by the JSDoc links below
import type { LeaseLost } from "./lease_lost.ts";
import type { RedisClientLike } from "./redis_client.ts";
import type {
  ClusterTask,
  ClusterWaitOptions,
  DeadLetter,
  QueueConnectOptions,
  QueueOrder,
} from "./queue_options.ts";

interface Delivery {
  id: string;
  token: string;
}

/**
 * A FIFO queue in Redis with Python's method names, shared across
 * processes and machines — `multiprocessing.Queue` that outlives any one
 * machine. Open a handle with `await Queue.connect(url, { name })`.
 *
 * ## Contract: at-least-once
 * **Tasks must be idempotent** (or record their results keyed by item id).
 * `get()` takes a *lease* on the item for `visibilityTimeout` ms; the item
 * stays unfinished until `taskDone()` (or the `ack()` of
 * {@linkcode Queue.getTask}). If the consumer dies, freezes or stalls past
 * its lease, the item is delivered again (at its original place in the
 * order) to the next `get()`; a late `taskDone()` from the stale holder is
 * refused with {@linkcode LeaseLost}. After `maxDeliveries` deliveries an
 * item goes to {@linkcode Queue.deadLetters} instead of looping. Nothing is
 * lost while Redis keeps its data (run it with persistence, AOF, if a
 * Redis restart must not lose the queue).
 *
 * ## Differences from Python
 * Every method is async. Call `taskDone()` for every `get()` — as for
 * Python's `JoinableQueue` — otherwise the item comes back after its lease.
 * `taskDone()` acknowledges the oldest item *this handle* got. `maxsize`
 * bounds the waiting items (not the leased ones), checked atomically in
 * Redis, so it holds across every producer (an item coming back from an
 * expired lease returns even to a full queue: it was already counted). `join()` waits until no item is
 * waiting or leased, on every machine, and resolves `false` on timeout.
 * `close()` closes this handle's connection only (the queue lives on in
 * Redis).
 *
 * ## Platform
 * Needs `--allow-net` for the Redis host and
 * `--allow-env=REDIS_DEBUG_MAINTENANCE` (read by the node-redis client).
 *
 * @example Two handles, one queue
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using producer = await Queue.connect<string>(server.url, { name: "jobs" });
 * await using consumer = await Queue.connect<string>(server.url, { name: "jobs" });
 * await producer.put("a");
 * await producer.put("b");
 * assert.deepEqual(await consumer.get(), "a");
 * await consumer.taskDone();
 * assert.deepEqual([await consumer.get(), await producer.qsize()], ["b", 0]);
 * await consumer.taskDone();
 * assert.deepEqual(await producer.join({ timeout: 1000 }), true);
 * ```
 */
export class Queue<T = unknown> implements AsyncDisposable {
  #store: _QueueStore;
  #ledger: Delivery[] = [];
  #streams = new WeakMap<ClusterTask<T>, _Stream>();

  /** Use `Queue.connect()` (or the subclass's `connect`). */
  protected constructor(
    conn: _Connection,
    options: QueueConnectOptions,
    order: QueueOrder,
  ) {
    this.#store = new _QueueStore(conn, options, order);
  }

  /** @internal Opens the connection and validates the options. */
  protected static async _open(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<_Connection> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError('Cannot connect queue: options must have a "name"');
    }
    _validName("connect queue", options.name);
    return await _Connection.open(target, "connect queue", options);
  }

  /** @internal Opens a connection and makes a handle on it (closed again if that throws). */
  protected static async _connectWith<Q>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
    make: (conn: _Connection) => Q,
  ): Promise<Q> {
    const conn = await Queue._open(target, options);
    try {
      return make(conn);
    } catch (error) {
      await conn.close();
      throw error;
    }
  }

  /**
   * Connects to the queue `name` on the Redis at `target` (a `redis://`
   * URL or your own node-redis client).
   *
   * @example Connect with a bound
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<number>(server.url, { name: "n", maxsize: 2 });
   * assert.deepEqual(q.maxsize, 2);
   * ```
   *
   * @throws {TypeError} (rejection) If the URL is invalid or no server answers.
   * @throws {RangeError} (rejection) If a count option is out of range.
   */
  static async connect<T = unknown>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<Queue<T>> {
    return await Queue._connectWith(
      target,
      options,
      (conn) => new Queue<T>(conn, options, "fifo"),
    );
  }

  /** The queue's name. */
  get name(): string {
    return this.#store.name;
  }

  /** The bound on waiting items (0 = none). */
  get maxsize(): number {
    return this.#store.maxsize;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#store.conn.closed;
  }

  /** @internal The score that orders `item` (overridden by PriorityQueue). */
  protected _score(_item: T): number {
    return 0;
  }

  /** @internal put with an optional dead-letter notice: `"<list key>\n<message>"`. */
  protected _put(
    item: T,
    options: _StepOptions & { meta?: string } = {},
  ): Promise<string> {
    const payload = _encode(item);
    return this.#store.put(
      payload,
      this._score(item),
      options.meta ?? "",
      options,
    );
  }

  /**
   * Puts `item` at the end, waiting while the queue is full (up to
   * `timeout` ms, then `QueueFull`).
   *
   * @example A full queue times out with QueueFull
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueFull, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "p", maxsize: 1 });
   * await q.put("x");
   * await assert.rejects(q.put("y", { timeout: 50 }), QueueFull);
   * ```
   *
   * @throws {QueueFull} (rejection) If the timeout passed with the queue full.
   */
  async put(item: T, options: ClusterWaitOptions = {}): Promise<void> {
    await this._put(item, options);
  }

  /**
   * Puts `item` only if there is room; else throws `QueueFull`.
   *
   * @example Put without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "pn" });
   * await q.putNowait(1);
   * assert.deepEqual(await q.qsize(), 1);
   * ```
   */
  async putNowait(item: T): Promise<void> {
    await this._put(item, { block: false });
  }

  /**
   * Takes the next item, waiting while the queue is empty (up to `timeout`
   * ms, then `QueueEmpty`). The item is leased to this handle until
   * `taskDone()`.
   *
   * @example An empty queue times out with QueueEmpty
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueEmpty, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "g" });
   * await assert.rejects(q.get({ timeout: 20 }), QueueEmpty);
   * ```
   *
   * @throws {QueueEmpty} (rejection) If the timeout passed with the queue empty.
   */
  async get(options: ClusterWaitOptions = {}): Promise<T> {
    return this.#booked(await this.#store.take(options));
  }

  /** The item of a delivery that `taskDone()` will acknowledge. */
  #booked([id, payload, token]: _Raw): T {
    this.#ledger.push({ id, token });
    return _decode<T>(payload);
  }

  /**
   * Takes an item only if one is waiting; else throws `QueueEmpty`.
   *
   * @example Get without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "gn" });
   * await q.put(7);
   * assert.deepEqual(await q.getNowait(), 7);
   * await q.taskDone();
   * ```
   */
  async getNowait(): Promise<T> {
    return this.#booked(await this.#store.take({ block: false }));
  }

  /**
   * Takes the next item with explicit control of its lease: `ack()`,
   * `touch(ms)` (keep it while a long task runs) and `release()`. For a
   * consumer loop, {@linkcode Queue.tasks} is faster (an ack there also
   * takes the next item).
   *
   * @example Explicit ack with a renewed lease
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<string>(server.url, { name: "t" });
   * await q.put("job");
   * const task = await q.getTask();
   * await task.touch(60_000);
   * assert.deepEqual([task.value, task.deliveries], ["job", 1]);
   * await task.ack();
   * ```
   */
  async getTask(
    options: ClusterWaitOptions & { block?: boolean } = {},
  ): Promise<ClusterTask<T>> {
    return this.#task(await this.#store.take(options));
  }

  #task(raw: _Raw, stream?: _Stream): ClusterTask<T> {
    const [id, payload, token, deliveries] = raw;
    const task: ClusterTask<T> = {
      id,
      value: _decode<T>(payload),
      token,
      deliveries: Number(deliveries),
      ack: () => this.#store.ack(id, token, undefined, stream),
      touch: (ms?: number) =>
        this.#store.touch(id, token, ms ?? this.#store.visibility),
      release: () => this.#store.release(id, token),
    };
    if (stream) this.#streams.set(task, stream);
    return task;
  }

  /**
   * Takes items one after another, for a consumer loop:
   * `for await (const task of queue.tasks()) { ...; await task.ack(); }`.
   * Acknowledging a task inside the loop also takes the next item in the
   * same Redis step (one round trip per item instead of two). Leaving the
   * loop gives a so-taken item back at once, not counted as a delivery.
   * Waits like `getTask()` while the queue is empty; `signal` ends it.
   *
   * @example A consumer loop that stops early
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<number>(server.url, { name: "loop" });
   * for (const n of [1, 2, 3]) await q.put(n);
   * const seen: number[] = [];
   * for await (const task of q.tasks()) {
   *   seen.push(task.value);
   *   await task.ack();
   *   if (seen.length === 2) break;
   * }
   * assert.deepEqual(seen, [1, 2]);
   * assert.equal(await q.qsize(), 1); // 3 was given back
   * ```
   */
  async *tasks(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<ClusterTask<T>, void, undefined> {
    const stream: _Stream = { open: true };
    try {
      for (;;) {
        const raw = stream.next ?? await this.#store.take(options);
        stream.next = undefined;
        yield this.#task(raw, stream);
      }
    } finally {
      stream.open = false;
      const left = stream.next;
      stream.next = undefined;
      if (left && !this.closed) await this.#store.unget(left);
    }
  }

  /** @internal Removes a waiting item (not one already taken); true if it did. */
  protected _remove(id: string): Promise<boolean> {
    return this.#store.remove(id);
  }

  /** @internal Acknowledges and, in the same step, pushes `reply[1]` to the list `reply[0]`. */
  protected _ackWithReply(
    task: ClusterTask<T>,
    reply: [string, string],
  ): Promise<void> {
    return this.#store.ack(task.id, task.token, reply, this.#streams.get(task));
  }

  /**
   * Marks the oldest item this handle got (and has not marked) as done —
   * Python's `task_done()`.
   *
   * @example Mark the item got as done
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "td" });
   * await q.put(1);
   * await q.get();
   * await q.taskDone();
   * assert.deepEqual(await q.unfinishedTasks(), 0);
   * ```
   *
   * @throws {RangeError} (rejection) If called more times than this handle got items.
   * @throws {LeaseLost} (rejection) If the item's lease expired (it was delivered again).
   */
  async taskDone(): Promise<void> {
    const delivery = this.#ledger.shift();
    if (!delivery) {
      throw new RangeError(
        "Cannot mark task done: called more times than this handle got items",
      );
    }
    await this.#store.ack(delivery.id, delivery.token);
  }

  /**
   * Waits until every item put by anyone has been marked done (or sent to
   * the dead letters); resolves `false` if `timeout` passed first.
   *
   * @example Wait for every item to be done
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "j" });
   * await q.put(1);
   * assert.deepEqual(await q.join({ timeout: 30 }), false);
   * await q.get();
   * await q.taskDone();
   * assert.deepEqual(await q.join(), true);
   * ```
   */
  join(options: ClusterWaitOptions = {}): Promise<boolean> {
    return this.#store.join(options);
  }

  /**
   * Number of waiting (not leased) items — Python's `qsize()`.
   *
   * @example Count waiting items
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "s" });
   * await q.put("a");
   * assert.deepEqual(await q.qsize(), 1);
   * ```
   */
  qsize(): Promise<number> {
    return this.#store.qsize();
  }

  /**
   * True when no item is waiting.
   *
   * @example A new queue is empty
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "e" });
   * assert.deepEqual(await q.empty(), true);
   * ```
   */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /**
   * True when `maxsize` items are waiting.
   *
   * @example A bounded queue fills up
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "f", maxsize: 1 });
   * await q.put(0);
   * assert.deepEqual(await q.full(), true);
   * ```
   */
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.qsize()) >= this.maxsize;
  }

  /**
   * Items put and not yet done (waiting + leased), across every client;
   * expired leases are returned to the queue first.
   *
   * @example Leased items stay unfinished
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "u" });
   * await q.put(1);
   * await q.get();
   * assert.deepEqual([await q.unfinishedTasks(), await q.qsize()], [1, 0]);
   * ```
   */
  unfinishedTasks(): Promise<number> {
    return this.#store.unfinished();
  }

  /**
   * Items that were delivered `maxDeliveries` times without being done,
   * oldest first (they count as finished for `join()`).
   *
   * @example A released item past maxDeliveries becomes a dead letter
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "d", maxDeliveries: 1 });
   * await q.put("poison");
   * const task = await q.getTask();
   * await task.release();
   * assert.deepEqual(await q.deadLetters(), [{ id: "0000000000000001", value: "poison", deliveries: 1 }]);
   * ```
   */
  deadLetters(): Promise<DeadLetter<T>[]> {
    return this.#store.deadLetters<T>();
  }

  /**
   * Deletes every key of this queue (items, leases, dead letters) — for
   * tests and resets; handles stay usable.
   *
   * @example Delete every item
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "c" });
   * await q.put(1);
   * await q.clear();
   * assert.deepEqual(await q.qsize(), 0);
   * ```
   */
  async clear(): Promise<void> {
    await this.#store.clear();
    this.#ledger = [];
  }

  /**
   * Closes this handle's connection (the queue stays in Redis). Items it
   * got and did not mark done come back after their lease. Idempotent.
   *
   * @example Close a handle
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const q = await Queue.connect(server.url, { name: "x" });
   * await q.close();
   * assert.deepEqual(q.closed, true);
   * ```
   */
  async close(): Promise<void> {
    await this.#store.conn.close();
  }

  /** Closes the handle. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
