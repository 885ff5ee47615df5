// Thread.start() resolves once the worker is calling the function, like
// Python's start() returns once the thread runs. The worker is held inside
// its module's loading (a top-level `await fetch` answered by a local server
// only when the test says so), so "not yet" is a fact, not a timing guess.
import assert from "node:assert/strict";
import { Event } from "../../concurrency/event.ts";
import { Thread } from "../../concurrency/thread.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";

/** A local server whose one answer waits for `release()`. */
function gateServer() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let asked!: () => void;
  const requested = new Promise<void>((resolve) => asked = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async () => {
      asked();
      await gate;
      return new Response("go");
    },
  );
  return {
    port: server.addr.port,
    requested,
    release,
    async close() {
      release();
      await server.shutdown();
    },
  };
}

/** A task module that waits for the gate while loading, then exports `f`. */
function gatedModule(port: number): string {
  return "data:text/javascript," + encodeURIComponent(
    `await (await fetch("http://127.0.0.1:${port}/")).text();
     export function f(entered, go) {
       entered.set();
       return go.waitSync({ timeout: 10000 });
     }`,
  );
}

Deno.test("Thread.start() resolves only once the worker is calling the function", async () => {
  const server = gateServer();
  const entered = new Event();
  const go = new Event();
  const t = new Thread({
    module: gatedModule(server.port),
    fn: "f",
    args: [entered, go],
  });
  try {
    const started = t.start();
    const state = probe(started);
    // The worker is inside its module's loading: not started yet.
    await withTimeout(server.requested, 10_000, "the worker's request");
    await flushMicrotasks();
    assert.equal(state.settled, false);
    assert.equal(entered.isSet(), false);
    server.release();
    await withTimeout(started, 10_000, "start()");
    // The worker is in f now: it sets `entered` before it waits for `go`.
    assert.equal(await entered.wait({ timeout: 10_000 }), true);
    assert.equal(t.isAlive(), true);
    go.set();
    assert.equal(await withTimeout(t.join(), 10_000), true);
  } finally {
    await t.terminate();
    await server.close();
  }
});

Deno.test("Thread.start() in order: each worker waits before the boss sets the Event", async () => {
  // The tutorial's boss/worker program (001:1314): every worker must be
  // waiting before the boss sets and then clears the event. With
  // `await start()` each worker is calling its function before the next
  // thread starts; the workers report "waiting" through a count.
  const module = "data:text/javascript," + encodeURIComponent(
    `export function worker(event, count) {
       Atomics.add(count, 0, 1);
       Atomics.notify(count, 0);
       return event.waitSync({ timeout: 10000 });
     }`,
  );
  const event = new Event();
  const count = new Int32Array(new SharedArrayBuffer(4));
  const workers = [0, 1, 2].map(() =>
    new Thread({ module, fn: "worker", args: [event, count] })
  );
  try {
    for (const w of workers) await withTimeout(w.start(), 10_000, "start()");
    for (const w of workers) assert.equal(w.isAlive(), true);
    // Every worker is in its function; let each reach its count (no sleep:
    // Atomics.waitAsync wakes on the workers' notify).
    while (Atomics.load(count, 0) < 3) {
      const now = Atomics.load(count, 0);
      const { async, value } = Atomics.waitAsync(count, 0, now, 10_000);
      if (async) assert.equal(await value, "ok");
    }
    event.set();
    for (const w of workers) {
      assert.equal(await withTimeout(w.join(), 10_000), true);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

Deno.test("Thread.start() resolves, never rejects, when the thread never reaches its function", async () => {
  // A module that fails to load: start() resolves, join() has the error.
  const missing = new Thread({
    module: new URL("./_tasks/does_not_exist.ts", import.meta.url),
    fn: "f",
  });
  await withTimeout(missing.start(), 10_000, "start()");
  await assert.rejects(withTimeout(missing.join(), 10_000));

  // An export that does not exist: the same.
  const module = "data:text/javascript,export const x = 1;";
  const noExport = new Thread({ module, fn: "nope" });
  await withTimeout(noExport.start(), 10_000, "start()");
  await assert.rejects(withTimeout(noExport.join(), 10_000), {
    name: "TypeError",
  });

  // Ignored promises of failed starts never become unhandled rejections
  // (the test would fail on one).
  const ignored = new Thread({ module, fn: "nope" });
  ignored.start();
  await assert.rejects(withTimeout(ignored.join(), 10_000), {
    name: "TypeError",
  });

  // Terminated while still loading its module: start() resolves at the end.
  const server = gateServer();
  const t = new Thread({
    module: gatedModule(server.port),
    fn: "f",
    args: [new Event(), new Event()],
  });
  try {
    const started = t.start();
    await withTimeout(server.requested, 10_000, "the worker's request");
    assert.equal(await t.terminate({ timeout: 10_000 }), true);
    await withTimeout(started, 10_000, "start()");
    await assert.rejects(t.join(), /terminated/);
  } finally {
    await t.terminate();
    await server.close();
  }
});

Deno.test("Thread.start() still throws at once when misused, and starts nothing then", async () => {
  const module = "data:text/javascript,export function f(){}";
  // An argument that cannot be cloned: no worker is left behind (the
  // sanitizers and the process exit would notice one).
  const bad = new Thread({ module, fn: "f", args: [() => 1] });
  assert.throws(() => bad.start(), { name: "DataCloneError" });
  assert.equal(bad.ident, undefined);
  assert.equal(bad.isAlive(), false);
  await assert.rejects(bad.join(), TypeError); // never started
  const t = new Thread({ module, fn: "f" });
  const started = t.start();
  assert.throws(() => t.start(), TypeError);
  await withTimeout(started, 10_000, "start()");
  assert.equal(await withTimeout(t.join(), 10_000), undefined);
});
