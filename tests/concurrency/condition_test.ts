import assert from "node:assert/strict";
import { Condition } from "../../concurrency/condition.ts";
import { Lock } from "../../concurrency/lock.ts";
import { RLock } from "../../concurrency/rlock.ts";
import { revive, share } from "../../concurrency/share.ts";
import type { Thread } from "../../concurrency/thread.ts";
import { flushMicrotasks, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn, terminateAll } from "./_sync_helpers.ts";

Deno.test("new Condition() defaults to an RLock and rejects other locks", () => {
  assert.ok(new Condition().lock instanceof RLock);
  const lock = new Lock();
  assert.equal(new Condition(lock).lock, lock);
  assert.throws(() => new Condition({} as Lock), TypeError);
});

Deno.test("Condition.wait()/notify() without holding the lock throw TypeError", async () => {
  const cond = new Condition();
  await assert.rejects(cond.wait(), {
    name: "TypeError",
    message: "Cannot wait on condition: its lock is not held by this thread",
  });
  assert.throws(() => cond.notify(), TypeError);
  assert.throws(() => cond.notifyAll(), TypeError);
  assert.throws(() => cond.waitSync(), TypeError);
});

Deno.test("Condition.wait() releases every RLock level and restores them", async () => {
  const cond = new Condition();
  await cond.acquire();
  await cond.acquire();
  const waiting = cond.wait();
  await flushMicrotasks();
  assert.equal(cond.lock.locked, false); // fully released while waiting
  {
    using _ = await cond.guard();
    cond.notify();
  }
  assert.equal(await withTimeout(waiting, 5000), true);
  assert.equal((cond.lock as RLock).owned, true);
  cond.release();
  assert.equal(cond.lock.locked, true); // second level still held
  cond.release();
  assert.equal(cond.lock.locked, false);
});

Deno.test("Condition.notify(1) wakes one waiter, notifyAll() the rest", async () => {
  const cond = new Condition(new Lock());
  const woken: number[] = [];
  const waiters = [1, 2, 3].map(async (id) => {
    using _ = await cond.guard();
    await cond.wait();
    woken.push(id);
  });
  // White-box: the condition's WAITERS word (2) counts the sleepers.
  const words = new Int32Array(
    (share(cond) as { buffer: SharedArrayBuffer }).buffer,
    (share(cond) as { byteOffset: number }).byteOffset,
    3,
  );
  await withTimeout(
    (async () => {
      while (Atomics.load(words, 2) < 3) await sleep(1);
    })(),
    5000,
    "all three to wait",
  );
  {
    using _ = await cond.guard();
    cond.notify(1);
  }
  await withTimeout(
    (async () => {
      while (woken.length < 1) await sleep(1);
    })(),
    5000,
    "one waiter to wake",
  );
  await flushMicrotasks();
  assert.equal(woken.length, 1);
  assert.equal(Atomics.load(words, 2), 2); // the other two still sleep
  {
    using _ = await cond.guard();
    cond.notifyAll();
  }
  await withTimeout(Promise.all(waiters), 5000);
  assert.deepEqual(woken.sort(), [1, 2, 3]);
});

Deno.test("Condition.wait({ timeout }) and waitFor() time out on time", async () => {
  const cond = new Condition();
  using _ = await cond.guard();
  let start = performance.now();
  assert.equal(await cond.wait({ timeout: 100 }), false);
  let took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  start = performance.now();
  assert.equal(await cond.waitFor(() => 0, { timeout: 100 }), 0);
  took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  assert.equal(cond.waitSync({ timeout: 20 }), false);
  assert.equal((cond.lock as RLock).owned, true);
});

Deno.test("Condition.wait() abort matrix", async () => {
  // A Lock, not the default RLock: RLock ownership is per thread, so it
  // cannot exclude two async tasks of the same thread from each other.
  const cond = new Condition(new Lock());
  const reason = new Error("stop");
  await cond.acquire();
  await assert.rejects(
    cond.wait({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(cond.lock.locked, true);
  cond.release();
  const c1 = new AbortController();
  const first = (async () => {
    using _ = await cond.guard();
    await cond.wait({ signal: c1.signal });
  })();
  const second = (async () => {
    using _ = await cond.guard();
    return await cond.waitFor(() => flag, { timeout: 5000 });
  })();
  let flag = false;
  await sleep(20);
  c1.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  {
    using _ = await cond.guard();
    flag = true;
    cond.notify();
  }
  assert.equal(await withTimeout(second, 5000), true);
  // ignored when immediate: waitFor with a true predicate never waits
  await cond.acquire();
  const c2 = new AbortController();
  assert.equal(await cond.waitFor(() => true, { signal: c2.signal }), true);
  c2.abort();
  cond.release();
});

Deno.test("Condition producer/consumer across threads: nothing lost or duplicated", async () => {
  const cond = new Condition();
  const cap = 4;
  const ring = ints(4 + cap);
  ring[3] = cap;
  const perProducer = 500;
  const producers = 2;
  const total = perProducer * producers;
  const seen = ints(total);
  const threads: Thread[] = [];
  try {
    for (let p = 0; p < producers; p++) {
      threads.push(
        spawn("produce", [cond, ring, p * perProducer, perProducer]),
      );
    }
    threads.push(spawn("consume", [cond, ring, seen, total / 2]));
    threads.push(spawn("consume", [cond, ring, seen, total / 2]));
    await withTimeout(Promise.all(threads.map((t) => t.join())), 60_000);
    for (let i = 0; i < total; i++) assert.equal(seen[i], 1, `item ${i}`);
    assert.equal(ring[2], 0);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("Condition survives share()/revive() with its lock", () => {
  const cond = new Condition(new Lock());
  const copy = revive<Condition>(structuredClone(share(cond)));
  assert.ok(copy.lock instanceof Lock);
  cond.acquireSync();
  assert.equal(copy.lock.locked, true);
  copy.release();
  assert.equal(cond.lock.locked, false);
});
