/**
 * {@linkcode LifoQueue}: Python's `queue.LifoQueue` across Web Workers.
 *
 * @module
 */

import {
  iterate,
  KIND_LIFO,
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
} from "./_share.ts";

/**
 * A last-in, first-out queue (a stack) in shared memory: like Python's
 * `queue.LifoQueue`, with everything else exactly as in {@linkcode Queue}
 * (item encodings, `maxsize`, the three modes, timeouts, `signal`,
 * `taskDone`/`join`, `close`, sharing with workers).
 *
 * @example The most recent item comes out first
 * ```ts
 * import { LifoQueue } from "@weft/weft/concurrency";
 *
 * const stack = new LifoQueue<string>();
 * for (const word of ["a", "b", "c"]) stack.putNowait(word);
 * console.log(stack.getNowait(), stack.getNowait(), stack.getNowait()); // c b a
 * ```
 *
 * @typeParam T The item type.
 */
export class LifoQueue<T = unknown> implements Shareable {
  #core: QueueCore;

  /**
   * Creates an empty queue in fresh shared memory.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<string>({ maxsize: 10 });
   * console.log(queue.maxsize, queue.empty()); // 10 true
   * ```
   *
   * @param options `maxsize` (items, 0 = unbounded), `bufferSize`,
   * `maxBufferSize` (bytes).
   * @throws {TypeError} If an option is not an integer.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options?: QueueOptions) {
    this.#core = new QueueCore(KIND_LIFO, "LifoQueue", options);
  }

  /**
   * Puts `item` on top, waiting (asynchronously) while the queue is full.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number[]>();
   * await queue.put([1, 2, 3], { timeout: 1000 });
   * console.log(queue.qsize()); // 1
   * ```
   *
   * @throws {QueueFull} If `timeout` passes while still full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   * @throws {RangeError} If the item encodes to more than `maxBufferSize` bytes.
   * @throws {TypeError} If the item is not cloneable.
   */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    return this.#core.putItem(item, 0, options);
  }

  /**
   * Puts `item`, blocking the calling thread while the queue is full.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<string>({ maxsize: 1 });
   * queue.putSync("a");
   * console.log(queue.full()); // true
   * ```
   *
   * @throws {QueueFull} If `blocking` is false or `timeout` passes while full.
   * @throws {QueueClosed} If the queue is (or gets) closed.
   */
  putSync(item: T, options?: QueueSyncOptions): void {
    this.#core.putItemSync(item, 0, options);
  }

  /**
   * Puts `item` if there is room right now.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(7);
   * console.log(queue.getNowait()); // 7
   * ```
   *
   * @throws {QueueFull} If the queue is full.
   * @throws {QueueClosed} If the queue is closed.
   */
  putNowait(item: T): void {
    this.#core.putItemNowait(item, 0);
  }

  /**
   * Takes the item on top (the newest), waiting (asynchronously) while empty.
   *
   * @example
   * ```ts
   * import { LifoQueue, QueueEmpty } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<string>();
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
  get(options?: QueueWaitOptions): Promise<T> {
    return this.#core.getItem(options) as Promise<T>;
  }

  /**
   * Takes the item on top (the newest), blocking the calling thread while empty.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<bigint>();
   * queue.putNowait(10n);
   * console.log(queue.getSync({ timeout: 100 })); // 10n
   * ```
   *
   * @throws {QueueEmpty} If `blocking` is false or `timeout` passes while empty.
   * @throws {QueueClosed} If the queue is closed and drained.
   */
  getSync(options?: QueueSyncOptions): T {
    return this.#core.getItemSync(options) as T;
  }

  /**
   * Takes the item on top (the newest) if there is one right now.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<Map<string, number>>();
   * queue.putNowait(new Map([["a", 1]]));
   * console.log(queue.getNowait().get("a")); // 1
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
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * console.log(queue.qsize()); // 1
   * ```
   */
  qsize(): number {
    return this.#core.qsize();
  }

  /**
   * True if no item is queued right now (a snapshot).
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * console.log(new LifoQueue<number>().empty()); // true
   * ```
   */
  empty(): boolean {
    return this.#core.empty();
  }

  /**
   * True if `maxsize` items are queued right now (a snapshot; always false
   * for an unbounded queue).
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>({ maxsize: 1 });
   * queue.putNowait(1);
   * console.log(queue.full()); // true
   * ```
   */
  full(): boolean {
    return this.#core.full();
  }

  /**
   * The `maxsize` given at construction (`0`: unbounded).
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * console.log(new LifoQueue<number>({ maxsize: 5 }).maxsize); // 5
   * ```
   */
  get maxsize(): number {
    return this.#core.maxsize;
  }

  /**
   * True once `close()` was called, by any thread.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.close();
   * console.log(queue.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Marks one item taken with a `get` as processed; `join()` resolves when
   * every item put has been marked.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * queue.getNowait();
   * queue.taskDone();
   * console.log(queue.unfinishedTasks); // 0
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
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * console.log(queue.unfinishedTasks); // 1
   * ```
   */
  get unfinishedTasks(): number {
    return this.#core.unfinishedTasks;
  }

  /**
   * Waits (asynchronously) until every item put has been marked done with
   * `taskDone()`. Resolves `true`, or `false` if `timeout` passed first.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * setTimeout(() => {
   *   queue.getNowait();
   *   queue.taskDone();
   * }, 10);
   * console.log(await queue.join({ timeout: 5000 })); // true
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
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * console.log(queue.joinSync({ timeout: 0 })); // false
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
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.close();
   * queue.close();
   * console.log(queue.closed); // true
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /**
   * Yields items until the queue is closed and drained (a `for await` loop
   * for consumers). Each item is marked done once the loop body finishes.
   *
   * @example
   * ```ts
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * const queue = new LifoQueue<number>();
   * queue.putNowait(1);
   * queue.putNowait(2);
   * queue.close();
   * for await (const n of queue) console.log(n); // 2, then 1
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
   * import { LifoQueue } from "@weft/weft/concurrency";
   *
   * {
   *   using queue = new LifoQueue<number>();
   *   queue.putNowait(1);
   * }
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
  "LifoQueue",
  (handle) => new LifoQueue(handle as QueueHandle as QueueOptions),
  import.meta.url,
);
