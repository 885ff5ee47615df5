import assert from "node:assert/strict";
import { Barrier, BrokenBarrierError } from "../../concurrency/barrier.ts";
import { revive, share } from "../../concurrency/share.ts";
import type { Thread } from "../../concurrency/thread.ts";
import { flushMicrotasks, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn, terminateAll } from "./_sync_helpers.ts";

Deno.test("new Barrier() validates parties", () => {
  assert.equal(new Barrier(3).parties, 3);
  assert.throws(() => new Barrier(0), RangeError);
  assert.throws(() => new Barrier(1.5), RangeError);
  assert.throws(() => new Barrier(70_000), RangeError);
});

Deno.test("Barrier.wait() returns distinct arrival indexes and resets for the next round", async () => {
  const b = new Barrier(3);
  for (let round = 0; round < 3; round++) {
    const indexes = await withTimeout(
      Promise.all([b.wait(), b.wait(), b.wait()]),
      5000,
    );
    assert.deepEqual(indexes.sort(), [0, 1, 2]);
    assert.equal(b.nWaiting, 0);
  }
});

Deno.test("Barrier.abort() breaks every waiter and later arrivals", async () => {
  const b = new Barrier(3);
  const a = b.wait();
  const c = b.wait();
  await flushMicrotasks(); // arrival is synchronous
  assert.equal(b.nWaiting, 2);
  b.abort();
  await assert.rejects(a, BrokenBarrierError);
  await assert.rejects(c, BrokenBarrierError);
  assert.equal(b.broken, true);
  await assert.rejects(b.wait(), BrokenBarrierError);
  assert.throws(() => b.waitSync(), BrokenBarrierError);
  b.reset();
  assert.equal(b.broken, false);
  assert.deepEqual((await Promise.all([b.wait(), b.wait(), b.wait()])).sort(), [
    0,
    1,
    2,
  ]);
});

Deno.test("Barrier.reset() breaks the parties waiting now", async () => {
  const b = new Barrier(2);
  const waiting = b.wait();
  await flushMicrotasks(); // arrival is synchronous
  b.reset();
  await assert.rejects(waiting, {
    name: "BrokenBarrierError",
    message: /reset/,
  });
  assert.equal(b.broken, false);
  assert.equal(b.nWaiting, 0);
});

Deno.test("Barrier.wait({ timeout }) breaks the barrier on time", async () => {
  const b = new Barrier(2);
  const start = performance.now();
  await assert.rejects(b.wait({ timeout: 100 }), BrokenBarrierError);
  const took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  assert.equal(b.broken, true);
});

Deno.test("Barrier.wait() abort matrix", async () => {
  const reason = new Error("stop");
  const b = new Barrier(2);
  await assert.rejects(
    b.wait({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(b.nWaiting, 0); // never arrived
  const c1 = new AbortController();
  const first = b.wait({ signal: c1.signal });
  await flushMicrotasks(); // arrival is synchronous
  c1.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  assert.equal(b.broken, true); // as a timeout would, an abort breaks it
  b.reset();
  const c2 = new AbortController();
  const solo = new Barrier(1);
  assert.equal(await solo.wait({ signal: c2.signal }), 0); // immediate
  c2.abort();
});

Deno.test("Barrier(3) over 3 threads for 100 rounds, then abort() breaks waiters", async () => {
  const b = new Barrier(3);
  const marks = ints(3);
  const threads: Thread[] = [];
  try {
    for (let p = 0; p < 3; p++) {
      threads.push(spawn("barrierRounds", [b, marks, p, 100]));
    }
    const sums = await withTimeout(
      Promise.all(threads.map((t) => t.join())),
      60_000,
    ) as number[];
    // each round hands out 0, 1, 2 once: the index sums add up to 300
    assert.equal(sums.reduce((a, n) => a + n, 0), 300);
    const waiting = [spawn("barrierBroken", [b]), spawn("barrierBroken", [b])];
    threads.push(...waiting);
    await withTimeout(
      (async () => {
        while (b.nWaiting < 2) await sleep(5);
      })(),
      10_000,
    );
    b.abort();
    assert.deepEqual(
      await withTimeout(Promise.all(waiting.map((t) => t.join())), 10_000),
      ["BrokenBarrierError", "BrokenBarrierError"],
    );
  } finally {
    terminateAll(threads);
  }
});

Deno.test("Barrier survives share()/revive()", () => {
  const b = new Barrier(5);
  const copy = revive<Barrier>(structuredClone(share(b)));
  assert.equal(copy.parties, 5);
  copy.abort();
  assert.equal(b.broken, true);
});
