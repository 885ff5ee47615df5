// Thread targets for queue_fair_test.ts.
import type { Queue } from "../../../concurrency/queue.ts";
import { QueueEmpty, QueueFull } from "../../../concurrency/queue_errors.ts";

/** Blocks in getSync; stores the item in `out[index]`. */
export function getOne(queue: Queue<number>, out: Int32Array, index: number) {
  Atomics.store(out, index, queue.getSync({ timeout: 20_000 }));
}

/** Puts `count` numbers from `from`, with short timeouts retried (so the
 * cancel path of a putter's ticket runs often). */
export function produce(queue: Queue<number>, from: number, count: number) {
  for (let i = 0; i < count; i++) {
    for (;;) {
      try {
        queue.putSync(from + i, { timeout: (i % 3) + 1 });
        break;
      } catch (error) {
        if (!(error instanceof QueueFull)) throw error;
      }
    }
  }
}

/** Takes `n` items, counting each in `seen[item]`; short timeouts retried. */
export function consume(queue: Queue<number>, seen: Int32Array, n: number) {
  for (let i = 0; i < n; i++) {
    for (;;) {
      try {
        const item = queue.getSync({ timeout: (i % 4) + 1 });
        Atomics.add(seen, item, 1);
        break;
      } catch (error) {
        if (!(error instanceof QueueEmpty)) throw error;
      }
    }
  }
}
