import assert from "node:assert/strict";
import {
  LifoQueue,
  QueueClosed,
  QueueEmpty,
  QueueFull,
} from "../../concurrency/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { startQueueWorker } from "./_tasks/queue_helpers.ts";

Deno.test("LifoQueue.getNowait() returns the newest item first", () => {
  const q = new LifoQueue<string>({ maxsize: 3 });
  q.putNowait("a");
  q.putNowait("b");
  q.putNowait("c");
  assert.throws(() => q.putNowait("d"), QueueFull);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [
    "c",
    "b",
    "a",
  ]);
  assert.throws(() => q.getNowait(), QueueEmpty);
});

Deno.test("LifoQueue keeps LIFO order across a worker: worker puts, main thread gets", async () => {
  const q = new LifoQueue<{ n: number }>();
  const items = Array.from({ length: 100 }, (_, n) => ({ n }));
  const writer = startQueueWorker({ op: "putAll", queue: q, items });
  try {
    await withTimeout(writer.reply, 20_000, "writer");
    const got: number[] = [];
    while (!q.empty()) got.push((await q.get()).n);
    assert.deepEqual(got, items.map((i) => i.n).reverse());
  } finally {
    q.close();
    writer.worker.terminate();
  }
});

Deno.test("LifoQueue.close() wakes a waiting get()", async () => {
  const q = new LifoQueue<number>();
  const pending = q.get();
  q.close();
  await assert.rejects(withTimeout(pending, 5000), QueueClosed);
});
