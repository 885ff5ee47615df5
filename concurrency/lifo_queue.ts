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
} from "./_queue_core.ts";
import {
  registerReviver,
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "./_share.ts";
import type { WaitOptions } from "./_wait.ts";

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
export class LifoQueue<T = unknown> extends QueueCore implements Shareable {
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
    super(KIND_LIFO, "LifoQueue", options);
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
  put(item: T, options?: WaitOptions): Promise<void> {
    return this.putItem(item, 0, options);
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
    this.putItemSync(item, 0, options);
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
    this.putItemNowait(item, 0);
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
  get(options?: WaitOptions): Promise<T> {
    return this.getItem(options) as Promise<T>;
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
    return this.getItemSync(options) as T;
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
    return this.getItemNowait() as T;
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
    return this.toHandle(target);
  }
}

registerReviver(
  "LifoQueue",
  (handle) => new LifoQueue(handle as QueueHandle as QueueOptions),
);
