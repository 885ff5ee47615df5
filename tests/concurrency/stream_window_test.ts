// The streaming window shared by both Pools' imap/imapUnordered
// (_internal/stream_window.ts), driven by a fake `submit` whose chunks the
// test settles by hand, so window sizes and orders are exact.
import assert from "node:assert/strict";
import {
  streamWindow,
  type SubmitChunk,
} from "../../_internal/stream_window.ts";
import { flushMicrotasks } from "../_helpers.ts";

interface Call {
  chunk: unknown[];
  signal: AbortSignal;
  resolve: (v: unknown[]) => void;
  reject: (e: unknown) => void;
}

/** A submit that records each chunk and the number held when it came. */
function recorder() {
  const calls: Call[] = [];
  const submit: SubmitChunk = (chunk, signal) =>
    new Promise((resolve, reject) =>
      calls.push({ chunk, signal, resolve, reject })
    );
  return { calls, submit };
}

/** A sync iterable that counts pulls and return() calls. */
function counted(n: number, throwAt = -1) {
  const seen = { pulled: 0, returned: 0 };
  const iterable: Iterable<number> = {
    [Symbol.iterator]: () => ({
      next: () => {
        if (seen.pulled === throwAt) throw new Error("next failed");
        return seen.pulled < n
          ? { done: false, value: seen.pulled++ }
          : { done: true, value: undefined };
      },
      return: () => {
        seen.returned++;
        return { done: true, value: undefined };
      },
    }),
  };
  return { seen, iterable };
}

Deno.test("streamWindow: ordered, chunked, refilled in bulk at refillAt", async () => {
  const { calls, submit } = recorder();
  const { seen, iterable } = counted(20);
  const gen = streamWindow<number>(submit, iterable, true, {
    limit: 4,
    refillAt: 2,
    chunksize: 2,
  });
  const first = gen.next();
  await flushMicrotasks();
  assert.equal(calls.length, 4); // a full window of 2-item chunks
  assert.equal(seen.pulled, 8);
  // settle out of order: results still come in input order
  calls[1].resolve([10, 11]);
  calls[0].resolve([0, 1]);
  assert.deepEqual(await first, { done: false, value: 0 });
  assert.deepEqual(await gen.next(), { done: false, value: 1 });
  assert.deepEqual(await gen.next(), { done: false, value: 10 });
  await flushMicrotasks();
  assert.equal(calls.length, 4); // 3 held > refillAt: no refill yet
  assert.deepEqual(await gen.next(), { done: false, value: 11 });
  const next = gen.next();
  await flushMicrotasks();
  assert.equal(calls.length, 6); // 2 held: topped up to 4 at once
  for (const c of calls.slice(2)) c.resolve(c.chunk.map((x) => -Number(x)));
  assert.deepEqual(await next, { done: false, value: -4 });
  await gen.return();
  assert.equal(seen.returned, 1);
  assert.ok(calls.slice(6).every((c) => c.signal.aborted));
});

Deno.test("streamWindow: refillAt = limit - 1 keeps the window full one by one", async () => {
  const { calls, submit } = recorder();
  const { iterable } = counted(Infinity);
  const gen = streamWindow<number>(submit, iterable, true, {
    limit: 3,
    refillAt: 2,
  });
  const p = gen.next();
  await flushMicrotasks();
  assert.equal(calls.length, 3);
  for (let i = 0; i < 5; i++) {
    calls[i].resolve([i]);
    assert.deepEqual(await (i === 0 ? p : gen.next()), {
      done: false,
      value: i,
    });
    // at most 3 held; one more pulled per result
    assert.equal(calls.length, 3 + i);
  }
  // one signal for the whole stream: aborted only when it is left
  assert.equal(calls[6].signal.aborted, false);
  await gen.return();
  assert.ok(calls.slice(5).every((c) => c.signal.aborted));
});

Deno.test("streamWindow: unordered yields in completion order and ends when drained", async () => {
  const { calls, submit } = recorder();
  const gen = streamWindow<string>(submit, ["a", "b", "c"], false, {
    limit: 8,
    refillAt: 4,
  });
  const out: string[] = [];
  const done = (async () => {
    for await (const v of gen) out.push(v);
  })();
  await flushMicrotasks();
  assert.equal(calls.length, 3);
  calls[2].resolve(["C"]);
  await flushMicrotasks();
  calls[0].resolve(["A"]);
  await flushMicrotasks();
  calls[1].resolve(["B"]);
  await done;
  assert.deepEqual(out, ["C", "A", "B"]);
});

Deno.test("streamWindow: a failed chunk ends the stream and aborts the rest", async () => {
  for (const ordered of [true, false]) {
    const { calls, submit } = recorder();
    const { seen, iterable } = counted(10);
    const gen = streamWindow(submit, iterable, ordered, {
      limit: 4,
      refillAt: 2,
    });
    const p = gen.next();
    await flushMicrotasks();
    const boom = new RangeError("boom");
    calls[0].reject(boom);
    await assert.rejects(p, (e) => e === boom);
    assert.ok(calls.slice(1).every((c) => c.signal.aborted), `${ordered}`);
    assert.equal(seen.returned, 1);
  }
});

Deno.test("streamWindow: a throwing next() ends the stream without return()", async () => {
  const { calls, submit } = recorder();
  const { seen, iterable } = counted(10, 2);
  const gen = streamWindow(submit, iterable, true, { limit: 4, refillAt: 2 });
  await assert.rejects(gen.next(), /next failed/);
  assert.equal(seen.returned, 0);
  assert.ok(calls.every((c) => c.signal.aborted));
});

Deno.test("streamWindow: the caller's signal, already aborted or aborted midway", async () => {
  const reason = new Error("stop");
  const { calls, submit } = recorder();
  const { seen, iterable } = counted(10);
  const early = streamWindow(submit, iterable, true, {
    limit: 4,
    refillAt: 2,
    signal: AbortSignal.abort(reason),
  });
  await assert.rejects(early.next(), (e) => e === reason);
  assert.equal(seen.pulled, 0); // no item taken
  assert.equal(calls.length, 0);

  const c = new AbortController();
  // submit rejects on abort, as both Pools' tasks do
  const abortable: SubmitChunk = (_chunk, signal) =>
    new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    );
  const gen = streamWindow(abortable, counted(10).iterable, false, {
    limit: 4,
    refillAt: 2,
    signal: c.signal,
  });
  const p = gen.next();
  await flushMicrotasks();
  c.abort(reason);
  await assert.rejects(p, (e) => e === reason);
});

Deno.test("streamWindow: async iterables, and chunksize checked on first next()", async () => {
  async function* items() {
    for (let i = 0; i < 5; i++) yield i;
  }
  const double: SubmitChunk = (chunk) =>
    Promise.resolve(chunk.map((x) => 2 * Number(x)));
  const out: number[] = [];
  for await (
    const v of streamWindow<number>(double, items(), true, {
      limit: 2,
      refillAt: 1,
      chunksize: 2,
    })
  ) out.push(v);
  assert.deepEqual(out, [0, 2, 4, 6, 8]);
  for (const chunksize of [0, 1.5, NaN]) {
    const gen = streamWindow(double, [1], true, {
      limit: 2,
      refillAt: 1,
      chunksize,
    });
    await assert.rejects(gen.next(), {
      name: "TypeError",
      message: /"chunksize" must be an integer >= 1/,
    });
  }
});
