import assert from "node:assert/strict";
import { Event } from "../../concurrency/event.ts";
import { Lock } from "../../concurrency/lock.ts";
import { Semaphore } from "../../concurrency/semaphore.ts";
import { revive, share } from "../../concurrency/share.ts";
import type { Thread } from "../../concurrency/thread.ts";
import { TO_HANDLE } from "../../_internal/share.ts";
import { NEXT, WAITERS } from "../../concurrency/_sync_core.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { ints, sleep, spawn, terminateAll } from "./_sync_helpers.ts";

// ---- construction ---------------------------------------------------------

Deno.test("new Lock() starts unlocked and attaches to the same block", () => {
  const buffer = new SharedArrayBuffer(Lock.byteLength + 8);
  const a = new Lock({ buffer, byteOffset: 8 });
  const b = new Lock({ buffer, byteOffset: 8 });
  assert.equal(a.locked, false);
  assert.equal(a.tryAcquire(), true);
  assert.equal(b.locked, true);
  b.release();
  assert.equal(a.locked, false);
  assert.equal(a.buffer, buffer);
  assert.equal(a.byteOffset, 8);
});

Deno.test("new Lock() rejects a wrong buffer with RangeError", () => {
  const bad = [
    { buffer: new ArrayBuffer(1024) as unknown as SharedArrayBuffer },
    { buffer: new SharedArrayBuffer(1024), byteOffset: 2 },
    { buffer: new SharedArrayBuffer(16) },
  ];
  for (const location of bad) {
    assert.throws(() => new Lock(location), RangeError);
  }
  const sem = new Semaphore(1);
  assert.throws(
    () => new Lock({ buffer: sem.buffer, byteOffset: sem.byteOffset }),
    /another kind/,
  );
});

// ---- happy path -----------------------------------------------------------

Deno.test("Lock.tryAcquire() and release() follow Python's rules", () => {
  const lock = new Lock();
  assert.equal(lock.tryAcquire(), true);
  assert.equal(lock.tryAcquire(), false);
  lock.release();
  assert.throws(() => lock.release(), {
    name: "TypeError",
    message: "Cannot release lock: it is not held",
  });
});

Deno.test("Lock.acquireSync() honours blocking: false and timeout", () => {
  const lock = new Lock();
  assert.equal(lock.acquireSync(), true);
  assert.equal(lock.acquireSync({ blocking: false }), false);
  const start = performance.now();
  assert.equal(lock.acquireSync({ timeout: 50 }), false);
  const took = performance.now() - start;
  assert.ok(took >= 45 && took < 3000, `took ${took} ms`);
  assert.throws(() => lock.acquireSync({ timeout: -1 }), RangeError);
  lock.release();
});

Deno.test("Lock.acquire({ timeout }) resolves false on time", async () => {
  const lock = new Lock();
  await lock.acquire();
  const start = performance.now();
  assert.equal(await lock.acquire({ timeout: 100 }), false);
  const took = performance.now() - start;
  assert.ok(took >= 90 && took < 3000, `took ${took} ms`);
  assert.equal(await lock.acquire({ timeout: 0 }), false);
  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() waits until release and then resolves true", async () => {
  const lock = new Lock();
  await lock.acquire();
  const waiting = lock.acquire();
  const state = probe(waiting);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  lock.release();
  assert.equal(await withTimeout(waiting, 5000), true);
  lock.release();
});

Deno.test("Lock.guard() releases on exit, on throw, and at most once", async () => {
  const lock = new Lock();
  {
    using _ = await lock.guard();
    assert.equal(lock.locked, true);
  }
  assert.equal(lock.locked, false);
  await assert.rejects(async () => {
    using _ = await lock.guard();
    throw new Error("boom");
  }, /boom/);
  assert.equal(lock.locked, false);
  const guard = lock.guardSync();
  guard[Symbol.dispose]();
  lock.acquireSync(); // someone else's hold
  guard[Symbol.dispose](); // must not release it
  assert.equal(lock.locked, true);
  await assert.rejects(lock.guard({ timeout: 10 }), { name: "TimeoutError" });
  assert.throws(() => lock.guardSync({ timeout: 10 }), {
    name: "TimeoutError",
  });
  lock.release();
});

Deno.test("Lock waiters queued for a while are served in FIFO order", async () => {
  const lock = new Lock();
  const words = new Int32Array(lock.buffer, lock.byteOffset, 6);
  lock.acquireSync();
  const order: string[] = [];
  const waits: Promise<void>[] = [];
  for (const name of ["a", "b", "c", "d"]) {
    const ticketsBefore = Atomics.load(words, NEXT);
    waits.push(
      lock.acquire().then(() => {
        order.push(name);
        lock.release();
      }),
    );
    // wait until this waiter has joined the queue (white-box: NEXT word)
    await withTimeout(
      (async () => {
        while (Atomics.load(words, NEXT) === ticketsBefore) await sleep(2);
      })(),
      5000,
      "waiter to queue",
    );
  }
  lock.release();
  await withTimeout(Promise.all(waits), 5000);
  assert.deepEqual(order, ["a", "b", "c", "d"]);
});

// ---- sharing --------------------------------------------------------------

Deno.test("Lock survives share()/revive() as the same lock", () => {
  const lock = new Lock();
  const copy = revive<{ l: Lock }>(structuredClone(share({ l: lock }))).l;
  assert.ok(copy instanceof Lock);
  assert.equal(copy.tryAcquire(), true);
  assert.equal(lock.locked, true);
  lock.release();
  assert.throws(() => lock[TO_HANDLE]("process"), TypeError);
});

// ---- abort ----------------------------------------------------------------

Deno.test("Lock.acquire() with an already aborted signal rejects with its reason", async () => {
  const lock = new Lock();
  const reason = new Error("stop");
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() aborted while waiting rejects and the next waiter proceeds", async () => {
  const lock = new Lock();
  lock.acquireSync();
  const controller = new AbortController();
  const first = lock.acquire({ signal: controller.signal });
  const second = lock.acquire();
  // both are waiting now (white-box: the WAITERS word)
  const words = new Int32Array(lock.buffer, lock.byteOffset, WAITERS + 1);
  await withTimeout(
    (async () => {
      while (Atomics.load(words, WAITERS) < 2) await sleep(1);
    })(),
    5000,
    "both to wait",
  );
  controller.abort(new Error("gone"));
  await assert.rejects(first, /gone/);
  lock.release();
  assert.equal(await withTimeout(second, 5000), true);
  assert.equal(lock.locked, true);
  lock.release();
  assert.equal(lock.tryAcquire(), true); // the aborted ticket left no trace
  lock.release();
});

Deno.test("Lock.acquire() ignores an abort after it resolved", async () => {
  const lock = new Lock();
  const controller = new AbortController();
  assert.equal(await lock.acquire({ signal: controller.signal }), true);
  controller.abort();
  await flushMicrotasks();
  assert.equal(lock.locked, true);
  lock.release();
});

// ---- across workers -------------------------------------------------------

Deno.test("Lock keeps 4 workers x 100 000 increments exact while main increments too", async () => {
  const lock = new Lock();
  const counter = ints(1);
  const gate = new Event();
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      threads.push(spawn("increment", [lock, counter, 100_000, gate]));
    }
    gate.set();
    let mine = 0;
    const joined = Promise.all(threads.map((t) => t.join()));
    let done = false;
    joined.finally(() => done = true);
    while (!done || mine < 1000) {
      using _ = await lock.guard();
      counter[0] = counter[0] + 1;
      mine++;
      if (mine % 50 === 0) await sleep(0);
      if (mine > 1_000_000) break;
    }
    await withTimeout(joined, 30_000, "workers");
    assert.equal(counter[0], 400_000 + mine);
  } finally {
    terminateAll(threads);
  }
});

Deno.test({
  name:
    "without the Lock the same increments lose updates (needs 2 cores: it races the CPU, not weft)",
  ignore: (navigator.hardwareConcurrency ?? 1) < 2,
}, async () => {
  let lost = false;
  for (let attempt = 0; attempt < 5 && !lost; attempt++) {
    const counter = ints(1);
    const gate = new Event();
    const threads: Thread[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        threads.push(spawn("increment", [null, counter, 100_000, gate, 20]));
      }
      await sleep(100); // let the workers reach the gate
      gate.set();
      await withTimeout(Promise.all(threads.map((t) => t.join())), 30_000);
      lost = counter[0] < 400_000;
    } finally {
      terminateAll(threads);
    }
  }
  assert.ok(lost, "unsynchronized increments never raced in 5 runs");
});

Deno.test("Lock.acquire() on main is not starved by 2 workers hammering acquireSync", async () => {
  const lock = new Lock();
  const stop = ints(1);
  const counts = ints(2);
  const threads = [
    spawn("hammer", [lock, stop, counts, 0]),
    spawn("hammer", [lock, stop, counts, 1]),
  ];
  try {
    await withTimeout(
      (async () => {
        while (Atomics.load(counts, 0) === 0 || Atomics.load(counts, 1) === 0) {
          await sleep(5);
        }
      })(),
      20_000,
      "both workers hammering",
    );
    for (let i = 0; i < 50; i++) {
      assert.equal(
        await withTimeout(lock.acquire(), 10_000, "main acquire"),
        true,
      );
      lock.release();
    }
    Atomics.store(stop, 0, 1);
    const totals = await withTimeout(
      Promise.all(threads.map((t) => t.join())),
      10_000,
    ) as number[];
    assert.ok(totals.every((n) => n >= 1024), `worker totals ${totals}`);
  } finally {
    Atomics.store(stop, 0, 1);
    terminateAll(threads);
  }
});

Deno.test("the main event loop keeps ticking while Lock.acquire() waits for a worker", async () => {
  const lock = new Lock();
  const held = ints(1);
  const release = ints(1);
  const thread = spawn("holdUntil", [lock, held, release]);
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  try {
    await withTimeout(
      (async () => {
        while (Atomics.load(held, 0) === 0) await sleep(5);
      })(),
      10_000,
      "worker to hold the lock",
    );
    const acquired = lock.acquire();
    const state = probe(acquired);
    const before = ticks;
    await sleep(100);
    assert.equal(state.settled, false);
    assert.ok(ticks - before >= 5, `only ${ticks - before} ticks`);
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    assert.equal(await withTimeout(acquired, 10_000), true);
    lock.release();
    assert.equal(await withTimeout(thread.join(), 10_000), true);
  } finally {
    clearInterval(interval);
    thread.terminate();
  }
});

Deno.test("Lock and Event posted to a plain Worker with share() arrive live", async () => {
  const lock = new Lock();
  const ready = new Event();
  const counter = ints(2);
  const worker = new Worker(
    new URL("./_tasks/sync_plain_worker.ts", import.meta.url),
    { type: "module" },
  );
  try {
    const reply = new Promise<{ ident: number }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
    worker.postMessage(share({ lock, ready, counter }));
    assert.equal(await withTimeout(ready.wait(), 10_000, "worker"), true);
    assert.equal(lock.locked, true); // held by the worker, same memory
    assert.equal(counter[0], 1);
    const waiting = lock.acquire();
    Atomics.store(counter, 1, 1);
    Atomics.notify(counter, 1);
    assert.equal(await withTimeout(waiting, 10_000), true);
    const { ident } = await withTimeout(reply, 10_000);
    assert.ok(ident > 1); // the plain worker registered its own thread id
    lock.release();
  } finally {
    worker.terminate();
  }
});
