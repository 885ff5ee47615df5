// Functions the demo runs on worker threads (weft Thread and Pool).
import type { Lock, Queue } from "../../concurrency/mod.ts";

/**
 * Adds 1 to a shared counter `rounds` times, each time as a deliberately
 * non-atomic read-pause-write under the Lock: without the lock, increments
 * from other threads would be lost.
 */
export function addUnderLock(
  lock: Lock,
  counter: Int32Array,
  rounds: number,
): number {
  for (let i = 0; i < rounds; i++) {
    lock.acquireSync();
    try {
      const seen = counter[0];
      for (let spin = 0; spin < 50; spin++) Math.sqrt(spin); // widen the race window
      counter[0] = seen + 1;
    } finally {
      lock.release();
    }
  }
  return rounds;
}

/** Takes numbers from `jobs` until `null`, puts their squares on `results`. */
export function squareWorker(
  jobs: Queue<number | null>,
  results: Queue<number>,
): number {
  let handled = 0;
  while (true) {
    const n = jobs.getSync();
    if (n === null) {
      jobs.taskDone();
      return handled;
    }
    results.putSync(n * n);
    handled++;
    jobs.taskDone();
  }
}

/** A CPU-bound task for the Pool: counts primes below `limit`. */
export { countPrimes } from "../_primes.ts";
