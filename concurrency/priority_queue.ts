/**
 * {@linkcode PriorityQueue}: Python's `queue.PriorityQueue` across Web Workers.
 *
 * @module
 */

import {
  KIND_PRIORITY,
  PRIORITY_OF,
  QUEUE_ORDER,
  type QueueHandle,
  type QueueOptions,
  type QueueOrder,
} from "./_queue_core.ts";
import { registerReviver } from "./_share.ts";
import { Queue } from "./queue.ts";

/** What a {@linkcode PriorityQueue} accepts: a number, or a tuple whose
 * first element is the priority. */
export type PriorityItem =
  | number
  | bigint
  | readonly [number | bigint, ...unknown[]];

function priorityOf(item: unknown): number {
  let p: unknown = item;
  if (Array.isArray(item)) p = item[0];
  if (typeof p === "bigint") p = Number(p);
  if (typeof p !== "number" || Number.isNaN(p)) {
    throw new TypeError(
      "Cannot put item in PriorityQueue: give a [priority, ...] tuple or a number (not NaN)",
    );
  }
  return p;
}

/**
 * A priority queue in shared memory: like Python's `queue.PriorityQueue`,
 * a subclass of {@linkcode Queue} with everything else exactly as there (item encodings,
 * `maxsize`, the three modes, timeouts, `signal`, `taskDone`/`join`,
 * `close`, sharing with workers).
 *
 * ## Giving the priority
 * As in Python, the priority is part of the item: put a tuple
 * `[priority, ...rest]` whose first element is a number (or a bigint), or
 * put a bare number. `get` returns the whole tuple. The lowest priority
 * comes out first; **equal priorities come out in insertion order** (FIFO)
 * — unlike Python, which compares the rest of the tuple and raises if it
 * cannot. Priorities must not be NaN.
 *
 * @example Lowest first, FIFO among equals
 * ```ts
 * import { PriorityQueue } from "@weft/weft/concurrency";
 *
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "code"]);
 * jobs.putNowait([1, "eat"]);
 * jobs.putNowait([2, "sleep"]);
 * console.log(jobs.getNowait(), jobs.getNowait(), jobs.getNowait());
 * // [1, "eat"] [2, "code"] [2, "sleep"]
 * ```
 *
 * @typeParam T The item type: `[number | bigint, ...unknown[]]` or a number.
 */
export class PriorityQueue<T extends PriorityItem = PriorityItem>
  extends Queue<T> {
  /** Serves the lowest priority first, FIFO among equals. */
  static override readonly [QUEUE_ORDER]: QueueOrder = {
    kind: KIND_PRIORITY,
    name: "PriorityQueue",
  };

  /** The item's priority: its first element, or the item itself.
   * @throws {TypeError} If there is no numeric priority (or it is NaN). */
  protected override [PRIORITY_OF](item: T): number {
    return priorityOf(item);
  }
}

registerReviver(
  "PriorityQueue",
  (handle) => new PriorityQueue(handle as QueueHandle as QueueOptions),
  import.meta.url,
);
