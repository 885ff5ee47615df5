// Issue #20 part 1: a Pool with isolation: "process" — a hard stop that is
// real. Workers are Deno child processes; a hung task's process is killed.
import assert from "node:assert/strict";
import { Lock } from "../../concurrency/lock.ts";
import { Pool } from "../../concurrency/pool.ts";
import { withTimeout } from "../_helpers.ts";
import { sleep } from "./_sync_helpers.ts";

const module = new URL("./_tasks/pool_tasks.ts", import.meta.url);

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie entry is dead
  } catch {
    return false;
  }
}

async function closed(pool: Pool): Promise<void> {
  pool.close();
  await withTimeout(pool.join(), 20_000, "pool to close");
}

Deno.test("Pool(isolation: process) runs apply, map and starmap in child processes", async () => {
  const pool = new Pool({ module, size: 2, isolation: "process" });
  try {
    assert.equal(await withTimeout(pool.apply("add", [2, 3]), 30_000), 5);
    assert.deepEqual(
      await withTimeout(pool.map("inc", [1, 2, 3, 4, 5]), 30_000),
      [2, 3, 4, 5, 6],
    );
    assert.deepEqual(
      await withTimeout(pool.starmap("add", [[1, 1], [2, 2]]), 30_000),
      [2, 4],
    );
    const pid = await pool.apply<number>("pid");
    assert.notEqual(pid, Deno.pid);
    await closed(pool);
    assert.equal(alive(pid), false);
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool(isolation: process): a hung task's process is killed for certain; finished tasks never re-run", async () => {
  const dir = await Deno.makeTempDir();
  const pool = new Pool({
    module,
    size: 1,
    isolation: "process",
    taskTimeout: 500,
  });
  try {
    const pid = await withTimeout(pool.apply<number>("pid"), 30_000);
    const quick = Array.from(
      { length: 20 },
      (_, i) => pool.apply("appendRun", [`${dir}/${i}`, i]),
    );
    const hung = pool.apply("spinFor", [60_000]);
    await assert.rejects(withTimeout(hung, 30_000), { name: "TimeoutError" });
    const settled = await withTimeout(Promise.allSettled(quick), 30_000);
    assert.ok(settled.every((r) => r.status === "fulfilled"));
    for (let i = 0; i < 20; i++) {
      assert.equal(await Deno.readTextFile(`${dir}/${i}`), `${i}\n`);
    }
    // killed, not left running
    await withTimeout(
      (async () => {
        while (alive(pid)) await sleep(10);
      })(),
      10_000,
      "the hung process to be gone",
    );
    assert.equal(pool.stats().unstoppable, 0);
    assert.equal(await withTimeout(pool.apply("inc", [1]), 30_000), 2);
    await closed(pool);
  } finally {
    pool.terminate();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Pool(isolation: process): uncloneable or memory-only arguments reject just that call", async () => {
  const pool = new Pool({ module, size: 1, isolation: "process" });
  try {
    const results = await withTimeout(
      Promise.allSettled([
        pool.apply("inc", [1]),
        pool.apply("inc", [() => 1]),
        pool.apply("inc", [new Lock()]),
        pool.apply("inc", [2]),
      ]),
      30_000,
    );
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
    assert.ok(
      (results[2] as PromiseRejectedResult).reason instanceof TypeError,
    );
    await closed(pool);
  } finally {
    pool.terminate();
  }
});

Deno.test("Pool(isolation: process): Deno.exit() and a thrown error in a task fail only that task", async () => {
  const pool = new Pool({ module, size: 1, isolation: "process" });
  try {
    await assert.rejects(
      withTimeout(pool.apply("fail", ["bad"]), 30_000),
      { name: "RangeError", message: "bad" },
    );
    const exiting = pool.apply("exitNow");
    const after = pool.apply("inc", [41]);
    await assert.rejects(withTimeout(exiting, 30_000), /worker exited/);
    assert.equal(await withTimeout(after, 30_000), 42);
    await closed(pool);
  } finally {
    pool.terminate();
  }
});
