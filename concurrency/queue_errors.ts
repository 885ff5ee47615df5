/**
 * Errors thrown by {@linkcode Queue}, {@linkcode LifoQueue} and
 * {@linkcode PriorityQueue}: the ones a caller catches to tell "nothing to
 * get", "no room" and "the queue was closed" apart.
 *
 * @module
 */

/**
 * Thrown by `getNowait()`, by `getSync({ blocking: false })` and by a `get`
 * whose `timeout` passed with the queue still empty — like Python's
 * `queue.Empty`.
 *
 * @example Telling an empty queue apart
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, QueueEmpty } from "@weft/weft/concurrency";
 *
 * const queue = new Queue<number>();
 * try {
 *   queue.getNowait();
 * } catch (error) {
 *   assert.equal(error instanceof QueueEmpty, true);
 * }
 * ```
 */
export class QueueEmpty extends Error {
  /** Creates the error; `message` defaults to a sentence about the get. */
  constructor(
    message = "Cannot get item: the queue is empty",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "QueueEmpty";
  }
}

/**
 * Thrown by `putNowait()`, by `putSync(item, { blocking: false })` and by a
 * `put` whose `timeout` passed with the queue still full — like Python's
 * `queue.Full`.
 *
 * @example Telling a full queue apart
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, QueueFull } from "@weft/weft/concurrency";
 *
 * const queue = new Queue<number>({ maxsize: 1 });
 * queue.putNowait(1);
 * try {
 *   queue.putNowait(2);
 * } catch (error) {
 *   assert.equal(error instanceof QueueFull, true);
 * }
 * ```
 */
export class QueueFull extends Error {
  /** Creates the error; `message` defaults to a sentence about the put. */
  constructor(
    message = "Cannot put item: the queue is full",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "QueueFull";
  }
}

/**
 * Thrown by every queue operation that cannot go on because `close()` was
 * called (by any thread) — like Python 3.13's `queue.ShutDown`. A `put`
 * after `close()` throws it at once; a `get` first drains the items still
 * queued and throws it once the queue is empty; waiters asleep at the time
 * of `close()` wake up and throw it. The error of a `put` carries the item
 * it could not store in {@linkcode QueueClosed.item}.
 *
 * @example A put after close gets its item back
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, QueueClosed } from "@weft/weft/concurrency";
 *
 * const queue = new Queue<string>();
 * queue.close();
 * const error = await queue.put("late").catch((e) => e);
 * assert.ok(error instanceof QueueClosed);
 * assert.equal(error.item, "late");
 * ```
 */
export class QueueClosed extends Error {
  /**
   * The item a `put` could not store because the queue was closed
   * (`undefined` for a `get`; check `"item" in error` to tell an
   * `undefined` item apart).
   */
  declare readonly item?: unknown;

  /** Creates the error; `message` defaults to a sentence about the close. */
  constructor(
    message = "Cannot use queue: it is closed",
    options?: ErrorOptions & { item?: unknown },
  ) {
    super(message, options);
    this.name = "QueueClosed";
    if (options !== undefined && "item" in options) this.item = options.item;
  }
}
