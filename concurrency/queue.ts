/**
 * {@linkcode Queue}: Python's `queue.Queue` across Web Workers.
 *
 * @module
 */

import {
  iterate,
  PRIORITY_OF,
  QUEUE_ORDER,
  type QueueOrder,
} from "./_queue_keys.ts";
import {
  KIND_FIFO,
  QueueCore,
  type QueueHandle,
  type QueueOptions,
  type QueueSyncOptions,
  type QueueWaitOptions,
} from "./_queue_core.ts";
import {
  registerReviver,
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";

export type {
  QueueOptions,
  QueueSyncOptions,
  QueueWaitOptions,
} from "./_queue_core.ts";

/**
 * A first-in, first-out queue in shared memory: like Python's `queue.Queue`,
 * except that it works across Web Workers — pass it to a worker (as a
 * `Thread` or `Pool` argument, or through `postMessage` with `share` /
 * `revive`) and a `put` in one thread is visible to a `get` in any other,
 * with no hop through some owner's event loop.
 *
 * Items are structured-cloneable values; each is encoded into the queue's
 * shared buffer (numbers, booleans, null and undefined inline; strings as
 * UTF-8; `Uint8Array`s raw; plain JSON-safe objects and arrays as JSON;
 * anything else — `Map`, `Set`, `Date`, `BigInt`, typed arrays, cycles —
 * with `node:v8` serialization), so `get` returns a copy. Functions,
 * symbols, `SharedArrayBuffer`s and weft objects cannot be items.
 *
 * ## Size
 * `maxsize` bounds the number of items (`0`, the default, is unbounded).
 * The byte buffer starts at `bufferSize` (64 KiB) and grows on demand up to
 * `maxBufferSize` (256 MiB): an item larger than the current buffer still
 * passes; one that encodes to more than `maxBufferSize` bytes is refused
 * at `put` with a `RangeError`, and nothing is stored.
 *
 * ## Three modes
 * `put`/`get` wait asynchronously (never blocking the event loop),
 * `putSync`/`getSync` block the calling thread (meant for workers),
 * `putNowait`/`getNowait` never wait and throw {@linkcode QueueFull} /
 * {@linkcode QueueEmpty}. A `timeout` (ms) that passes throws `QueueFull` /
 * `QueueEmpty`, as Python's `put(timeout=)` / `get(timeout=)` raise.
 *
 * ## Cancellation
 * `put`, `get` and `join` accept `{ signal }`: an already-aborted signal
 * rejects at once with `signal.reason`; an abort while waiting rejects and
 * removes that waiter (the next waiter proceeds); listeners are detached
 * once the call settles.
 *
 * ## Fairness
 * A `put` wakes one waiting getter and a `get` one waiting putter, in the
 * order they started waiting (two FIFO ticket rings in shared memory, as
 * CPython's `notify()`-one and tokio's fair semaphore). A newcomer that
 * finds an item may take it first; the getter it was meant for then waits
 * again. Beyond 128 sleepers on one side the extra ones are woken all at
 * once.
 *
 * ## Close
 * `close()` (any thread) ends the queue for everyone: later puts throw
 * {@linkcode QueueClosed} (carrying the item in `error.item`); gets drain
 * what is queued, then throw it; every
 * sleeping waiter wakes up and throws it; `join()` throws it if tasks are
 * unfinished. `[Symbol.dispose]` calls `close()`.
 *
 * ## Visibility
 * Everything a thread wrote before `put` is visible to the thread whose
 * `get` returns that item (the queue's internal lock orders them).
 *
 * ## Platform
 * The internal lock is held only for a copy and its waits cannot be
 * interrupted, so a thread never stops inside it (weft stops threads only
 * at an event-loop turn or in a weft wait). `getSync`/`putSync` on the main
 * thread freeze its event loop while they wait.
 *
 * @example Producer and consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue } from "@weft/weft/concurrency";
 *
 * const queue = new Queue<{ n: number }>({ maxsize: 2 });
 * const consumer = (async () => {
 *   let sum = 0;
 *   for (let i = 0; i < 5; i++) {
 *     sum += (await queue.get()).n;
 *     queue.taskDone();
 *   }
 *   return sum;
 * })();
 * for (let n = 1; n <= 5; n++) await queue.put({ n });
 * await queue.join();
 * assert.equal(await consumer, 15);
 * queue.close();
 * ```
 *
 * @typeParam T The item type.
 */
export class Queue<T = unknown> implements Shareable {
  /** The order this class serves items in (each subclass sets its own). */
  static readonly [QUEUE_ORDER]: QueueOrder = {
    kind: KIND_FIFO,
    name: "Queue",
  };

  #core: QueueCore;

  /**
   * Creates an empty queue in fresh shared memory.
   *
   * @example Creating a bounded queue
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>({ maxsize: 10 });
   * assert.equal(queue.maxsize, 10);
   * assert.equal(queue.empty(), true);
   * ```
   *
   * @param options `maxsize` (items, 0 = unbounded), `bufferSize`,
   * `maxBufferSize` (bytes).
   * @throws {TypeError} If an option is not an integer.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options?: QueueOptions) {
    const { kind, name } = (new.target as typeof Queue)[QUEUE_ORDER];
    this.#core = new QueueCore(kind, name, options);
  }

  /** The priority `item` is stored under: 0 (arrival order) but in a
   * `PriorityQueue`. */
  protected [PRIORITY_OF](_item: T): number | readonly [number, number] {
    return 0;
  }

  /**
   * Puts `item` at the tail, waiting (asynchronously) while the queue is full.
   *
   * @example Putting with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number[]>();
   * await queue.put([1, 2, 3], { timeout: 1000 });
   * assert.equal(queue.qsize(), 1);
   * ```
   *
   * @throws {QueueFull} If `timeout` passes while still full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   * @throws {RangeError} If the item encodes to more than `maxBufferSize` bytes.
   * @throws {TypeError} If the item is not cloneable.
   */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    return this.#core.putItem(item, this[PRIORITY_OF](item), options);
  }

  /**
   * Puts `item`, blocking the calling thread while the queue is full.
   *
   * @example Putting from a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>({ maxsize: 1 });
   * queue.putSync("a");
   * assert.equal(queue.full(), true);
   * ```
   *
   * @throws {QueueFull} If `blocking` is false or `timeout` passes while full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   */
  putSync(item: T, options?: QueueSyncOptions): void {
    this.#core.putItemSync(item, this[PRIORITY_OF](item), options);
  }

  /**
   * Puts `item` if there is room right now.
   *
   * @example Putting without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(7);
   * assert.equal(queue.getNowait(), 7);
   * ```
   *
   * @throws {QueueFull} If the queue is full.
   * @throws {QueueClosed} If the queue is closed.
   */
  putNowait(item: T): void {
    this.#core.putItemNowait(item, this[PRIORITY_OF](item));
  }

  /**
   * Takes the item at the head, waiting (asynchronously) while empty.
   *
   * @example Getting with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueEmpty } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>();
   * try {
   *   await queue.get({ timeout: 10 });
   * } catch (error) {
   *   assert.equal(error instanceof QueueEmpty, true);
   * }
   * ```
   *
   * @throws {QueueEmpty} If `timeout` passes while still empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  get(options?: QueueWaitOptions): Promise<T> {
    return this.#core.getItem(options) as Promise<T>;
  }

  /**
   * Takes the item at the head, blocking the calling thread while empty.
   *
   * @example Getting in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<bigint>();
   * queue.putNowait(10n);
   * assert.equal(queue.getSync({ timeout: 100 }), 10n);
   * ```
   *
   * @throws {QueueEmpty} If `blocking` is false or `timeout` passes while empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  getSync(options?: QueueSyncOptions): T {
    return this.#core.getItemSync(options) as T;
  }

  /**
   * Takes the item at the head if there is one right now.
   *
   * @example Getting without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<Map<string, number>>();
   * queue.putNowait(new Map([["a", 1]]));
   * assert.equal(queue.getNowait().get("a"), 1);
   * ```
   *
   * @throws {QueueEmpty} If the queue is empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  getNowait(): T {
    return this.#core.getItemNowait() as T;
  }

  /**
   * Number of items queued right now (a snapshot: another thread may change
   * it at once), like Python's `qsize()`.
   *
   * @example Counting the queued items
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * assert.equal(queue.qsize(), 1);
   * ```
   */
  qsize(): number {
    return this.#core.qsize();
  }

  /**
   * True if no item is queued right now (a snapshot).
   *
   * @example Checking for emptiness
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * assert.equal(new Queue<number>().empty(), true);
   * ```
   */
  empty(): boolean {
    return this.#core.empty();
  }

  /**
   * True if `maxsize` items are queued right now (a snapshot; always false
   * for an unbounded queue).
   *
   * @example Checking for fullness
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>({ maxsize: 1 });
   * queue.putNowait(1);
   * assert.equal(queue.full(), true);
   * ```
   */
  full(): boolean {
    return this.#core.full();
  }

  /**
   * The `maxsize` given at construction (`0`: unbounded).
   *
   * @example Reading the size limit
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * assert.equal(new Queue<number>({ maxsize: 5 }).maxsize, 5);
   * ```
   */
  get maxsize(): number {
    return this.#core.maxsize;
  }

  /**
   * True once `close()` was called, by any thread.
   *
   * @example Checking whether the queue is closed
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.close();
   * assert.equal(queue.closed, true);
   * ```
   */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Marks one item taken with a `get` as processed; `join()` resolves when
   * every item put has been marked.
   *
   * @example Marking an item as processed
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * queue.getNowait();
   * queue.taskDone();
   * assert.equal(queue.unfinishedTasks, 0);
   * ```
   *
   * @throws {RangeError} If called more times than items were put.
   */
  taskDone(): void {
    this.#core.taskDone();
  }

  /**
   * Number of items put but not yet marked with `taskDone()`.
   *
   * @example Counting unprocessed items
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * assert.equal(queue.unfinishedTasks, 1);
   * ```
   */
  get unfinishedTasks(): number {
    return this.#core.unfinishedTasks;
  }

  /**
   * Waits (asynchronously) until every item put has been marked done with
   * `taskDone()`. Resolves `true`, or `false` if `timeout` passed first.
   *
   * @example Waiting until every item is processed
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * setTimeout(() => {
   *   queue.getNowait();
   *   queue.taskDone();
   * }, 10);
   * assert.equal(await queue.join({ timeout: 5000 }), true);
   * ```
   *
   * @throws {QueueClosed} If the queue is closed with unfinished tasks.
   */
  join(options?: QueueWaitOptions): Promise<boolean> {
    return this.#core.join(options);
  }

  /**
   * Like `join()` but blocks the calling thread (meant for workers).
   *
   * @example Checking for unprocessed items without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * assert.equal(queue.joinSync({ timeout: 0 }), false);
   * ```
   *
   * @throws {QueueClosed} If the queue is closed with unfinished tasks.
   */
  joinSync(options?: { timeout?: number }): boolean {
    return this.#core.joinSync(options);
  }

  /**
   * Closes the queue for every thread and wakes every waiter (see the
   * class docs, "Close"). Idempotent.
   *
   * @example Closing the queue (idempotent)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.close();
   * queue.close();
   * assert.equal(queue.closed, true);
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /**
   * Yields items until the queue is closed and drained (a `for await` loop
   * for consumers). Each item is marked done once the loop body finishes.
   *
   * @example Draining a closed queue with for await
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * queue.putNowait(2);
   * queue.close();
   * const seen: number[] = [];
   * for await (const n of queue) seen.push(n);
   * assert.deepEqual(seen, [1, 2]);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* iterate<T>(this);
  }

  /**
   * Closes the queue (same as `close()`).
   *
   * @example Closing with using
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue } from "@weft/weft/concurrency";
   *
   * let outside: Queue<number>;
   * {
   *   using queue = new Queue<number>();
   *   queue.putNowait(1);
   *   outside = queue;
   * }
   * assert.equal(outside.closed, true);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The handle this queue crosses to a worker as (see `share`). */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return this.#core.toHandle(target);
  }
}

registerReviver(
  "Queue",
  (handle) => new Queue(handle as QueueHandle as QueueOptions),
  import.meta.url,
);
