// The programs of the classic `threading` tutorials, ported to weft, each
// checked for the outcome the tutorial promises.
import assert from "node:assert/strict";
import { Event } from "../../concurrency/event.ts";
import { Lock } from "../../concurrency/lock.ts";
import { RLock } from "../../concurrency/rlock.ts";
import { Semaphore } from "../../concurrency/semaphore.ts";
import { Thread } from "../../concurrency/thread.ts";
import { withTimeout } from "../_helpers.ts";
import { ints, sleep, terminateAll } from "./_sync_helpers.ts";

const TASKS = new URL("./_tasks/sync_tutorials.ts", import.meta.url);

function start(fn: string, args: unknown[]): Thread {
  const t = new Thread({ module: TASKS, fn, args });
  t.start();
  return t;
}

async function joinAll(threads: Thread[], ms = 60_000): Promise<unknown[]> {
  return await withTimeout(Promise.all(threads.map((t) => t.join())), ms);
}

Deno.test("tutorial: 100 decrements of a shared counter under a Lock end at 0", async () => {
  // 25 workers x 4 decrements = the tutorial's 100 threads' worth of work
  // (100 real workers would cost ~2 GB of memory on a small CI box).
  const lock = new Lock();
  const counter = ints(1);
  counter[0] = 100;
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 25; i++) {
      threads.push(start("decrement", [lock, counter, 4]));
    }
    await joinAll(threads);
    assert.equal(counter[0], 0);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("tutorial: a nested acquire deadlocks with Lock and works with RLock", async () => {
  const threads = [
    start("nestedUpdate", [new Lock()]),
    start("nestedUpdate", [new RLock()]),
  ];
  try {
    assert.deepEqual(await joinAll(threads), ["deadlock", "ok"]);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("tutorial: the boss sets an Event and every worker starts", async () => {
  const go = new Event();
  const done = ints(1);
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 4; i++) threads.push(start("employee", [go, done, i]));
    await sleep(150);
    assert.equal(Atomics.load(done, 0), 0); // nobody starts before the boss
    go.set();
    assert.deepEqual(await joinAll(threads), [
      "worker 0 done",
      "worker 1 done",
      "worker 2 done",
      "worker 3 done",
    ]);
    assert.equal(Atomics.load(done, 0), 4);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("tutorial: Semaphore(5) lets at most 5 of 20 threads use a connection", async () => {
  const pool = new Semaphore(5);
  const stats = ints(2);
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      threads.push(start("useConnection", [pool, stats]));
    }
    const seen = await joinAll(threads) as number[];
    assert.ok(seen.every((n) => n >= 1 && n <= 5));
    assert.ok(Atomics.load(stats, 1) <= 5);
    assert.equal(pool.value, 5);
  } finally {
    terminateAll(threads);
  }
});

Deno.test("tutorial: producer/consumer over a bounded buffer passes every item once", async () => {
  const cap = 5;
  const ring = ints(3 + cap);
  ring[2] = cap;
  const mutex = new Lock();
  const empty = new Semaphore(cap);
  const full = new Semaphore(0);
  const count = 300;
  const threads = [
    start("producer", [mutex, empty, full, ring, count]),
    start("consumer", [mutex, empty, full, ring, count]),
  ];
  try {
    const [produced, sum] = await joinAll(threads);
    assert.equal(produced, count);
    assert.equal(sum, (count * (count + 1)) / 2);
    assert.equal(full.value, 0);
    assert.equal(empty.value, cap);
  } finally {
    terminateAll(threads);
  }
});
