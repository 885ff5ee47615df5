import assert from "node:assert/strict";
import { Lock } from "../../concurrency/lock.ts";
import {
  activeCount,
  currentThreadId,
  currentThreadName,
  isMainThread,
  Thread,
} from "../../concurrency/thread.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { sleep } from "./_sync_helpers.ts";

const TASKS = new URL("./_tasks/sync_thread.ts", import.meta.url);

function run(fn: string, args: unknown[] = [], name?: string): Thread {
  const thread = new Thread({ module: TASKS, fn, args, name });
  thread.start();
  return thread;
}

// ---- construction ---------------------------------------------------------

Deno.test("new Thread() validates its options", () => {
  assert.throws(() => new Thread(undefined as never), TypeError);
  assert.throws(() => new Thread({ module: "", fn: "f" }), TypeError);
  assert.throws(() => new Thread({ module: TASKS, fn: "" }), TypeError);
  assert.throws(
    () => new Thread({ module: TASKS, fn: "f", args: 1 as never }),
    TypeError,
  );
  const t = new Thread({ module: TASKS, fn: "add" });
  assert.match(t.name, /^Thread-\d+$/);
  assert.equal(t.ident, undefined);
  assert.equal(t.isAlive(), false);
});

Deno.test("Thread.join() before start() rejects and start() twice throws", async () => {
  const t = new Thread({ module: TASKS, fn: "add", args: [1, 2] });
  await assert.rejects(t.join(), TypeError);
  t.start();
  try {
    assert.throws(() => t.start(), TypeError);
    assert.equal(await withTimeout(t.join(), 10_000), 3);
  } finally {
    t.terminate();
  }
});

// ---- happy path -----------------------------------------------------------

Deno.test("Thread.join() resolves with the (async) function's return value", async () => {
  const t = run("later", [{ n: [1, 2] }, 20], "worker-a");
  try {
    assert.equal(t.name, "worker-a");
    assert.equal(typeof t.ident, "number");
    assert.notEqual(t.ident, currentThreadId());
    assert.equal(t.isAlive(), true);
    assert.deepEqual(await withTimeout(t.join(), 10_000), { n: [1, 2] });
    assert.equal(t.isAlive(), false);
    assert.deepEqual(await t.join(), { n: [1, 2] }); // join is repeatable
  } finally {
    t.terminate();
  }
});

Deno.test("threads see their own ident and name; main is thread 1", async () => {
  assert.equal(isMainThread(), true);
  assert.equal(currentThreadName(), "MainThread");
  assert.equal(currentThreadId(), 1);
  const t = run("whoAmI", [], "named");
  try {
    const info = await withTimeout(t.join(), 10_000) as Record<string, unknown>;
    assert.equal(info.ident, t.ident);
    assert.equal(info.name, "named");
    assert.equal(info.main, false);
    assert.ok((info.active as number) >= 2);
    assert.ok(activeCount() >= 1);
  } finally {
    t.terminate();
  }
});

Deno.test("two threads get distinct idents", async () => {
  const a = run("add", [1, 1]);
  const b = run("add", [2, 2]);
  try {
    assert.notEqual(a.ident, b.ident);
    assert.deepEqual(
      await withTimeout(Promise.all([a.join(), b.join()]), 10_000),
      [2, 4],
    );
  } finally {
    a.terminate();
    b.terminate();
  }
});

Deno.test("Thread.join() returns shared objects live", async () => {
  const t = run("returnsLock");
  try {
    const lock = await withTimeout(t.join(), 10_000) as Lock;
    assert.ok(lock instanceof Lock);
    assert.equal(lock.locked, true);
  } finally {
    t.terminate();
  }
});

// ---- errors ---------------------------------------------------------------

Deno.test("Thread.join() rejects with the worker's error name, message and stack", async () => {
  const t = run("fail", ["bad input"]);
  try {
    const error = await withTimeout(t.join().catch((e) => e), 10_000) as Error;
    assert.equal(error.name, "RangeError");
    assert.equal(error.message, "bad input");
    assert.match(error.stack ?? "", /sync_thread\.ts/);
  } finally {
    t.terminate();
  }
});

Deno.test("Thread.join() rejects with a thrown non-Error value as is", async () => {
  const t = run("throwString");
  try {
    await assert.rejects(
      withTimeout(t.join(), 10_000),
      (e) => e === "plain string",
    );
  } finally {
    t.terminate();
  }
});

Deno.test("Thread.join() rejects clearly for a missing export or module", async () => {
  const missing = run("nope");
  const badModule = new Thread({
    module: new URL("./_tasks/does_not_exist.ts", import.meta.url),
    fn: "f",
  });
  badModule.start();
  try {
    await assert.rejects(withTimeout(missing.join(), 10_000), {
      name: "TypeError",
      message: /has no exported function "nope"/,
    });
    await assert.rejects(withTimeout(badModule.join(), 10_000));
  } finally {
    missing.terminate();
    badModule.terminate();
  }
});

Deno.test("Thread.join() rejects when the result cannot be cloned", async () => {
  const t = run("unclonable");
  try {
    await assert.rejects(withTimeout(t.join(), 10_000), {
      name: "DataCloneError",
    });
  } finally {
    t.terminate();
  }
});

Deno.test("Thread.join() does not hang when the thread calls Deno.exit()", async () => {
  const t = run("exitEarly", [3]);
  try {
    await assert.rejects(withTimeout(t.join(), 10_000), /exit \(code 3\)/);
    assert.equal(t.isAlive(), false);
  } finally {
    t.terminate();
  }
});

Deno.test("Thread.terminate() ends a running thread and rejects join()", async () => {
  const t = run("forever");
  const joined = t.join();
  const state = probe(joined);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  t.terminate();
  t.terminate(); // idempotent
  await assert.rejects(withTimeout(joined, 10_000), /terminated/);
  assert.equal(t.isAlive(), false);
});

Deno.test("Thread disposes with await using", async () => {
  let alive: Thread | undefined;
  {
    await using t = run("forever");
    alive = t;
  }
  assert.equal(alive.isAlive(), false);
  await assert.rejects(alive.join(), /terminated/);
});

// ---- join options ---------------------------------------------------------

Deno.test("Thread.join({ timeout }) resolves undefined on time and the thread runs on", async () => {
  const t = run("forever");
  try {
    const start = performance.now();
    assert.equal(await t.join({ timeout: 100 }), undefined);
    const took = performance.now() - start;
    assert.ok(took >= 90 && took < 5000, `took ${took} ms`);
    await sleep(10);
    assert.equal(t.isAlive(), true);
  } finally {
    t.terminate();
  }
});

Deno.test("Thread.join() abort matrix", async () => {
  const reason = new Error("stop");
  const t = run("later", [7, 100]);
  try {
    await assert.rejects(
      t.join({ signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    const c = new AbortController();
    const waiting = t.join({ signal: c.signal });
    c.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    assert.equal(await withTimeout(t.join(), 10_000), 7); // still joinable
    const c2 = new AbortController();
    assert.equal(await t.join({ signal: c2.signal }), 7); // immediate
    c2.abort();
  } finally {
    t.terminate();
  }
});
