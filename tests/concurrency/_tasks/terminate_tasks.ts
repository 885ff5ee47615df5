// Worker-side functions for terminate_test.ts: threads that are busy,
// blocked in weft waits, or holding locks when they are asked to stop.
import type { Barrier } from "../../../concurrency/barrier.ts";
import type { Condition } from "../../../concurrency/condition.ts";
import type { Lock } from "../../../concurrency/lock.ts";
import type { Queue } from "../../../concurrency/queue.ts";

/** Takes `lock`, says so in `flags[0]`, then spins (never yields) until
 * `flags[1]` is set, writing `flags[2]` all the while; then waits forever. */
export async function holdAndSpin(
  lock: Lock,
  flags: Int32Array,
): Promise<void> {
  lock.acquireSync();
  Atomics.store(flags, 0, 1);
  while (Atomics.load(flags, 1) === 0) Atomics.add(flags, 2, 1);
  await new Promise(() => {});
}

/** Blocks in `acquireSync`; counts in `flags[0]` if it ever gets the lock. */
export function blockOnLock(lock: Lock, flags: Int32Array): void {
  Atomics.store(flags, 1, 1); // about to block
  lock.acquireSync();
  Atomics.add(flags, 0, 1); // the critical section
  lock.release();
}

/** Waits on the condition; counts its wake-ups in `flags[index]`. */
export function waitOnCondition(
  cond: Condition,
  flags: Int32Array,
  index: number,
): void {
  cond.acquireSync();
  try {
    Atomics.add(flags, 4, 1); // waiting (under the lock)
    if (cond.waitSync()) Atomics.add(flags, index, 1);
  } finally {
    cond.release();
  }
}

/** Waits at the barrier (blocking). */
export function waitAtBarrier(barrier: Barrier): number {
  return barrier.waitSync();
}

/** Blocks in `getSync`; stores what it took in `flags[0]`. */
export function takeOne(queue: Queue<number>, flags: Int32Array): void {
  Atomics.store(flags, 1, 1);
  const item = queue.getSync();
  Atomics.store(flags, 0, item);
}
