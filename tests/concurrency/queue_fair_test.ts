// Issue #18 item 5: a put wakes one getter and a get wakes one putter, in
// FIFO order; QueueClosed carries the item a put could not store.
import assert from "node:assert/strict";
import { Queue } from "../../concurrency/queue.ts";
import { QueueClosed } from "../../concurrency/queue_errors.ts";
import { share } from "../../concurrency/share.ts";
import { Thread } from "../../concurrency/thread.ts";
import { withTimeout } from "../_helpers.ts";
import { ints, sleep } from "./_sync_helpers.ts";

const TASKS = new URL("./_tasks/queue_fair_tasks.ts", import.meta.url);
/** White-box: header words of the getter ring's tickets. */
const GET_NEXT = 18, GET_SERVE = 19;

function header(queue: Queue<never>): Int32Array {
  return new Int32Array((share(queue) as { header: SharedArrayBuffer }).header);
}

function run(fn: string, args: unknown[]): Thread {
  const t = new Thread({ module: TASKS, fn, args });
  t.start();
  return t;
}

async function until(check: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await sleep(2);
    })(),
    15_000,
    what,
  );
}

Deno.test("Queue wakes blocked getters one per put, in the order they started waiting", async () => {
  const queue = new Queue<number>();
  const h = header(queue as Queue<never>);
  const out = ints(4);
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      threads.push(run("getOne", [queue, out, i]));
      await until(() => Atomics.load(h, GET_NEXT) === i + 1, `getter ${i}`);
    }
    for (let i = 0; i < 4; i++) {
      await queue.put(100 + i);
      await withTimeout(threads[i].join(), 15_000, `getter ${i} to finish`);
      // exactly one ticket served per put
      assert.equal(Atomics.load(h, GET_SERVE), i + 1);
    }
    assert.deepEqual([...out], [100, 101, 102, 103]);
  } finally {
    queue.close();
    for (const t of threads) await t.terminate();
  }
});

Deno.test("Queue wakes async getters one per put, FIFO; the others stay asleep", async () => {
  const queue = new Queue<string>();
  const h = header(queue as Queue<never>);
  const order: string[] = [];
  const getters = ["a", "b", "c"].map((name) =>
    queue.get().then((item) => order.push(`${name}:${item}`))
  );
  assert.equal(Atomics.load(h, GET_NEXT), 3);
  await queue.put("1");
  await getters[0];
  await sleep(20);
  assert.deepEqual(order, ["a:1"]);
  assert.equal(Atomics.load(h, GET_SERVE), 1);
  await queue.put("2");
  await queue.put("3");
  await withTimeout(Promise.all(getters), 10_000);
  assert.deepEqual(order, ["a:1", "b:2", "c:3"]);
});

Deno.test("Queue: a getter that times out gives its turn to the next one (no lost wake-up)", async () => {
  const queue = new Queue<number>();
  const early = queue.get({ timeout: 30 }).catch((e) => e.name);
  const late = queue.get();
  assert.equal(await early, "QueueEmpty");
  await queue.put(7);
  assert.equal(await withTimeout(late, 10_000), 7);
  const aborted = new AbortController();
  const first = queue.get({ signal: aborted.signal }).catch(() => "aborted");
  const second = queue.get();
  aborted.abort();
  assert.equal(await first, "aborted");
  await queue.put(8);
  assert.equal(await withTimeout(second, 10_000), 8);
});

Deno.test("QueueClosed from a put carries the item it could not store", async () => {
  const queue = new Queue<{ n: number }>({ maxsize: 1 });
  queue.putNowait({ n: 1 });
  const waiting = queue.put({ n: 2 }).catch((e) => e);
  queue.close();
  const error = await waiting;
  assert.ok(error instanceof QueueClosed);
  assert.deepEqual(error.item, { n: 2 });
  assert.throws(
    () => queue.putNowait({ n: 3 }),
    (e) => e instanceof QueueClosed && (e.item as { n: number }).n === 3,
  );
  const got = await queue.get();
  assert.deepEqual(got, { n: 1 });
  const fromGet = await queue.get().catch((e) => e);
  assert.ok(fromGet instanceof QueueClosed);
  assert.equal("item" in fromGet, false);
});

for (let round = 1; round <= 3; round++) {
  Deno.test(`Queue stress ${round}/3: 4 producer × 4 consumer threads with timeouts, maxsize 4: every item exactly once`, async () => {
    const queue = new Queue<number>({ maxsize: 4 });
    const PER = 2500;
    const seen = ints(4 * PER);
    const threads: Thread[] = [];
    try {
      for (let p = 0; p < 4; p++) {
        threads.push(run("produce", [queue, p * PER, PER]));
      }
      for (let c = 0; c < 4; c++) {
        threads.push(run("consume", [queue, seen, PER]));
      }
      await withTimeout(Promise.all(threads.map((t) => t.join())), 60_000);
      assert.equal(queue.qsize(), 0);
      const counts = [...seen];
      assert.equal(counts.filter((n) => n !== 1).length, 0);
      const h = header(queue as Queue<never>);
      // every ticket was served or cancelled: no sleeper left behind
      assert.equal(Atomics.load(h, GET_NEXT), Atomics.load(h, GET_SERVE));
    } finally {
      queue.close();
      for (const t of threads) await t.terminate();
    }
  });
}
