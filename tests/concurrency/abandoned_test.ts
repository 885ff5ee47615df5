import assert from "node:assert/strict";
import { AbandonedLockError, Lock } from "../../concurrency/lock.ts";
import { RLock } from "../../concurrency/rlock.ts";
import { currentThreadId, Thread } from "../../concurrency/thread.ts";
import { withTimeout } from "../_helpers.ts";
import { ints, sleep } from "./_sync_helpers.ts";

const TASKS = new URL("./_tasks/sync_thread.ts", import.meta.url);

/** Starts a thread that takes `lock` and ends `how`; resolves once it holds it. */
async function holder(
  lock: Lock | RLock,
  how: "return" | "throw" | "hang",
): Promise<Thread> {
  const held = ints(1);
  const thread = new Thread({
    module: TASKS,
    fn: "holdAndEnd",
    args: [lock, held, how],
  });
  thread.start();
  await withTimeout(
    (async () => {
      while (Atomics.load(held, 0) === 0) await sleep(5);
    })(),
    10_000,
    "thread to take the lock",
  );
  return thread;
}

for (const how of ["return", "throw", "terminate"] as const) {
  Deno.test(`RLock abandoned by a thread that ends by ${how}: the next acquire() takes it with AbandonedLockError`, async () => {
    const lock = new RLock();
    const thread = await holder(lock, how === "terminate" ? "hang" : how);
    try {
      const owner = thread.ident;
      if (how === "terminate") thread.terminate();
      else await withTimeout(thread.join().catch(() => {}), 10_000);
      const start = performance.now();
      const error = await withTimeout(
        lock.acquire().then(() => undefined, (e) => e),
        10_000,
        "abandoned lock recovery",
      );
      const took = performance.now() - start;
      assert.ok(error instanceof AbandonedLockError, String(error));
      assert.equal(error.name, "AbandonedLockError");
      assert.equal(error.previousOwner, owner);
      assert.ok(took < 5000, `took ${took} ms`);
      // the caller holds it now, with a fresh recursion count of 1
      assert.equal(lock.owned, true);
      lock.release();
      assert.equal(lock.locked, false);
      assert.equal(await lock.acquire(), true); // and it is healthy again
      lock.release();
    } finally {
      thread.terminate();
    }
  });
}

Deno.test("RLock waiter blocked before the owner dies is handed the lock with AbandonedLockError", async () => {
  const lock = new RLock();
  const thread = await holder(lock, "hang");
  try {
    const waiting = lock.acquire().then(() => "acquired", (e) => e);
    await sleep(50);
    thread.terminate();
    const error = await withTimeout(waiting, 10_000);
    assert.ok(error instanceof AbandonedLockError);
    assert.equal(lock.owned, true);
    lock.release();
  } finally {
    thread.terminate();
  }
});

Deno.test("Lock records its acquirer: abandoned by a terminated thread, acquireSync() recovers", async () => {
  const lock = new Lock();
  const thread = await holder(lock, "hang");
  thread.terminate();
  assert.throws(() => lock.acquireSync({ timeout: 5000 }), AbandonedLockError);
  assert.equal(lock.locked, true);
  lock.release();
});

Deno.test("a lock held by a live thread is never treated as abandoned", async () => {
  const lock = new RLock();
  const thread = await holder(lock, "hang");
  try {
    assert.equal(await lock.acquire({ timeout: 200 }), false);
    assert.equal(lock.tryAcquire(), false);
  } finally {
    thread.terminate();
  }
  assert.notEqual(thread.ident, currentThreadId());
});

Deno.test("guard() on an abandoned lock rejects with AbandonedLockError, lock held", async () => {
  const lock = new Lock();
  const thread = await holder(lock, "return");
  await withTimeout(thread.join(), 10_000);
  await assert.rejects(withTimeout(lock.guard(), 10_000), AbandonedLockError);
  assert.equal(lock.locked, true);
  lock.release();
});

// White-box: the queue's ticket ring (words 4 NEXT, 5 SERVING, 72.. HOLDER).
const NEXT = 4, HOLDER = 8 + 64;
const DEAD = 0x7ffffff0; // an ident no live thread has

Deno.test("a queue ticket left by a dead thread is skipped, not waited on forever", async () => {
  const lock = new Lock();
  const words = new Int32Array(lock.buffer, lock.byteOffset);
  lock.acquireSync();
  // a dead thread took ticket 0 and died before being served
  Atomics.store(words, HOLDER + 0, DEAD);
  Atomics.store(words, NEXT, 1);
  const waiting = lock.acquire();
  await sleep(20);
  lock.release();
  assert.equal(
    await withTimeout(waiting, 10_000, "waiter behind a dead ticket"),
    true,
  );
  lock.release();
  assert.equal(lock.tryAcquire(), true); // queue drained
  lock.release();
});

Deno.test("a ticket slot claimed by a thread that died before queueing is reclaimed", async () => {
  const lock = new Lock();
  const words = new Int32Array(lock.buffer, lock.byteOffset);
  lock.acquireSync();
  // a dead thread claimed the slot of ticket 0 but never advanced NEXT
  Atomics.store(words, HOLDER + 0, DEAD);
  const waiting = lock.acquire();
  await withTimeout(
    (async () => {
      while (Atomics.load(words, NEXT) === 0) await sleep(2);
    })(),
    10_000,
    "waiter to take over the slot and queue",
  );
  assert.equal(Atomics.load(words, HOLDER + 0), currentThreadId());
  lock.release();
  assert.equal(await withTimeout(waiting, 10_000), true);
  lock.release();
});
