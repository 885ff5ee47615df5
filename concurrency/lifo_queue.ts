/**
 * {@linkcode LifoQueue}: Python's `queue.LifoQueue` across Web Workers.
 *
 * @module
 */

import {
  KIND_LIFO,
  type QueueHandle,
  type QueueOptions,
} from "./_queue_core.ts";
import { registerReviver } from "../_internal/share.ts";
import { Queue } from "./queue.ts";
import { QUEUE_ORDER, type QueueOrder } from "./_queue_keys.ts";

/**
 * A last-in, first-out queue (a stack) in shared memory: like Python's
 * `queue.LifoQueue`, a subclass of {@linkcode Queue} with everything else
 * exactly as there (item encodings, `maxsize`, the three modes, timeouts,
 * `signal`, `taskDone`/`join`, `close`, sharing with workers). `get`,
 * `getSync` and `getNowait` take the newest item.
 *
 * @example The most recent item comes out first
 * ```ts
 * import assert from "node:assert/strict";
 * import { LifoQueue, Queue } from "@weft/weft/concurrency";
 *
 * const stack = new LifoQueue<string>({ maxsize: 10 });
 * for (const word of ["a", "b", "c"]) stack.putNowait(word);
 * assert.equal(stack.getNowait(), "c");
 * assert.equal(stack.getNowait(), "b");
 * assert.equal(stack.getNowait(), "a");
 * assert.equal(stack instanceof Queue, true);
 * ```
 *
 * @typeParam T The item type.
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  /** Serves the newest item first. */
  static override readonly [QUEUE_ORDER]: QueueOrder = {
    kind: KIND_LIFO,
    name: "LifoQueue",
  };
}

registerReviver(
  "LifoQueue",
  (handle) => new LifoQueue(handle as QueueHandle as QueueOptions),
  import.meta.url,
);
