import assert from "node:assert/strict";
import { Event, Pool, Queue } from "../../concurrency/mod.ts";
import { withTimeout } from "../_helpers.ts";

const module = new URL("./_tasks/pool_tasks.ts", import.meta.url);

async function withPool<T>(
  options: Partial<ConstructorParameters<typeof Pool>[0]>,
  body: (pool: Pool) => Promise<T>,
): Promise<T> {
  const pool = new Pool({ module, size: 2, ...options });
  try {
    return await withTimeout(body(pool), 60_000, "pool test body");
  } finally {
    pool.terminate();
    await pool.join();
  }
}

// ---- construction -------------------------------------------------------------

Deno.test("new Pool() validates every option with a TypeError naming the field", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{}, "module"],
    [{ module: "" }, "module"],
    [{ module: 42 }, "module"],
    [{ module: { href: "file:///x.ts" } }, "module"],
    [{ module, size: 0 }, "size"],
    [{ module, size: 1.5 }, "size"],
    [{ module, maxTasksPerWorker: 0 }, "maxTasksPerWorker"],
    [{ module, initializer: 5 }, "initializer"],
    [{ module, initArgs: "x" }, "initArgs"],
    [{ module, taskTimeout: -1 }, "taskTimeout"],
    [{ module, abortGracePeriod: "1" }, "abortGracePeriod"],
  ];
  for (const [options, field] of bad) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => new Pool(options as any),
      (e: Error) => e instanceof TypeError && e.message.includes(`"${field}"`),
      field,
    );
  }
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Pool(undefined as any), TypeError);
});

Deno.test("new Pool() resolves a relative module path against the cwd, like Thread and Process", async () => {
  // A path relative to the current directory, as Thread and Process accept.
  const relative = relativeFromCwd(module);
  assert.ok(!relative.startsWith("/") && !relative.includes(":"), relative);
  const pool = new Pool({ module: relative, size: 1 });
  try {
    assert.equal(
      await withTimeout(pool.apply("add", [2, 3]), 30_000, "relative module"),
      5,
    );
  } finally {
    pool.terminate();
    await pool.join();
  }
});

/** `url` as a path relative to `Deno.cwd()` (e.g. `tests/concurrency/...`). */
function relativeFromCwd(url: URL): string {
  const from = Deno.cwd().split("/").filter(Boolean);
  const to = decodeURIComponent(url.pathname).split("/").filter(Boolean);
  let common = 0;
  while (common < from.length && from[common] === to[common]) common++;
  return [...from.slice(common).map(() => ".."), ...to.slice(common)].join(
    "/",
  ) || ".";
}

// ---- happy path ---------------------------------------------------------------

Deno.test("Pool.apply() runs an exported function in a worker", async () => {
  await withPool({}, async (pool) => {
    assert.equal(await pool.apply("add", [2, 3]), 5);
    assert.equal(pool.size, 2);
  });
});

Deno.test("Pool.map() equals the serial result for 10 000 items with several chunksizes", async () => {
  await withPool({}, async (pool) => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const serial = items.map((x) => x + 1);
    for (const chunksize of [undefined, 1, 7, 1000, 20_000]) {
      assert.deepEqual(
        await pool.map("inc", items, { chunksize }),
        serial,
        `chunksize ${chunksize}`,
      );
    }
    assert.deepEqual(await pool.map("inc", new Set([1, 2])), [2, 3]);
    await assert.rejects(pool.map("inc", items, { chunksize: 0 }), TypeError);
  });
});

Deno.test("Pool.starmap() spreads each argument list", async () => {
  await withPool({}, async (pool) => {
    assert.deepEqual(
      await pool.starmap("add", [[1, 2], [3, 4], [5, 6]], { chunksize: 2 }),
      [3, 7, 11],
    );
  });
});

Deno.test("Pool.imap() yields results in input order from an async iterable", async () => {
  await withPool({}, async (pool) => {
    async function* source() {
      for (let i = 0; i < 500; i++) {
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1));
        yield i;
      }
    }
    const got: number[] = [];
    for await (
      const n of pool.imap<number>("inc", source(), { chunksize: 3 })
    ) got.push(n);
    assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => i + 1));
  });
});

Deno.test("Pool.imapUnordered() yields every result exactly once", async () => {
  await withPool({}, async (pool) => {
    const got: number[] = [];
    for await (
      const n of pool.imapUnordered<number>(
        "inc",
        Array.from({ length: 1000 }, (_, i) => i),
      )
    ) {
      got.push(n);
    }
    assert.deepEqual(
      got.sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
  });
});

Deno.test("Pool.imap() streams an endless generator with bounded memory and stops on break", async () => {
  await withPool({}, async (pool) => {
    let pulled = 0;
    function* endless() {
      for (let i = 0;; i++) {
        pulled++;
        yield i;
      }
    }
    const before = Deno.memoryUsage().heapUsed;
    let count = 0;
    let sum = 0;
    for await (
      const n of pool.imap<number>("inc", endless(), { chunksize: 100 })
    ) {
      sum += n;
      if (++count === 300_000) break;
    }
    const grown = Deno.memoryUsage().heapUsed - before;
    assert.equal(sum, (300_000 * 300_001) / 2);
    // Bounded look-ahead: at most size * 64 chunks of 100 beyond what was used.
    assert.ok(pulled <= 300_000 + 2 * 64 * 100 + 100, `pulled ${pulled}`);
    assert.ok(grown < 200 * 1024 * 1024, `heap grew ${grown} bytes`);
  });
});

Deno.test("Pool(5) + 10 applyAsync() with a callback: every callback runs once", async () => {
  await withPool({ size: 5 }, async (pool) => {
    const results: number[] = [];
    const promises = [];
    for (let i = 0; i < 10; i++) {
      promises.push(
        pool.applyAsync<number>("cube", [i], {
          callback: (r) => results.push(r),
        }),
      );
    }
    const values = await Promise.all(promises);
    assert.deepEqual(values, Array.from({ length: 10 }, (_, i) => i ** 3));
    assert.deepEqual(results.sort((a, b) => a - b), values);
  });
});

Deno.test("Pool.applyAsync() calls errorCallback and its promise needs no handler", async () => {
  await withPool({}, async (pool) => {
    const errors: unknown[] = [];
    const promise = pool.applyAsync("fail", ["nope"], {
      errorCallback: (e) => errors.push(e),
    });
    await assert.rejects(promise, /nope/);
    assert.equal(errors.length, 1);
    pool.applyAsync("fail", ["ignored"], { errorCallback: () => {} }); // never awaited: no unhandled rejection
    assert.equal(await pool.apply("inc", [1]), 2);
  });
});

Deno.test("Pool.apply() of a throwing task rejects with the worker's error and stack", async () => {
  await withPool({}, async (pool) => {
    const error = await pool.apply("fail", ["bad input"]).catch((e) => e);
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "bad input");
    assert.match(String(error.stack), /pool_tasks\.ts/);
    await assert.rejects(
      pool.apply("noSuchFunction"),
      /has no exported function "noSuchFunction"/,
    );
    assert.equal(await pool.apply("inc", [1]), 2);
  });
});

Deno.test("Pool: a task's ArrayBuffer arguments and results can be moved", async () => {
  await withPool({}, async (pool) => {
    const bytes = new Uint8Array(1024);
    assert.equal(
      await pool.apply("byteLength", [bytes], { transfer: [bytes.buffer] }),
      1024,
    );
    assert.equal(bytes.buffer.byteLength, 0); // moved, not copied
    const made = await pool.apply<Uint8Array>("makeBytes", [16]);
    assert.equal(made.length, 16);
    assert.equal(made[3], 7);
  });
});

Deno.test("Pool: a Queue passed as a task argument arrives live", async () => {
  await withPool({}, async (pool) => {
    const queue = new Queue<number>({ maxsize: 5 });
    const filling = pool.apply("fillQueue", [queue, 100]);
    const got: number[] = [];
    for (let i = 0; i < 100; i++) {
      got.push(await withTimeout(queue.get(), 10_000, "queue.get"));
    }
    assert.equal(await filling, 100);
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
    queue.close();
  });
});

Deno.test("Pool initializer runs in each worker with initArgs", async () => {
  await withPool(
    { initializer: "setInit", initArgs: [{ tag: "ready" }] },
    async (pool) => {
      assert.deepEqual(
        await pool.map("getInit", [0, 1, 2, 3], { chunksize: 1 }),
        Array(4).fill({ tag: "ready" }),
      );
    },
  );
});

Deno.test("Pool initializer gets a shared Event in initArgs live", async () => {
  const ready = new Event();
  await withPool(
    { initializer: "setInit", initArgs: [ready] },
    async (pool) => {
      assert.equal(await pool.apply("initEventIsSet", []), false);
      ready.set(); // seen by the worker through shared memory
      assert.equal(await pool.apply("initEventIsSet", []), true);
    },
  );
});

Deno.test("Pool whose initializer throws rejects tasks with the cause", async () => {
  await withPool(
    { initializer: "fail", initArgs: ["init broke"] },
    async (pool) => {
      const error = await pool.apply("inc", [1]).catch((
        e: Error & { cause?: Error },
      ) => e);
      assert.match((error as Error).message, /initializer/);
      assert.match(
        String((error as Error & { cause?: Error }).cause?.message),
        /init broke/,
      );
      assert.ok(error instanceof Error);
      await assert.rejects(pool.apply("inc", [2]), /initializer/);
    },
  );
});

// ---- failures are contained -----------------------------------------------------

Deno.test("Pool: Deno.exit() in a task fails only that task and the worker is replaced", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const before = await pool.apply("whoami");
    const crashed = pool.apply("exitNow");
    const after = pool.apply("whoami"); // queued behind the crash: re-run on the new worker
    await assert.rejects(crashed, /worker exited/);
    const name = await after;
    assert.notEqual(name, before);
    assert.equal(await pool.apply("inc", [1]), 2);
    assert.equal(pool.stats().workers, 1);
  });
});

Deno.test("Pool: an uncaught error in a task's timer fails only that task", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const crashed = pool.apply("throwInTimer");
    const other = pool.apply("add", [1, 1]);
    await assert.rejects(crashed, /boom from a timer/);
    assert.equal(await other, 2);
    assert.equal(await pool.apply("inc", [9]), 10);
  });
});

Deno.test("Pool taskTimeout fails an overrunning task with TimeoutError and replaces its worker", async () => {
  await withPool({ size: 1, taskTimeout: 200 }, async (pool) => {
    const before = await pool.apply("whoami");
    const t0 = performance.now();
    const error = await pool.apply("spin", [30_000]).catch((e: Error) => e);
    assert.equal((error as Error).name, "TimeoutError");
    assert.ok(performance.now() - t0 < 10_000);
    assert.notEqual(await pool.apply("whoami"), before);
    assert.equal(await pool.apply<number>("spin", [1]) > 0, true); // short tasks still fine
  });
});

Deno.test("Pool.terminate() rejects pending and running tasks promptly", async () => {
  const pool = new Pool({ module, size: 1 });
  try {
    const pending = Array.from(
      { length: 10 },
      () => pool.apply("sleep", [5_000]),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    pool.terminate();
    const results = await withTimeout(
      Promise.allSettled(pending),
      5_000,
      "rejections",
    );
    assert.ok(
      results.every((r) =>
        r.status === "rejected" && /terminated/.test(String(r.reason))
      ),
    );
    assert.ok(performance.now() - t0 < 3000);
    await withTimeout(pool.join(), 5_000, "join");
    pool.terminate(); // idempotent
  } finally {
    pool.terminate();
  }
});

// ---- close -----------------------------------------------------------------------

Deno.test("Pool.close() finishes queued work; join() resolves; new tasks reject", async () => {
  const pool = new Pool({ module, size: 2 });
  try {
    await assert.rejects(pool.join(), TypeError);
    const results = [1, 2, 3, 4].map((x) => pool.apply("inc", [x]));
    pool.close();
    assert.equal(pool.closed, true);
    await assert.rejects(
      pool.apply("inc", [1]),
      (e: Error) => e instanceof TypeError && /closed/.test(e.message),
    );
    await withTimeout(pool.join(), 20_000, "join");
    assert.deepEqual(await Promise.all(results), [2, 3, 4, 5]);
    pool.close();
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool [Symbol.asyncDispose] terminates the pool", async () => {
  let outer: Pool;
  {
    await using pool = new Pool({ module, size: 1 });
    outer = pool;
    assert.equal(await pool.apply("inc", [1]), 2);
  }
  assert.equal(outer.closed, true);
  assert.equal(outer.stats().workers, 0);
});

// ---- abort ---------------------------------------------------------------------

Deno.test("Pool.apply({ signal }) already aborted rejects with the reason", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const reason = new Error("never mind");
    await assert.rejects(
      pool.apply("inc", [1], { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
  });
});

Deno.test("Pool.apply({ signal }): aborting a queued task means it never runs", async () => {
  await withPool({ size: 1 }, async (pool) => {
    await pool.apply("inc", [0]); // worker ready
    const first = pool.apply("sleep", [300]);
    const controller = new AbortController();
    const second = pool.apply("setInit", ["should not run"], {
      signal: controller.signal,
    });
    controller.abort(new Error("dropped"));
    await assert.rejects(second, /dropped/);
    assert.equal(await first, "slept 300");
    assert.equal(await pool.apply("getInit"), "unset");
  });
});

Deno.test("Pool: an aborted tight loop stops through throwIfTaskAborted() and keeps its worker", async () => {
  await withPool({ size: 1, abortGracePeriod: 10_000 }, async (pool) => {
    const before = await pool.apply("whoami");
    const controller = new AbortController();
    const running = pool.apply("spinCooperatively", [30_000], {
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error("stop spinning"));
    await assert.rejects(running, /stop spinning/);
    // The worker stopped on its own (well before the grace period) and serves the next task.
    const t0 = performance.now();
    assert.equal(await pool.apply("whoami"), before);
    assert.ok(performance.now() - t0 < 9_000);
  });
});

Deno.test("Pool: an aborted async task sees taskSignal() abort", async () => {
  await withPool({ size: 1, abortGracePeriod: 10_000 }, async (pool) => {
    const before = await pool.apply("whoami");
    const controller = new AbortController();
    const running = pool.apply("waitForAbort", [], {
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error("cancel"));
    await assert.rejects(running, /cancel/);
    assert.equal(await pool.apply("whoami"), before);
  });
});

Deno.test("Pool: an aborted task that ignores its signal gets its worker replaced after the grace period", async () => {
  await withPool({ size: 1, abortGracePeriod: 100 }, async (pool) => {
    const before = await pool.apply("whoami");
    const controller = new AbortController();
    const running = pool.apply("spin", [30_000], { signal: controller.signal });
    const other = pool.apply("add", [2, 2]); // queued behind: must still run
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error("kill it"));
    await assert.rejects(running, /kill it/);
    assert.equal(await other, 4);
    assert.notEqual(await pool.apply("whoami"), before);
  });
});

// ---- recycling and stats -----------------------------------------------------------

Deno.test("Pool maxTasksPerWorker recycles workers (observed by worker names)", async () => {
  await withPool({ size: 1, maxTasksPerWorker: 2 }, async (pool) => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(await pool.apply<string>("whoami"));
    assert.equal(new Set(names).size, 3);
    assert.equal(names[0], names[1]);
    assert.equal(names[2], names[3]);
    assert.notEqual(names[1], names[2]);
    // Also under load: 12 concurrent tasks, no worker runs more than 2.
    const many = await Promise.all(
      Array.from({ length: 12 }, () => pool.apply<string>("whoami")),
    );
    const perWorker = new Map<string, number>();
    for (const n of many) perWorker.set(n, (perWorker.get(n) ?? 0) + 1);
    assert.ok([...perWorker.values()].every((c) => c <= 2));
  });
});

Deno.test("Pool.stats() reports queued and running tasks with name and age, and totals", async () => {
  await withPool({ size: 1 }, async (pool) => {
    await pool.apply("inc", [1]);
    await pool.apply("fail", ["x"]).catch(() => {});
    const slow = pool.apply("sleep", [400]);
    const queued = pool.apply("inc", [2]);
    let stats = pool.stats();
    for (let i = 0; i < 200 && stats.running.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      stats = pool.stats();
    }
    assert.equal(stats.running.length, 1);
    assert.equal(stats.running[0].name, "sleep");
    assert.ok(stats.running[0].age >= 0);
    assert.equal(stats.queued, 1);
    assert.equal(stats.completed, 1);
    assert.equal(stats.failed, 1);
    await slow;
    await queued;
    assert.equal(pool.stats().completed, 3);
  });
});

Deno.test("Pool.imap() rejects the iteration with a task's error", async () => {
  await withPool({}, async (pool) => {
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (
          const n of pool.imap<number>("failOn", [1, 2, 3, 13, 5, 6])
        ) seen.push(n);
      })(),
      /unlucky 13/,
    );
    assert.deepEqual(seen, [1, 2, 3]);
    await assert.rejects(
      (async () => {
        for await (const _ of pool.imapUnordered("failOn", [13])) {
          /* nothing */
        }
      })(),
      /unlucky 13/,
    );
    assert.equal(await pool.apply("inc", [1]), 2);
  });
});

Deno.test("Pool whose module exits while loading fails its tasks instead of respawning forever", async () => {
  const exiting = "data:text/javascript," +
    encodeURIComponent("Deno.exit(2); export const f = () => 1;");
  const pool = new Pool({ module: exiting, size: 1 });
  try {
    await assert.rejects(
      withTimeout(pool.apply("f"), 20_000, "apply"),
      /initializer or module failed/,
    );
    await withTimeout(pool.join(), 20_000, "join");
    assert.equal(pool.stats().workers, 0);
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool with a missing module rejects tasks with the import error as cause", async () => {
  const pool = new Pool({
    module: new URL("./_tasks/pool_no_such_module.ts", import.meta.url),
    size: 1,
  });
  try {
    const error = await withTimeout(
      pool.apply("f").catch((e: Error) => e),
      20_000,
      "apply",
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, /initializer or module failed/);
  } finally {
    pool.terminate();
    await pool.join();
  }
});

Deno.test("Pool: a Queue returned by a task arrives live", async () => {
  await withPool({ size: 1 }, async (pool) => {
    const queue = await pool.apply<Queue<string>>("makeQueue");
    assert.ok(queue instanceof Queue);
    assert.equal(queue.getNowait(), "made in a worker");
    queue.close();
  });
});
