import assert from "node:assert/strict";
import {
  Queue,
  QueueClosed,
  QueueEmpty,
  QueueFull,
  Thread,
} from "../../concurrency/mod.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { startQueueWorker } from "./_tasks/queue_helpers.ts";

// ---- construction ---------------------------------------------------------

Deno.test("new Queue() is empty and unbounded", () => {
  const q = new Queue();
  assert.equal(q.qsize(), 0);
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
  assert.equal(q.maxsize, 0);
  assert.equal(q.closed, false);
});

Deno.test("new Queue() rejects bad options with TypeError/RangeError naming the field", () => {
  assert.throws(
    () => new Queue({ maxsize: 1.5 }),
    (e: Error) => e instanceof TypeError && /"maxsize"/.test(e.message),
  );
  assert.throws(
    () => new Queue({ maxsize: -1 }),
    (e: Error) => e instanceof RangeError && /"maxsize"/.test(e.message),
  );
  assert.throws(() => new Queue({ bufferSize: 0 }), RangeError);
  assert.throws(
    () => new Queue({ bufferSize: 100, maxBufferSize: 10 }),
    RangeError,
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Queue("x" as any), TypeError);
});

// ---- happy path -----------------------------------------------------------

Deno.test("Queue.getNowait() returns items in FIFO order", () => {
  const q = new Queue<number>();
  for (let i = 0; i < 200; i++) q.putNowait(i);
  assert.equal(q.qsize(), 200);
  for (let i = 0; i < 200; i++) assert.equal(q.getNowait(), i);
  assert.equal(q.empty(), true);
});

Deno.test("Queue round-trips every kind of structured-cloneable value", () => {
  const q = new Queue<unknown>();
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const values: unknown[] = [
    undefined,
    null,
    true,
    false,
    0,
    -0,
    NaN,
    Infinity,
    3.25,
    "",
    "héllo wörld ✓",
    "x".repeat(100_000),
    12345678901234567890n,
    new Uint8Array([1, 2, 3]),
    new Float64Array([1.5, -2]),
    { a: 1, b: "x", c: [1, null, { d: true }] },
    [1, , 3],
    { u: undefined },
    new Map<unknown, unknown>([[1, "a"], ["k", { z: 1 }]]),
    new Set([1, "two"]),
    new Date(1_700_000_000_000),
    /re+gex/gi,
    { big: 1n },
    [new Date(0)],
    new Error("boom"),
  ];
  for (const v of values) q.putNowait(v);
  for (const v of values) assert.deepEqual(q.getNowait(), v);
  q.putNowait(cyclic);
  const back = q.getNowait() as Record<string, unknown>;
  assert.equal(back.self, back);
});

Deno.test("Queue round-trips text exactly: ASCII, multi-byte, emoji, lone surrogates, long", () => {
  const q = new Queue<unknown>();
  const texts = [
    "plain",
    "ünïcödé ✓ 中文 😀👍🏽",
    "\ud800 lone high",
    "lone low \udc00",
    "é".repeat(300),
    "😀".repeat(200),
    "a".repeat(255) + "é",
    "x".repeat(20_000) + "€",
  ];
  for (const t of texts) q.putNowait(t);
  q.putNowait({ nested: texts });
  for (const t of texts) assert.equal(q.getNowait(), t);
  assert.deepEqual(q.getNowait(), { nested: texts });
});

Deno.test("Queue.put() of an item larger than the buffer grows it and passes", async () => {
  const q = new Queue<string>({ bufferSize: 1024 });
  const big = "y".repeat(3_000_000);
  q.putNowait("small");
  await q.put(big);
  assert.equal(q.getNowait(), "small");
  assert.equal(q.getNowait(), big);
});

Deno.test("Queue.put() of an item over maxBufferSize throws RangeError and stores nothing", async () => {
  const q = new Queue<Uint8Array>({ bufferSize: 64, maxBufferSize: 1024 });
  await assert.rejects(
    q.put(new Uint8Array(2000)),
    (e: Error) => e instanceof RangeError && /maxBufferSize/.test(e.message),
  );
  assert.throws(() => q.putNowait(new Uint8Array(2000)), RangeError);
  assert.equal(q.qsize(), 0);
  q.putNowait(new Uint8Array(1000));
  assert.equal(q.getNowait().length, 1000);
});

Deno.test("Queue keeps items intact through buffer compaction and slot growth", () => {
  const q = new Queue<string>({ bufferSize: 256, maxBufferSize: 256 });
  const expected: string[] = [];
  let n = 0;
  for (let round = 0; round < 2000; round++) {
    // Keep 1..3 items queued so the arena wraps and compacts.
    while (expected.length < 1 + (round % 3)) {
      const item = `${n++}:` + "z".repeat(n % 37);
      try {
        q.putNowait(item);
        expected.push(item);
      } catch (error) {
        assert.ok(error instanceof QueueFull);
        break;
      }
    }
    assert.equal(q.getNowait(), expected.shift());
  }
  const unbounded = new Queue<number>();
  for (let i = 0; i < 1000; i++) unbounded.putNowait(i);
  for (let i = 0; i < 1000; i++) assert.equal(unbounded.getNowait(), i);
});

Deno.test("Queue slot ring unwraps correctly when it grows while wrapped", () => {
  const q = new Queue<number>();
  let next = 0;
  let expect = 0;
  for (let i = 0; i < 50; i++) q.putNowait(next++);
  for (let i = 0; i < 40; i++) assert.equal(q.getNowait(), expect++);
  for (let i = 0; i < 300; i++) q.putNowait(next++); // wraps, then grows
  while (!q.empty()) assert.equal(q.getNowait(), expect++);
  assert.equal(expect, next);
});

// ---- backpressure and timeouts -------------------------------------------

Deno.test("Queue.getNowait() on an empty queue throws QueueEmpty", () => {
  const q = new Queue();
  assert.throws(() => q.getNowait(), QueueEmpty);
  assert.throws(() => q.getSync({ blocking: false }), QueueEmpty);
});

Deno.test("Queue.putNowait() on a full queue throws QueueFull", () => {
  const q = new Queue<number>({ maxsize: 2 });
  q.putNowait(1);
  q.putNowait(2);
  assert.equal(q.full(), true);
  assert.throws(() => q.putNowait(3), QueueFull);
  assert.throws(() => q.putSync(3, { blocking: false }), QueueFull);
});

Deno.test("Queue.put() waits while full and resolves after a get", async () => {
  const q = new Queue<number>({ maxsize: 1 });
  await q.put(1);
  const pending = q.put(2);
  const state = probe(pending);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  assert.equal(q.getNowait(), 1);
  await withTimeout(pending, 5000, "put after get");
  assert.equal(q.getNowait(), 2);
});

Deno.test("Queue.get() waits while empty and resolves after a put", async () => {
  const q = new Queue<string>();
  const pending = q.get();
  const state = probe(pending);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  q.putNowait("hi");
  assert.equal(await withTimeout(pending, 5000, "get after put"), "hi");
});

Deno.test("Queue.get({ timeout: 100 }) rejects QueueEmpty within [90 ms, 3000 ms]", async () => {
  const q = new Queue();
  const t0 = performance.now();
  await assert.rejects(
    withTimeout(q.get({ timeout: 100 }), 10_000),
    QueueEmpty,
  );
  const dt = performance.now() - t0;
  assert.ok(dt >= 90 && dt < 3000, `took ${dt} ms`);
});

Deno.test("Queue.put({ timeout: 100 }) on a full queue rejects QueueFull within [90 ms, 3000 ms]", async () => {
  const q = new Queue<number>({ maxsize: 1 });
  q.putNowait(0);
  const t0 = performance.now();
  await assert.rejects(
    withTimeout(q.put(1, { timeout: 100 }), 10_000),
    QueueFull,
  );
  const dt = performance.now() - t0;
  assert.ok(dt >= 90 && dt < 3000, `took ${dt} ms`);
  assert.equal(q.qsize(), 1);
});

Deno.test("Queue.getSync({ timeout: 100 }) throws QueueEmpty within [90 ms, 3000 ms]", () => {
  const q = new Queue();
  const t0 = performance.now();
  assert.throws(() => q.getSync({ timeout: 100 }), QueueEmpty);
  const dt = performance.now() - t0;
  assert.ok(dt >= 90 && dt < 3000, `took ${dt} ms`);
});

Deno.test("Queue.get({ timeout: 0 }) returns a queued item at once", async () => {
  const q = new Queue<number>();
  q.putNowait(5);
  assert.equal(await q.get({ timeout: 0 }), 5);
  await assert.rejects(q.get({ timeout: 0 }), QueueEmpty);
  await assert.rejects(q.get({ timeout: -1 }), RangeError);
});

// ---- joinable ---------------------------------------------------------------

Deno.test("Queue.taskDone() called too many times throws RangeError", () => {
  const q = new Queue<number>();
  assert.throws(() => q.taskDone(), RangeError);
  q.putNowait(1);
  q.getNowait();
  q.taskDone();
  assert.throws(
    () => q.taskDone(),
    (e: Error) => e instanceof RangeError && /taskDone/.test(e.message),
  );
});

Deno.test("Queue.join() waits for every taskDone()", async () => {
  const q = new Queue<number>();
  assert.equal(await q.join(), true);
  q.putNowait(1);
  q.putNowait(2);
  const joined = q.join();
  const state = probe(joined);
  q.getNowait();
  q.taskDone();
  await flushMicrotasks();
  assert.equal(state.settled, false);
  assert.equal(q.unfinishedTasks, 1);
  q.getNowait();
  q.taskDone();
  assert.equal(await withTimeout(joined, 5000, "join"), true);
  q.putNowait(3);
  assert.equal(await q.join({ timeout: 20 }), false);
  assert.equal(q.joinSync({ timeout: 0 }), false);
});

Deno.test("Queue joinable tutorial: a daemon eater worker, the cook joins", async () => {
  const q = new Queue<string>();
  const eater = startQueueWorker({ op: "eat", queue: q });
  try {
    for (let i = 0; i < 10; i++) await q.put(`dish ${i}`);
    assert.equal(await withTimeout(q.join(), 20_000, "join"), true);
    assert.equal(q.unfinishedTasks, 0);
    // Every dish was eaten, in order (messages may still be in flight).
    await withTimeout(
      (async () => {
        while (eater.messages.length < 10) {
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
      10_000,
      "eater reports",
    );
    assert.deepEqual(
      eater.messages,
      Array.from({ length: 10 }, (_, i) => `dish ${i}`),
    );
  } finally {
    q.close();
    eater.worker.terminate();
  }
});

// ---- close -------------------------------------------------------------------

Deno.test("Queue.close() wakes a waiting get() and put() with QueueClosed", async () => {
  const q = new Queue<number>({ maxsize: 1 });
  const getter = q.get();
  await flushMicrotasks();
  q.putNowait(1); // the getter takes it
  assert.equal(await getter, 1);
  q.putNowait(2);
  const putter = q.put(3);
  const empty = new Queue<number>();
  const waiting = empty.get();
  q.close();
  empty.close();
  assert.equal(q.closed, true);
  await assert.rejects(withTimeout(putter, 5000), QueueClosed);
  await assert.rejects(withTimeout(waiting, 5000), QueueClosed);
  q.close(); // idempotent
});

Deno.test("Queue after close(): puts throw, gets drain then throw, join throws", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  q.putNowait(2);
  q.close();
  assert.throws(() => q.putNowait(3), QueueClosed);
  await assert.rejects(q.put(3), QueueClosed);
  assert.equal(q.getNowait(), 1);
  assert.equal(await q.get(), 2);
  assert.throws(() => q.getNowait(), QueueClosed);
  assert.throws(() => q.getSync(), QueueClosed);
  await assert.rejects(q.join(), QueueClosed);
});

Deno.test("Queue async iteration ends when closed and drained, marking items done", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  q.putNowait(2);
  q.close();
  const seen: number[] = [];
  for await (const n of q) seen.push(n);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(q.unfinishedTasks, 0);
});

Deno.test("Queue [Symbol.dispose] closes the queue", () => {
  let outer: Queue<number>;
  {
    using q = new Queue<number>();
    outer = q;
  }
  assert.equal(outer.closed, true);
});

// ---- abort -------------------------------------------------------------------

Deno.test("Queue.get({ signal }) already aborted rejects with the reason", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  const reason = new Error("stop");
  await assert.rejects(
    q.get({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await assert.rejects(
    q.put(2, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(q.qsize(), 1);
});

Deno.test("Queue.get({ signal }) aborted while waiting rejects, later puts still work", async () => {
  const q = new Queue<number>();
  const controller = new AbortController();
  const pending = q.get({ signal: controller.signal });
  await flushMicrotasks();
  controller.abort(new Error("cancelled"));
  await assert.rejects(withTimeout(pending, 5000), /cancelled/);
  q.putNowait(7);
  assert.equal(q.getNowait(), 7);
});

Deno.test("Queue.put({ signal }) aborted while full rejects and stores nothing", async () => {
  const q = new Queue<number>({ maxsize: 1 });
  q.putNowait(1);
  const controller = new AbortController();
  const pending = q.put(2, { signal: controller.signal });
  await flushMicrotasks();
  controller.abort(new Error("cancelled"));
  await assert.rejects(withTimeout(pending, 5000), /cancelled/);
  assert.equal(q.getNowait(), 1);
  assert.equal(q.qsize(), 0);
});

Deno.test("Queue.get({ signal }) is unaffected by an abort after it resolved at once", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  const controller = new AbortController();
  const value = await q.get({ signal: controller.signal });
  controller.abort();
  assert.equal(value, 1);
});

Deno.test("Queue.get(): an aborted waiter is removed so the next waiter gets the item", async () => {
  const q = new Queue<string>();
  const controller = new AbortController();
  const first = q.get({ signal: controller.signal });
  const second = q.get();
  await flushMicrotasks();
  controller.abort(new Error("first gone"));
  await assert.rejects(first, /first gone/);
  q.putNowait("item");
  assert.equal(await withTimeout(second, 5000, "second getter"), "item");
});

// ---- across workers ---------------------------------------------------------

Deno.test("Queue across 2 producer and 2 consumer workers: 10^5 items, each consumed once, maxsize 10 respected", async () => {
  const N = 100_000;
  const q = new Queue<number>({ maxsize: 10 });
  const producers = [0, 1].map((p) =>
    startQueueWorker({
      op: "produce",
      queue: q,
      start: p * (N / 2),
      count: N / 2,
    })
  );
  const consumers = [0, 1].map(() =>
    startQueueWorker({ op: "consume", queue: q })
  );
  let maxSampled = 0;
  const sampler = setInterval(() => {
    maxSampled = Math.max(maxSampled, q.qsize());
  }, 1);
  try {
    const produced = await withTimeout(
      Promise.all(producers.map((p) => p.reply)),
      60_000,
      "producers",
    );
    for (const r of produced) {
      assert.ok((r.maxSeen as number) <= 10, `producer saw ${r.maxSeen}`);
    }
    q.close(); // consumers drain what is left, then stop
    const consumed = await withTimeout(
      Promise.all(consumers.map((c) => c.reply)),
      60_000,
      "consumers",
    );
    const seen = new Uint8Array(N);
    let total = 0;
    for (const r of consumed) {
      for (const n of r.got as number[]) {
        assert.equal(seen[n], 0, `item ${n} consumed twice`);
        seen[n] = 1;
        total++;
      }
    }
    assert.equal(total, N);
    assert.ok(maxSampled <= 10, `sampled ${maxSampled}`);
  } finally {
    clearInterval(sampler);
    q.close();
    for (const w of [...producers, ...consumers]) w.worker.terminate();
  }
});

Deno.test("Queue across workers with variable-size items in a small fixed buffer: compaction keeps every item intact", async () => {
  const N = 20_000;
  const q = new Queue<string>({ bufferSize: 4096, maxBufferSize: 4096 });
  const producers = [0, 1].map((p) =>
    startQueueWorker({
      op: "produce",
      queue: q,
      start: p * (N / 2),
      count: N / 2,
      pad: 300,
    })
  );
  const consumers = [0, 1].map(() =>
    startQueueWorker({ op: "consume", queue: q, pad: 300 })
  );
  try {
    await withTimeout(
      Promise.all(producers.map((p) => p.reply)),
      60_000,
      "producers",
    );
    q.close();
    const consumed = await withTimeout(
      Promise.all(consumers.map((c) => c.reply)),
      60_000,
      "consumers",
    );
    const seen = new Uint8Array(N);
    for (const r of consumed) {
      for (const n of r.got as number[]) {
        assert.equal(seen[n], 0, `item ${n} consumed twice`);
        seen[n] = 1;
      }
    }
    assert.equal(seen.reduce((a, b) => a + b, 0), N);
  } finally {
    q.close();
    for (const w of [...producers, ...consumers]) w.worker.terminate();
  }
});

Deno.test("Queue: async getters on the main thread and a blocking consumer worker share one producer worker's items", async () => {
  const N = 5000;
  const q = new Queue<number>({ maxsize: 8 });
  const producer = startQueueWorker({
    op: "produce",
    queue: q,
    start: 0,
    count: N,
  });
  const consumer = startQueueWorker({ op: "consume", queue: q });
  const mine: number[] = [];
  try {
    const local = (async () => {
      for (;;) {
        try {
          mine.push(await q.get());
        } catch (error) {
          if (error instanceof QueueClosed) return;
          throw error;
        }
      }
    })();
    await withTimeout(producer.reply, 60_000, "producer");
    q.close();
    const theirs = (await withTimeout(consumer.reply, 60_000, "consumer"))
      .got as number[];
    await withTimeout(local, 10_000, "local getter");
    const all = [...mine, ...theirs].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: N }, (_, i) => i));
  } finally {
    q.close();
    producer.worker.terminate();
    consumer.worker.terminate();
  }
});

Deno.test("Queue shared with a worker sees items larger than the buffer it first saw (growth across threads)", async () => {
  const q = new Queue<string>({ bufferSize: 128 });
  const reader = startQueueWorker({ op: "getN", queue: q, count: 3 });
  try {
    const items = ["a", "b".repeat(50_000), "c".repeat(1_000_000)];
    for (const item of items) await q.put(item);
    const reply = await withTimeout(reader.reply, 20_000, "reader");
    assert.deepEqual(reply.got, items);
  } finally {
    q.close();
    reader.worker.terminate();
  }
});

Deno.test("Queue passed as a Thread argument works in the thread (both directions, join)", async () => {
  const inbox = new Queue<number>({ maxsize: 4 });
  const outbox = new Queue<number>();
  const thread = new Thread({
    module: new URL("./_tasks/queue_thread.ts", import.meta.url),
    fn: "doubler",
    args: [inbox, outbox, 50],
  });
  thread.start();
  try {
    for (let i = 0; i < 50; i++) await withTimeout(inbox.put(i), 10_000, "put");
    assert.equal(await withTimeout(inbox.join(), 10_000, "join"), true);
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      got.push(await withTimeout(outbox.get(), 10_000, "get"));
    }
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i * 2));
    assert.equal(
      await withTimeout(thread.join(), 10_000, "thread"),
      (49 * 50) / 2,
    );
  } finally {
    thread.terminate();
    inbox.close();
    outbox.close();
  }
});

Deno.test("Queue.join({ signal }): already aborted rejects; aborted while waiting rejects", async () => {
  const q = new Queue<number>();
  q.putNowait(1);
  const reason = new Error("gave up");
  await assert.rejects(
    q.join({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  const controller = new AbortController();
  const waiting = q.join({ signal: controller.signal });
  await flushMicrotasks();
  controller.abort(reason);
  await assert.rejects(withTimeout(waiting, 5000), (e) => e === reason);
  q.getNowait();
  q.taskDone();
  assert.equal(
    await q.join({ signal: controller.signal }).catch((e) => e),
    reason,
  );
  assert.equal(await q.join(), true);
});
