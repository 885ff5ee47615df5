// Worker-side halves of the classic threading tutorial programs.
import type { Event } from "../../../concurrency/event.ts";
import type { Lock } from "../../../concurrency/lock.ts";
import type { RLock } from "../../../concurrency/rlock.ts";
import type { Semaphore } from "../../../concurrency/semaphore.ts";

const pause = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => Atomics.wait(pause, 0, 0, ms);

/** "100 threads decrement a counter": read, nap, write, under the lock. */
export function decrement(lock: Lock, counter: Int32Array, times: number) {
  for (let i = 0; i < times; i++) {
    using _ = lock.guardSync();
    const value = counter[0];
    nap(1); // the window in which an unlocked program loses updates
    counter[0] = value - 1;
  }
}

/** The deadlock tutorial: a method that takes the lock calls another that takes it again. */
export function nestedUpdate(lock: Lock | RLock): string {
  if (!lock.acquireSync({ timeout: 5_000 })) return "outer timed out";
  try {
    // inner "helper" takes the same lock again: a Lock deadlocks here
    if (!lock.acquireSync({ timeout: 200 })) return "deadlock";
    lock.release();
    return "ok";
  } finally {
    lock.release();
  }
}

/** The boss/worker Event tutorial: wait for the boss, then do the job. */
export function employee(start: Event, done: Int32Array, id: number): string {
  if (!start.waitSync({ timeout: 10_000 })) return `worker ${id} never started`;
  Atomics.add(done, 0, 1);
  return `worker ${id} done`;
}

/** The Semaphore(5) tutorial: a "connection pool" of 5 slots. */
export function useConnection(pool: Semaphore, stats: Int32Array): number {
  using _ = pool.guardSync();
  const inside = Atomics.add(stats, 0, 1) + 1;
  for (;;) {
    const max = Atomics.load(stats, 1);
    if (
      inside <= max || Atomics.compareExchange(stats, 1, max, inside) === max
    ) {
      break;
    }
  }
  nap(20);
  Atomics.sub(stats, 0, 1);
  return inside;
}

/** Producer of the semaphore-based bounded buffer. */
export function producer(
  mutex: Lock,
  empty: Semaphore,
  full: Semaphore,
  ring: Int32Array, // [head, tail, cap, ...slots]
  count: number,
): number {
  for (let i = 1; i <= count; i++) {
    empty.acquireSync();
    mutex.acquireSync();
    ring[3 + ring[1]] = i;
    ring[1] = (ring[1] + 1) % ring[2];
    mutex.release();
    full.release();
  }
  return count;
}

/** Consumer of the semaphore-based bounded buffer: returns the items' sum. */
export function consumer(
  mutex: Lock,
  empty: Semaphore,
  full: Semaphore,
  ring: Int32Array,
  count: number,
): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    full.acquireSync();
    mutex.acquireSync();
    sum += ring[3 + ring[0]];
    ring[0] = (ring[0] + 1) % ring[2];
    mutex.release();
    empty.release();
  }
  return sum;
}
