// Worker halves of bench/lock_compare.ts: tight lock/increment/unlock loops
// over a raw futex lock (the baseline) and over weft's Lock.
import type { Event } from "../concurrency/event.ts";
import type { Lock } from "../concurrency/lock.ts";

/** Drepper's 3-state futex mutex on word 0 (0 free, 1 locked, 2 contended). */
export function rawLock(v: Int32Array): void {
  let c = Atomics.compareExchange(v, 0, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(v, 0, 2);
  while (c !== 0) {
    Atomics.wait(v, 0, 2);
    c = Atomics.exchange(v, 0, 2);
  }
}

/** Unlocks {@linkcode rawLock}. */
export function rawUnlock(v: Int32Array): void {
  if (Atomics.sub(v, 0, 1) !== 1) {
    Atomics.store(v, 0, 0);
    Atomics.notify(v, 0, 1);
  }
}

function finish(done: Int32Array): void {
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
}

/** n raw lock/increment/unlock rounds after `go`; counter at word 1. */
export function rawLoop(v: Int32Array, n: number, go: Event, done: Int32Array) {
  go.waitSync();
  for (let i = 0; i < n; i++) {
    rawLock(v);
    v[1]++;
    rawUnlock(v);
  }
  finish(done);
}

/** n weft acquireSync/increment/release rounds after `go`. */
export function syncLoop(
  lock: Lock,
  counter: Int32Array,
  n: number,
  go: Event,
  done: Int32Array,
) {
  go.waitSync();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    counter[0]++;
    lock.release();
  }
  finish(done);
}

/** n weft `await acquire()`/increment/release rounds after `go`. */
export async function asyncLoop(
  lock: Lock,
  counter: Int32Array,
  n: number,
  go: Event,
  done: Int32Array,
) {
  await go.wait();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    counter[0]++;
    lock.release();
  }
  finish(done);
}
