import assert from "node:assert/strict";
import { Event } from "../../concurrency/event.ts";
import { Lock } from "../../concurrency/lock.ts";
import { revive, share } from "../../concurrency/share.ts";
import type { Thread } from "../../concurrency/thread.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn, terminateAll } from "./_sync_helpers.ts";

Deno.test("new Event() rejects another kind's block", () => {
  const lock = new Lock();
  assert.throws(() => new Event({ buffer: lock.buffer }), RangeError);
});

Deno.test("Event.set()/clear()/isSet() and wait() return at once when set", async () => {
  const e = new Event();
  assert.equal(e.isSet(), false);
  e.set();
  e.set();
  assert.equal(e.isSet(), true);
  assert.equal(await e.wait(), true);
  assert.equal(e.waitSync(), true);
  e.clear();
  assert.equal(e.isSet(), false);
  assert.equal(e.waitSync({ blocking: false }), false);
});

Deno.test("Event.wait() stays pending until set(), and clear() re-arms it", async () => {
  const e = new Event();
  const waiting = e.wait();
  const state = probe(waiting);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  e.set();
  assert.equal(await withTimeout(waiting, 5000), true);
  e.clear();
  const again = probe(e.wait({ timeout: 50 }));
  await flushMicrotasks();
  assert.equal(again.settled, false);
  await sleep(200);
  assert.equal(again.settled, true);
});

Deno.test("Event.wait({ timeout }) and waitSync({ timeout }) return false on time", async () => {
  const e = new Event();
  let start = performance.now();
  assert.equal(await e.wait({ timeout: 100 }), false);
  let took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  start = performance.now();
  assert.equal(e.waitSync({ timeout: 50 }), false);
  took = performance.now() - start;
  assert.ok(took >= 45 && took < 3000, `took ${took} ms`);
});

Deno.test("Event.wait() abort matrix", async () => {
  const e = new Event();
  const reason = new Error("stop");
  await assert.rejects(
    e.wait({ signal: AbortSignal.abort(reason) }),
    (x) => x === reason,
  );
  const c1 = new AbortController();
  const first = e.wait({ signal: c1.signal });
  const second = e.wait();
  c1.abort(reason);
  await assert.rejects(first, (x) => x === reason);
  e.set();
  assert.equal(await withTimeout(second, 5000), true);
  const c2 = new AbortController();
  assert.equal(await e.wait({ signal: c2.signal }), true); // immediate
  c2.abort();
});

Deno.test("Event.set() wakes many waiters on several threads and on main", async () => {
  const e = new Event();
  const woke = ints(1);
  const ready = ints(1);
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      threads.push(spawn("waitEvent", [e, woke, ready]));
    }
    const mainWaits = [e.wait(), e.wait(), e.wait()];
    await withTimeout(
      (async () => {
        while (Atomics.load(ready, 0) < 4) await sleep(5);
      })(),
      10_000,
    );
    await sleep(20);
    assert.equal(Atomics.load(woke, 0), 0);
    e.set();
    assert.deepEqual(await withTimeout(Promise.all(mainWaits), 5000), [
      true,
      true,
      true,
    ]);
    const results = await withTimeout(
      Promise.all(threads.map((t) => t.join())),
      10_000,
    );
    assert.deepEqual(results, [true, true, true, true]);
    assert.equal(Atomics.load(woke, 0), 4);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("Event survives share()/revive() as the same flag", () => {
  const e = new Event();
  const copy = revive<Event>(structuredClone(share(e)));
  copy.set();
  assert.equal(e.isSet(), true);
});
