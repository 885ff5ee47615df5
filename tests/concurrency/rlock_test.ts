import assert from "node:assert/strict";
import { Lock } from "../../concurrency/lock.ts";
import { RLock } from "../../concurrency/rlock.ts";
import { revive, share } from "../../concurrency/share.ts";
import { currentThreadId } from "../../concurrency/thread.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn } from "./_sync_helpers.ts";

// ---- construction ---------------------------------------------------------

Deno.test("new RLock() rejects a Lock's block with RangeError", () => {
  const lock = new Lock();
  assert.throws(
    () => new RLock({ buffer: lock.buffer, byteOffset: lock.byteOffset }),
    RangeError,
  );
});

// ---- happy path -----------------------------------------------------------

Deno.test("RLock nests acquire/release in one thread", async () => {
  const lock = new RLock();
  assert.equal(lock.acquireSync(), true);
  assert.equal(await lock.acquire(), true);
  assert.equal(lock.tryAcquire(), true);
  assert.equal(lock.owned, true);
  lock.release();
  lock.release();
  assert.equal(lock.locked, true);
  lock.release();
  assert.equal(lock.locked, false);
  assert.equal(lock.owned, false);
  assert.throws(() => lock.release(), {
    name: "TypeError",
    message: "Cannot release RLock: it is not owned by this thread",
  });
});

Deno.test("RLock.guard()/guardSync() release one level each, at most once", async () => {
  const lock = new RLock();
  {
    using _outer = await lock.guard();
    {
      using inner = lock.guardSync();
      inner[Symbol.dispose]();
      inner[Symbol.dispose](); // second dispose is a no-op
      assert.equal(lock.locked, true);
    }
    assert.equal(lock.locked, true);
  }
  assert.equal(lock.locked, false);
});

// ---- across threads -------------------------------------------------------

Deno.test("RLock blocks another thread until the owner fully releases", async () => {
  const lock = new RLock();
  const flag = ints(1);
  lock.acquireSync();
  lock.acquireSync();
  const other = spawn("tryOtherThread", [lock]);
  const [got, ident] = await withTimeout(other.join(), 10_000) as [
    boolean,
    number,
  ];
  assert.equal(got, false);
  assert.notEqual(ident, currentThreadId());
  const blocked = spawn("acquireAndRead", [lock, flag]);
  try {
    const joined = blocked.join();
    const state = probe(joined);
    await sleep(100);
    assert.equal(state.settled, false);
    Atomics.store(flag, 0, 1);
    lock.release();
    await sleep(20);
    assert.equal(state.settled, false); // still one level held
    lock.release();
    assert.equal(await withTimeout(joined, 10_000), 1);
  } finally {
    blocked.terminate();
  }
});

Deno.test("RLock.release() from a thread that does not own it throws TypeError", async () => {
  const lock = new RLock();
  lock.acquireSync();
  const thread = spawn("releaseForeign", [lock]);
  assert.equal(await withTimeout(thread.join(), 10_000), "TypeError");
  assert.equal(lock.owned, true);
  lock.release();
});

Deno.test("RLock survives share()/revive() with ownership intact", () => {
  const lock = new RLock();
  const copy = revive<RLock>(structuredClone(share(lock)));
  lock.acquireSync();
  assert.equal(copy.owned, true); // same thread, same owner
  copy.release();
  assert.equal(lock.locked, false);
});

// ---- abort ----------------------------------------------------------------

Deno.test("RLock.acquire() abort matrix", async () => {
  const lock = new RLock();
  const reason = new Error("stop");
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  // ignored when immediate
  const c0 = new AbortController();
  assert.equal(await lock.acquire({ signal: c0.signal }), true);
  c0.abort();
  await flushMicrotasks();
  assert.equal(lock.owned, true);
  lock.release();
  // aborted while waiting (held by a worker), next waiter proceeds
  const held = ints(1);
  const release = ints(1);
  const holder = spawn("holdRLockUntil", [lock, held, release]);
  try {
    await withTimeout(
      (async () => {
        while (Atomics.load(held, 0) === 0) await sleep(5);
      })(),
      10_000,
    );
    const c1 = new AbortController();
    const first = lock.acquire({ signal: c1.signal });
    const second = lock.acquire();
    await sleep(20);
    c1.abort(reason);
    await assert.rejects(first, (e) => e === reason);
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    assert.equal(await withTimeout(second, 10_000), true);
    lock.release();
    await withTimeout(holder.join(), 10_000);
  } finally {
    holder.terminate();
  }
});
