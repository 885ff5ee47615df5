// Micro-benchmarks of weft's synchronization primitives on one thread
// (uncontended paths). Cross-thread comparisons: bench/lock_compare.ts.
//
//   deno bench --allow-read bench/lock_bench.ts
import { Event } from "../concurrency/event.ts";
import { Lock } from "../concurrency/lock.ts";
import { RLock } from "../concurrency/rlock.ts";
import { Semaphore } from "../concurrency/semaphore.ts";
import { rawLock, rawUnlock } from "./_lock_tasks.ts";

const raw = new Int32Array(new SharedArrayBuffer(8));
const lock = new Lock();
const rlock = new RLock();
const sem = new Semaphore(1);
const event = new Event();
event.set();

Deno.bench(
  "raw Atomics futex lock + unlock",
  { group: "lock", baseline: true },
  () => {
    rawLock(raw);
    rawUnlock(raw);
  },
);

Deno.bench("Lock.acquireSync() + release()", { group: "lock" }, () => {
  lock.acquireSync();
  lock.release();
});

Deno.bench("Lock.tryAcquire() + release()", { group: "lock" }, () => {
  lock.tryAcquire();
  lock.release();
});

Deno.bench("await Lock.acquire() + release()", { group: "lock" }, async () => {
  await lock.acquire();
  lock.release();
});

Deno.bench("RLock.acquireSync() + release()", { group: "lock" }, () => {
  rlock.acquireSync();
  rlock.release();
});

Deno.bench("Semaphore.acquireSync() + release()", { group: "lock" }, () => {
  sem.acquireSync();
  sem.release();
});

Deno.bench("Event.isSet() + waitSync() when set", () => {
  event.isSet();
  event.waitSync();
});
