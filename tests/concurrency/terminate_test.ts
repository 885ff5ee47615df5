// Issue #20 part 1: Deno's Worker.terminate() does not stop a busy worker, so
// weft treats a thread as ended only when its end is certain. A terminated
// thread that may still run keeps its locks, permits and places.
import assert from "node:assert/strict";
import { Barrier } from "../../concurrency/barrier.ts";
import { Condition } from "../../concurrency/condition.ts";
import { AbandonedLockError, Lock } from "../../concurrency/lock.ts";
import { Queue } from "../../concurrency/queue.ts";
import { Thread } from "../../concurrency/thread.ts";
import { withTimeout } from "../_helpers.ts";
import { ints, sleep } from "./_sync_helpers.ts";

const TASKS = new URL("./_tasks/terminate_tasks.ts", import.meta.url);

function run(fn: string, args: unknown[]): Thread {
  const thread = new Thread({ module: TASKS, fn, args });
  thread.start();
  return thread;
}

/** Polls (bounded) until `check()` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await sleep(2);
    })(),
    10_000,
    what,
  );
}

/** White-box: the WAITERS word of a Lock block. */
function lockWaiters(lock: Lock): number {
  return Atomics.load(new Int32Array(lock.buffer, lock.byteOffset), 3);
}

Deno.test("terminate() of a busy thread is not confirmed: it keeps its lock until it really ends", async () => {
  const lock = new Lock();
  const flags = ints(3);
  const t = run("holdAndSpin", [lock, flags]);
  try {
    await until(() => Atomics.load(flags, 0) === 1, "thread to take the lock");
    assert.equal(await t.terminate({ timeout: 300 }), false);
    assert.equal(t.isAlive(), true);
    const before = Atomics.load(flags, 2);
    // Never handed over while its owner may still write what it protects.
    assert.equal(await lock.acquire({ timeout: 200 }), false);
    assert.ok(Atomics.load(flags, 2) > before, "the thread still runs");
    // It yields: the pending stop request is honoured, the end is certain.
    Atomics.store(flags, 1, 1);
    await assert.rejects(withTimeout(t.join(), 10_000), /terminated/);
    assert.equal(t.isAlive(), false);
    assert.equal(await t.terminate(), true);
    const error = await withTimeout(
      lock.acquire().then(() => undefined, (e) => e),
      10_000,
    );
    assert.ok(error instanceof AbandonedLockError, String(error));
    lock.release();
  } finally {
    Atomics.store(flags, 1, 1);
    await t.terminate();
  }
});

Deno.test("a thread stopped while blocked in acquireSync never takes the lock later", async () => {
  const lock = new Lock();
  lock.tryAcquire();
  const flags = ints(2);
  const t = run("blockOnLock", [lock, flags]);
  try {
    await until(() => lockWaiters(lock) > 0, "thread to block");
    assert.equal(await t.terminate(), true);
    assert.equal(t.isAlive(), false);
    lock.release();
    await sleep(100); // would be time enough for a zombie to get in
    assert.equal(Atomics.load(flags, 0), 0);
    assert.equal(lock.tryAcquire(), true);
    lock.release();
    assert.equal(lockWaiters(lock), 0);
  } finally {
    await t.terminate();
  }
});

Deno.test("a thread stopped in Condition.waitSync does not take a notify(1) from a live waiter", async () => {
  const cond = new Condition();
  const flags = ints(5);
  const a = run("waitOnCondition", [cond, flags, 0]);
  const b = run("waitOnCondition", [cond, flags, 1]);
  try {
    await until(() => Atomics.load(flags, 4) === 2, "both to wait");
    // Holding the lock proves both are inside waitSync (it released it).
    await cond.acquire();
    cond.release();
    assert.equal(await a.terminate(), true);
    await cond.acquire();
    cond.notify(1);
    cond.release();
    await withTimeout(b.join(), 10_000, "the live waiter to be woken");
    assert.deepEqual([Atomics.load(flags, 0), Atomics.load(flags, 1)], [0, 1]);
    assert.equal(cond.lock.locked, false);
  } finally {
    await a.terminate();
    await b.terminate();
  }
});

Deno.test("a party stopped while waiting at a Barrier breaks it instead of counting", async () => {
  const barrier = new Barrier(2);
  const t = run("waitAtBarrier", [barrier]);
  try {
    await until(() => barrier.nWaiting === 1, "party to wait");
    assert.equal(await t.terminate(), true);
    assert.equal(barrier.broken, true);
    await assert.rejects(barrier.wait({ timeout: 1000 }), /broken/i);
  } finally {
    await t.terminate();
  }
});

Deno.test("a thread stopped in Queue.getSync takes no item afterwards", async () => {
  const queue = new Queue<number>();
  const flags = ints(2);
  const t = run("takeOne", [queue, flags]);
  try {
    await until(() => Atomics.load(flags, 1) === 1, "getter to start");
    await sleep(20);
    assert.equal(await t.terminate(), true);
    await queue.put(7);
    await sleep(100);
    assert.equal(queue.qsize(), 1);
    assert.equal(Atomics.load(flags, 0), 0);
    assert.equal(await queue.get(), 7);
  } finally {
    queue.close();
    await t.terminate();
  }
});
