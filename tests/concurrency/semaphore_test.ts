import assert from "node:assert/strict";
import { Event } from "../../concurrency/event.ts";
import { BoundedSemaphore, Semaphore } from "../../concurrency/semaphore.ts";
import { revive, share } from "../../concurrency/share.ts";
import type { Thread } from "../../concurrency/thread.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn, terminateAll } from "./_sync_helpers.ts";

// ---- construction ---------------------------------------------------------

Deno.test("new Semaphore() validates its value", () => {
  assert.equal(new Semaphore().value, 1);
  assert.equal(new Semaphore(0).value, 0);
  assert.throws(() => new Semaphore(-1), RangeError);
  assert.throws(() => new Semaphore(1.5), RangeError);
  assert.throws(() => new Semaphore("2" as unknown as number), TypeError);
});

// ---- happy path -----------------------------------------------------------

Deno.test("Semaphore.acquire() waits for release(n) and counts permits", async () => {
  const s = new Semaphore(0);
  const waits = [s.acquire(), s.acquire(), s.acquire()];
  const states = waits.map(probe);
  await flushMicrotasks();
  assert.ok(states.every((st) => !st.settled));
  s.release(2);
  await withTimeout(
    (async () => {
      while (states.filter((st) => st.settled).length < 2) await sleep(1);
    })(),
    5000,
    "two waiters to get a permit",
  );
  await flushMicrotasks();
  assert.equal(states.filter((st) => st.settled).length, 2);
  assert.equal(s.value, 0);
  s.release();
  assert.deepEqual(await withTimeout(Promise.all(waits), 5000), [
    true,
    true,
    true,
  ]);
  assert.equal(s.value, 0);
  assert.throws(() => s.release(0), RangeError);
});

Deno.test("Semaphore.acquire({ timeout }) and acquireSync({ timeout }) return false on time", async () => {
  const s = new Semaphore(0);
  let start = performance.now();
  assert.equal(await s.acquire({ timeout: 100 }), false);
  let took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  start = performance.now();
  assert.equal(s.acquireSync({ timeout: 50 }), false);
  took = performance.now() - start;
  assert.ok(took >= 45 && took < 3000, `took ${took} ms`);
  assert.equal(s.acquireSync({ blocking: false }), false);
  assert.equal(s.tryAcquire(), false);
});

Deno.test("Semaphore.guard() returns its permit at most once", async () => {
  const s = new Semaphore(1);
  const guard = await s.guard();
  assert.equal(s.value, 0);
  guard[Symbol.dispose]();
  guard[Symbol.dispose]();
  assert.equal(s.value, 1);
  {
    using _ = s.guardSync();
    assert.equal(s.value, 0);
  }
  assert.equal(s.value, 1);
});

Deno.test("BoundedSemaphore.release() past its initial value throws RangeError", () => {
  const s = new BoundedSemaphore(2);
  s.acquireSync();
  s.release();
  assert.throws(() => s.release(), {
    name: "RangeError",
    message:
      "Cannot release BoundedSemaphore: it would exceed its initial value 2",
  });
  assert.equal(s.value, 2);
  const zero = new BoundedSemaphore(0);
  assert.throws(() => zero.release(), RangeError);
  const plain = new Semaphore(2);
  plain.release(5); // an unbounded semaphore may grow
  assert.equal(plain.value, 7);
});

Deno.test("BoundedSemaphore stays bounded after share()/revive()", () => {
  const s = new BoundedSemaphore(1);
  const copy = revive<BoundedSemaphore>(structuredClone(share(s)));
  assert.ok(copy instanceof BoundedSemaphore);
  assert.throws(() => copy.release(), RangeError);
});

// ---- abort ----------------------------------------------------------------

Deno.test("Semaphore.acquire() abort matrix", async () => {
  const s = new Semaphore(1);
  const reason = new Error("stop");
  await assert.rejects(
    s.acquire({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(s.value, 1);
  const c0 = new AbortController();
  assert.equal(await s.acquire({ signal: c0.signal }), true); // immediate
  c0.abort();
  await flushMicrotasks();
  assert.equal(s.value, 0);
  const c1 = new AbortController();
  const first = s.acquire({ signal: c1.signal });
  const second = s.acquire();
  await sleep(20);
  c1.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  s.release();
  assert.equal(await withTimeout(second, 5000), true);
  assert.equal(s.value, 0);
  s.release();
  assert.equal(s.tryAcquire(), true);
});

// ---- across workers -------------------------------------------------------

Deno.test("Semaphore(5) over 16 threads: the highest concurrency is exactly 5", async () => {
  const s = new Semaphore(5);
  const stats = ints(2); // [inside now, max seen]
  const gate = new Event();
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 16; i++) {
      threads.push(spawn("holdPermit", [s, stats, 20, gate]));
    }
    await sleep(200);
    gate.set();
    await withTimeout(Promise.all(threads.map((t) => t.join())), 60_000);
    assert.equal(Atomics.load(stats, 1), 5);
    assert.equal(Atomics.load(stats, 0), 0);
    assert.equal(s.value, 5);
  } finally {
    terminateAll(threads);
  }
});
