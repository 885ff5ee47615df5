// Worker-side task functions for the synchronization-primitive tests.
// Each export runs inside a `Thread`; shared objects arrive live.
// (Imports name the files, not mod.ts, so these tasks load only what they use.)
import type { Barrier } from "../../../concurrency/barrier.ts";
import type { Condition } from "../../../concurrency/condition.ts";
import type { Event } from "../../../concurrency/event.ts";
import type { Lock } from "../../../concurrency/lock.ts";
import type { RLock } from "../../../concurrency/rlock.ts";
import type { Semaphore } from "../../../concurrency/semaphore.ts";
import { currentThreadId } from "../../../concurrency/thread.ts";

/** Busy-waits about `us` microseconds (a visible critical section). */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* spin */ }
}

/** n increments of counter[0] (read, then write +1), under `lock` if given. */
export function increment(
  lock: Lock | null,
  counter: Int32Array,
  n: number,
  gate?: Event,
  gap = 0,
): number {
  gate?.waitSync({ timeout: 10_000 });
  for (let i = 0; i < n; i++) {
    if (lock) lock.acquireSync();
    const seen = counter[0];
    if (gap > 0 && i % 64 === 0) spin(gap);
    counter[0] = seen + 1;
    if (lock) lock.release();
  }
  return n;
}

/** Holds a permit `rounds` times; records concurrency in stats [now, max]. */
export function holdPermit(
  sem: Semaphore,
  stats: Int32Array,
  rounds: number,
  gate: Event,
): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  gate.waitSync({ timeout: 10_000 });
  for (let i = 0; i < rounds; i++) {
    sem.acquireSync();
    const now = Atomics.add(stats, 0, 1) + 1;
    for (;;) {
      const max = Atomics.load(stats, 1);
      if (now <= max || Atomics.compareExchange(stats, 1, max, now) === max) {
        break;
      }
    }
    Atomics.wait(pause, 0, 0, 2); // hold it for 2 ms without using a core
    Atomics.sub(stats, 0, 1);
    sem.release();
  }
  return rounds;
}

/** Tries the RLock from another thread: [tryAcquire result, ident]. */
export function tryOtherThread(lock: RLock): [boolean, number] {
  const got = lock.tryAcquire();
  if (got) lock.release();
  return [got, currentThreadId()];
}

/** Blocks on the RLock, then reports the flag value seen under it. */
export function acquireAndRead(lock: RLock, flag: Int32Array): number {
  lock.acquireSync();
  const seen = Atomics.load(flag, 0);
  lock.release();
  return seen;
}

/** Releases an RLock it does not own: returns the error name. */
export function releaseForeign(lock: RLock): string {
  try {
    lock.release();
    return "no error";
  } catch (error) {
    return (error as Error).name;
  }
}

/** Waits for the event (blocking), then counts itself in `woke`. */
export function waitEvent(event: Event, woke: Int32Array, ready: Int32Array) {
  Atomics.add(ready, 0, 1);
  const ok = event.waitSync({ timeout: 10_000 });
  if (ok) Atomics.add(woke, 0, 1);
  return ok;
}

/** Bounded buffer producer: puts `items` into a ring guarded by `cond`. */
export function produce(
  cond: Condition,
  ring: Int32Array, // [head, tail, count, cap, ...slots]
  from: number,
  count: number,
): number {
  for (let i = 0; i < count; i++) {
    cond.acquireSync();
    cond.waitForSync(() => ring[2] < ring[3]);
    ring[4 + ring[1]] = from + i;
    ring[1] = (ring[1] + 1) % ring[3];
    ring[2]++;
    cond.notifyAll();
    cond.release();
  }
  return count;
}

/** Bounded buffer consumer: takes `count` items, marks each in `seen`. */
export function consume(
  cond: Condition,
  ring: Int32Array,
  seen: Int32Array,
  count: number,
): number {
  for (let i = 0; i < count; i++) {
    cond.acquireSync();
    cond.waitForSync(() => ring[2] > 0);
    const item = ring[4 + ring[0]];
    ring[0] = (ring[0] + 1) % ring[3];
    ring[2]--;
    cond.notifyAll();
    cond.release();
    Atomics.add(seen, item, 1);
  }
  return count;
}

/**
 * `rounds` rounds at the barrier; in each, writes its round number into
 * `slots[index]` before waiting and checks every party reached the round.
 */
export function barrierRounds(
  barrier: Barrier,
  marks: Int32Array,
  party: number,
  rounds: number,
): number {
  let indexSum = 0;
  for (let r = 1; r <= rounds; r++) {
    Atomics.store(marks, party, r);
    indexSum += barrier.waitSync({ timeout: 10_000 });
    for (let p = 0; p < marks.length; p++) {
      if (Atomics.load(marks, p) < r) throw new Error(`party ${p} behind`);
    }
    barrier.waitSync({ timeout: 10_000 }); // nobody races into round r+1
  }
  return indexSum;
}

/** Waits at the barrier; returns the error name it ends with. */
export function barrierBroken(barrier: Barrier): string {
  try {
    barrier.waitSync({ timeout: 10_000 });
    return "passed";
  } catch (error) {
    return (error as Error).name;
  }
}

/** Hammers the lock with acquireSync until `stop[0]` is set. */
export function hammer(
  lock: Lock,
  stop: Int32Array,
  counts: Int32Array,
  slot: number,
): number {
  let n = 0;
  while (Atomics.load(stop, 0) === 0) {
    lock.acquireSync();
    n++;
    lock.release();
    if ((n & 1023) === 0) Atomics.store(counts, slot, n);
  }
  return n;
}

/** Holds `lock` until `release[0]` becomes 1; signals `held[0] = 1`. */
export function holdUntil(lock: Lock, held: Int32Array, release: Int32Array) {
  lock.acquireSync();
  Atomics.store(held, 0, 1);
  Atomics.notify(held, 0);
  Atomics.wait(release, 0, 0, 10_000);
  lock.release();
  return true;
}

/** Holds an RLock (twice, re-entrantly) until `release[0]` becomes 1. */
export function holdRLockUntil(
  lock: RLock,
  held: Int32Array,
  release: Int32Array,
) {
  lock.acquireSync();
  lock.acquireSync();
  Atomics.store(held, 0, 1);
  Atomics.wait(release, 0, 0, 10_000);
  lock.release();
  lock.release();
  return true;
}
