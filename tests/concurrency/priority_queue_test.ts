import assert from "node:assert/strict";
import {
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  revive,
  share,
} from "../../concurrency/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { startQueueWorker } from "./_tasks/queue_helpers.ts";

Deno.test("PriorityQueue returns the lowest priority first, FIFO among equals", () => {
  const q = new PriorityQueue<[number, string]>();
  q.putNowait([3, "c"]);
  q.putNowait([1, "a1"]);
  q.putNowait([2, "b"]);
  q.putNowait([1, "a2"]);
  q.putNowait([-5, "neg"]);
  q.putNowait([1, "a3"]);
  const got = [];
  while (!q.empty()) got.push(q.getNowait()[1]);
  assert.deepEqual(got, ["neg", "a1", "a2", "a3", "b", "c"]);
  assert.throws(() => q.getNowait(), QueueEmpty);
});

Deno.test("PriorityQueue accepts bare numbers and bigint priorities", () => {
  const q = new PriorityQueue<number | [bigint, string]>();
  q.putNowait(5);
  q.putNowait([2n, "two"]);
  q.putNowait(1.5);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [1.5, [
    2n,
    "two",
  ], 5]);
});

Deno.test("PriorityQueue.put() without a numeric priority throws TypeError", () => {
  const q = new PriorityQueue();
  // deno-lint-ignore no-explicit-any
  assert.throws(() => q.putNowait(["high", 1] as any), TypeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => q.putNowait({ p: 1 } as any), TypeError);
  assert.throws(() => q.putNowait(NaN), TypeError);
});

Deno.test("PriorityQueue heap order holds over many random items", () => {
  const q = new PriorityQueue<[number, number]>();
  const items: [number, number][] = [];
  for (let i = 0; i < 2000; i++) {
    items.push([Math.floor(Math.random() * 50), i]);
  }
  for (const item of items) q.putNowait(item);
  const sorted = [...items].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const want of sorted) assert.deepEqual(q.getNowait(), want);
});

Deno.test("PriorityQueue keeps priority order across a worker: worker puts, main thread gets", async () => {
  const q = new PriorityQueue<[number, string]>();
  const items: [number, string][] = [
    [5, "e"],
    [1, "a"],
    [3, "c1"],
    [3, "c2"],
    [2, "b"],
    [4, "d"],
    [3, "c3"],
  ];
  const writer = startQueueWorker({ op: "putAll", queue: q, items });
  try {
    await withTimeout(writer.reply, 20_000, "writer");
    const got: string[] = [];
    while (!q.empty()) got.push((await q.get())[1]);
    assert.deepEqual(got, ["a", "b", "c1", "c2", "c3", "d", "e"]);
  } finally {
    q.close();
    writer.worker.terminate();
  }
});

Deno.test("PriorityQueue: main thread puts, a worker gets in priority order", async () => {
  const q = new PriorityQueue<[number, string]>();
  q.putNowait([2, "second"]);
  q.putNowait([9, "last"]);
  q.putNowait([0, "first"]);
  const reader = startQueueWorker({ op: "getN", queue: q, count: 3 });
  try {
    const reply = await withTimeout(reader.reply, 20_000, "reader");
    assert.deepEqual(reply.got, [[0, "first"], [2, "second"], [9, "last"]]);
  } finally {
    q.close();
    reader.worker.terminate();
  }
});

Deno.test("share()/revive() rebuild each queue kind as its own class over the same memory", () => {
  const queues = [
    new Queue<number>(),
    new LifoQueue<number>(),
    new PriorityQueue<number>(),
  ];
  for (const q of queues) {
    const back = revive<typeof q>(structuredClone(share(q)));
    assert.equal(back.constructor, q.constructor);
    back.putNowait(7);
    assert.equal(q.getNowait(), 7);
  }
});

Deno.test("PriorityQueue orders bigint priorities exactly (2^60+1 after 2^60, mixed with numbers)", () => {
  const q = new PriorityQueue<[bigint | number, string]>();
  const big = 2n ** 60n;
  q.putNowait([big + 1n, "plus1"]);
  q.putNowait([big, "exact"]);
  q.putNowait([big - 1n, "minus1"]);
  q.putNowait([2 ** 60, "number"]); // equal to `big`: FIFO after it
  q.putNowait([-(big + 3n), "negative"]);
  q.putNowait([(1n << 105n) + 1n, "huge+1"]);
  q.putNowait([1n << 105n, "huge"]);
  const got: string[] = [];
  while (!q.empty()) got.push(q.getNowait()[1]);
  assert.deepEqual(got, [
    "negative",
    "minus1",
    "exact",
    "number",
    "plus1",
    "huge",
    "huge+1",
  ]);
});

Deno.test("PriorityQueue refuses a bigint priority it cannot order exactly", () => {
  const q = new PriorityQueue<[bigint, string]>();
  assert.throws(() => q.putNowait([1n << 200n, "x"]), RangeError);
  assert.equal(q.qsize(), 0);
});
