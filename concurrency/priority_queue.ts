/**
 * {@linkcode PriorityQueue}: Python's `queue.PriorityQueue` across Web Workers.
 *
 * @module
 */

import {
  KIND_PRIORITY,
  type Priority,
  type QueueHandle,
  type QueueOptions,
} from "./_queue_core.ts";
import { registerReviver } from "../_internal/share.ts";
import { Queue } from "./queue.ts";
import { PRIORITY_OF, QUEUE_ORDER, type QueueOrder } from "./_queue_keys.ts";

/** What a {@linkcode PriorityQueue} accepts: a number, or a tuple whose
 * first element is the priority. */
export type PriorityItem =
  | number
  | bigint
  | readonly [number | bigint, ...unknown[]];

/** Beyond this magnitude a bigint's remainder may not fit a double. */
const EXACT_LIMIT = 1n << 106n;

/** A bigint as `[nearest double, exact remainder]` (both doubles). */
function splitBigint(p: bigint): Priority {
  if (p >= EXACT_LIMIT || p <= -EXACT_LIMIT) {
    throw new RangeError(
      "Cannot put item in PriorityQueue: a bigint priority must be within ±2^106 to be ordered exactly",
    );
  }
  const high = Number(p);
  const low = Number(p - BigInt(high));
  return low === 0 ? high : [high, low];
}

function priorityOf(item: unknown): Priority {
  let p: unknown = item;
  if (Array.isArray(item)) p = item[0];
  if (typeof p === "bigint") return splitBigint(p);
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
 * cannot. Priorities must not be NaN. Bigint priorities are ordered exactly
 * (`2n ** 60n + 1n` after `2n ** 60n`) within ±2^106; beyond that `put`
 * throws a `RangeError`.
 *
 * @example Lowest first, FIFO among equals
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriorityQueue } from "@weft/weft/concurrency";
 *
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "code"]);
 * jobs.putNowait([1, "eat"]);
 * jobs.putNowait([2, "sleep"]);
 * assert.deepEqual(
 *   [jobs.getNowait(), jobs.getNowait(), jobs.getNowait()],
 *   [[1, "eat"], [2, "code"], [2, "sleep"]],
 * );
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
   * @throws {TypeError} If there is no numeric priority (or it is NaN).
   * @throws {RangeError} If a bigint priority is beyond ±2^106. */
  protected override [PRIORITY_OF](
    item: T,
  ): number | readonly [number, number] {
    return priorityOf(item);
  }
}

registerReviver(
  "PriorityQueue",
  (handle) => new PriorityQueue(handle as QueueHandle as QueueOptions),
  import.meta.url,
);
