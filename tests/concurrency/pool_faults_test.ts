// Issue #20 part 2: a Pool under faults. Arguments and results that cannot be
// cloned, hung tasks, workers that close themselves, recycled workers, locks
// held by killed tasks, and workers Deno cannot stop.
import assert from "node:assert/strict";
import { AbandonedLockError, Lock } from "../../concurrency/lock.ts";
import { Pool } from "../../concurrency/pool.ts";
import { activeCount } from "../../concurrency/thread.ts";
import { withTimeout } from "../_helpers.ts";
import { ints, sleep } from "./_sync_helpers.ts";

const module = new URL("./_tasks/pool_tasks.ts", import.meta.url);

async function closed(pool: Pool): Promise<void> {
  pool.close();
  await withTimeout(pool.join(), 20_000, "pool to close");
}

async function until(check: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await sleep(5);
    })(),
    15_000,
    what,
  );
}

Deno.test("Pool: a function or Symbol argument among calls of one tick rejects only that call", async () => {
  const pool = new Pool({ module, size: 2 });
  try {
    const results = await withTimeout(
      Promise.allSettled([
        pool.apply("inc", [1]),
        pool.apply("inc", [() => 1]),
        pool.apply("inc", [Symbol("s")]),
        pool.apply("inc", [{ nested: () => 1 }]),
        pool.apply("inc", [2]),
      ]),
      20_000,
    );
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    for (const r of results.slice(1, 4)) {
      assert.equal((r as PromiseRejectedResult).reason.name, "DataCloneError");
    }
    assert.equal(pool.stats().queued, 0);
    // no phantom task: the pool closes and joins
    await closed(pool);
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool: an uncloneable argument on an idle pool leaves no phantom task", async () => {
  const pool = new Pool({ module, size: 1 });
  try {
    assert.equal(await pool.apply("inc", [1]), 2); // idle now
    await assert.rejects(pool.apply("inc", [() => 1]), {
      name: "DataCloneError",
    });
    assert.equal(pool.stats().queued, 0);
    await closed(pool);
  } finally {
    pool.terminate();
  }
});

for (const size of [1, 2]) {
  Deno.test(`Pool(size ${size}): a task returning a function or Symbol rejects once; no crash loop, no wedge`, async () => {
    const pool = new Pool({ module, size });
    const runs = ints(1);
    try {
      const calls = [
        pool.apply("inc", [1]),
        pool.apply("returnsFunction", [runs]),
        pool.apply("returnsSymbol"),
        pool.apply("inc", [2]),
      ];
      const results = await withTimeout(Promise.allSettled(calls), 20_000);
      assert.deepEqual(results.map((r) => r.status), [
        "fulfilled",
        "rejected",
        "rejected",
        "fulfilled",
      ]);
      assert.equal(
        (results[1] as PromiseRejectedResult).reason.name,
        "DataCloneError",
      );
      assert.equal(Atomics.load(runs, 0), 1); // ran exactly once
      assert.equal(await withTimeout(pool.apply("inc", [9]), 20_000), 10);
      assert.equal(pool.stats().failed, 2);
      await closed(pool);
    } finally {
      pool.terminate();
    }
  });
}

Deno.test("Pool: a hung task's timeout never re-runs the tasks its worker had finished; stats() counts the unstoppable worker", async () => {
  const pool = new Pool({ module, size: 1, taskTimeout: 300 });
  const runs = ints(49);
  const flags = ints(2);
  try {
    const quick = Array.from(
      { length: 49 },
      (_, i) => pool.apply("countRun", [runs, i]),
    );
    const hung = pool.apply("spinUntil", [flags, 20_000]);
    await assert.rejects(withTimeout(hung, 20_000), { name: "TimeoutError" });
    const settled = await withTimeout(Promise.allSettled(quick), 20_000);
    for (const r of settled) {
      if (r.status === "rejected") {
        assert.match(String(r.reason), /it ran, but its worker was replaced/);
      }
    }
    // The replacement works, and nothing ran twice.
    assert.equal(await withTimeout(pool.apply("inc", [1]), 20_000), 2);
    assert.deepEqual([...runs], new Array(49).fill(1));
    // The old worker still spins: Deno cannot stop it, and stats() says so.
    await until(() => pool.stats().unstoppable === 1, "unstoppable count");
    assert.ok(Atomics.load(flags, 1) > 0);
    Atomics.store(flags, 0, 1); // let it return: then it stops for good
    await until(() => pool.stats().unstoppable === 0, "zombie to end");
    assert.deepEqual([...runs], new Array(49).fill(1));
    await closed(pool);
  } finally {
    Atomics.store(flags, 0, 1);
    pool.terminate();
  }
});

Deno.test("Pool: self.close() inside a task fails that task and the pool goes on", async () => {
  const pool = new Pool({ module, size: 1 });
  try {
    const closing = pool.apply("closeSelf");
    const after = pool.apply("inc", [41]);
    await assert.rejects(withTimeout(closing, 20_000), /worker exited/);
    assert.equal(await withTimeout(after, 20_000), 42);
    await closed(pool);
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool: recycled workers give their thread idents back", async () => {
  const before = activeCount();
  const lock = new Lock();
  const pool = new Pool({ module, size: 2, maxTasksPerWorker: 1 });
  try {
    const all = Array.from(
      { length: 12 },
      () => pool.apply("touchLock", [lock]),
    );
    await withTimeout(Promise.all(all), 60_000);
    await closed(pool);
    await until(() => activeCount() === before, "idents to be freed");
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool: a lock held by a task whose worker was stopped is recovered as abandoned", async () => {
  const lock = new Lock();
  const pool = new Pool({ module, size: 1, taskTimeout: 200 });
  try {
    await assert.rejects(
      withTimeout(pool.apply("holdLockForever", [lock]), 20_000),
      { name: "TimeoutError" },
    );
    const error = await withTimeout(
      lock.acquire().then(() => undefined, (e) => e),
      10_000,
    );
    assert.ok(error instanceof AbandonedLockError, String(error));
    lock.release();
  } finally {
    pool.terminate();
    await pool.join();
  }
});

Deno.test("Pool: a lock held by a task that cannot be stopped stays held until the task really ends", async () => {
  const lock = new Lock();
  const flags = ints(2);
  const pool = new Pool({ module, size: 1, taskTimeout: 200 });
  try {
    await assert.rejects(
      withTimeout(pool.apply("holdLockAndSpin", [lock, flags]), 20_000),
      { name: "TimeoutError" },
    );
    assert.equal(await lock.acquire({ timeout: 300 }), false);
    Atomics.store(flags, 0, 1);
    const error = await withTimeout(
      lock.acquire().then(() => undefined, (e) => e),
      10_000,
    );
    assert.ok(error instanceof AbandonedLockError, String(error));
    lock.release();
  } finally {
    Atomics.store(flags, 0, 1);
    pool.terminate();
    await pool.join();
  }
});

Deno.test("Pool: past maxUnstoppable a timed-out worker is not replaced and tasks fail clearly", async () => {
  const flags = ints(2);
  const pool = new Pool({
    module,
    size: 1,
    taskTimeout: 200,
    maxUnstoppable: 0,
  });
  try {
    await assert.rejects(
      withTimeout(pool.apply("spinUntil", [flags, 20_000]), 20_000),
      /maxUnstoppable/,
    );
    await assert.rejects(
      withTimeout(pool.apply("inc", [1]), 20_000),
      /could not be stopped/,
    );
    Atomics.store(flags, 0, 1); // the stuck worker ends: a new one starts
    await until(() => pool.stats().workers === 1, "replacement");
    assert.equal(await withTimeout(pool.apply("inc", [1]), 20_000), 2);
    await closed(pool);
  } finally {
    Atomics.store(flags, 0, 1);
    pool.terminate();
  }
});
