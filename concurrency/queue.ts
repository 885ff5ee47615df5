/**
 * {@linkcode Queue}: Python's `queue.Queue` across Web Workers.
 *
 * @module
 */

import {
  iterate,
  KIND_FIFO,
  QueueCore,
  type QueueHandle,
  type QueueOptions,
  type QueueSyncOptions,
} from "./_queue_core.ts";
import {
  registerReviver,
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "./_share.ts";
import type { WaitOptions } from "./_wait.ts";

export type { QueueOptions, QueueSyncOptions } from "./_queue_core.ts";

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
 * Waiters are woken together and race for the item; there is no FIFO
 * order among waiters.
 *
 * ## Close
 * `close()` (any thread) ends the queue for everyone: later puts throw
 * {@linkcode QueueClosed}; gets drain what is queued, then throw it; every
 * sleeping waiter wakes up and throws it; `join()` throws it if tasks are
 * unfinished. `[Symbol.dispose]` calls `close()`.
 *
 * ## Visibility
 * Everything a thread wrote before `put` is visible to the thread whose
 * `get` returns that item (the queue's internal lock orders them).
 *
 * ## Platform
 * The internal lock is held only for a copy; a worker terminated in the
 * middle of a `put`/`get` (rare, but e.g. a `Pool` task killed on timeout)
 * can leave it held forever. `getSync`/`putSync` on the main thread freeze
 * its event loop while they wait.
 *
 * @example Producer and consumer
 * ```ts
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
 * console.log(await consumer); // 15
 * queue.close();
 * ```
 *
 * @typeParam T The item type.
 */
export class Queue<T = unknown> extends QueueCore implements Shareable {
  /**
   * Creates an empty queue in fresh shared memory.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>({ maxsize: 10 });
   * console.log(queue.maxsize, queue.empty()); // 10 true
   * ```
   *
   * @param options `maxsize` (items, 0 = unbounded), `bufferSize`,
   * `maxBufferSize` (bytes).
   * @throws {TypeError} If an option is not an integer.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options?: QueueOptions) {
    super(KIND_FIFO, "Queue", options);
  }

  /**
   * Puts `item` at the tail, waiting (asynchronously) while the queue is full.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number[]>();
   * await queue.put([1, 2, 3], { timeout: 1000 });
   * console.log(queue.qsize()); // 1
   * ```
   *
   * @throws {QueueFull} If `timeout` passes while still full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   * @throws {RangeError} If the item encodes to more than `maxBufferSize` bytes.
   * @throws {TypeError} If the item is not cloneable.
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    return this.putItem(item, 0, options);
  }

  /**
   * Puts `item`, blocking the calling thread while the queue is full.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>({ maxsize: 1 });
   * queue.putSync("a");
   * console.log(queue.full()); // true
   * ```
   *
   * @throws {QueueFull} If `blocking` is false or `timeout` passes while full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   */
  putSync(item: T, options?: QueueSyncOptions): void {
    this.putItemSync(item, 0, options);
  }

  /**
   * Puts `item` if there is room right now.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(7);
   * console.log(queue.getNowait()); // 7
   * ```
   *
   * @throws {QueueFull} If the queue is full.
   * @throws {QueueClosed} If the queue is closed.
   */
  putNowait(item: T): void {
    this.putItemNowait(item, 0);
  }

  /**
   * Takes the item at the head, waiting (asynchronously) while empty.
   *
   * @example
   * ```ts
   * import { Queue, QueueEmpty } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<string>();
   * try {
   *   await queue.get({ timeout: 10 });
   * } catch (error) {
   *   console.log(error instanceof QueueEmpty); // true
   * }
   * ```
   *
   * @throws {QueueEmpty} If `timeout` passes while still empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  get(options?: WaitOptions): Promise<T> {
    return this.getItem(options) as Promise<T>;
  }

  /**
   * Takes the item at the head, blocking the calling thread while empty.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<bigint>();
   * queue.putNowait(10n);
   * console.log(queue.getSync({ timeout: 100 })); // 10n
   * ```
   *
   * @throws {QueueEmpty} If `blocking` is false or `timeout` passes while empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  getSync(options?: QueueSyncOptions): T {
    return this.getItemSync(options) as T;
  }

  /**
   * Takes the item at the head if there is one right now.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<Map<string, number>>();
   * queue.putNowait(new Map([["a", 1]]));
   * console.log(queue.getNowait().get("a")); // 1
   * ```
   *
   * @throws {QueueEmpty} If the queue is empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  getNowait(): T {
    return this.getItemNowait() as T;
  }

  /**
   * Yields items until the queue is closed and drained (a `for await` loop
   * for consumers). Each item is marked done once the loop body finishes.
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * const queue = new Queue<number>();
   * queue.putNowait(1);
   * queue.putNowait(2);
   * queue.close();
   * for await (const n of queue) console.log(n); // 1, then 2
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* iterate<T>(this);
  }

  /**
   * Closes the queue (same as `close()`).
   *
   * @example
   * ```ts
   * import { Queue } from "@weft/weft/concurrency";
   *
   * {
   *   using queue = new Queue<number>();
   *   queue.putNowait(1);
   * }
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The handle this queue crosses to a worker as (see `share`). */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return this.toHandle(target);
  }
}

registerReviver(
  "Queue",
  (handle) => new Queue(handle as QueueHandle as QueueOptions),
);
