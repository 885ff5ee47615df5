// Issue #19: a lone task on an idle pool returns through a shared-memory
// mailbox when its result is a number, boolean, null or undefined; every
// other outcome still goes by postMessage. Both must give the same answers.
import assert from "node:assert/strict";
import { Pool } from "../../concurrency/pool.ts";
import { withTimeout } from "../_helpers.ts";

const module = new URL("./_tasks/pool_tasks.ts", import.meta.url);

Deno.test("Pool lone tasks: every kind of result comes back exactly, by either path", async () => {
  const pool = new Pool({ module, size: 1 });
  try {
    const values: unknown[] = [
      0,
      -0,
      1.5,
      Number.MAX_SAFE_INTEGER,
      NaN,
      Infinity,
      true,
      false,
      null,
      undefined,
      "text",
      { a: [1, "b"] },
      [1, 2, 3],
      10n,
    ];
    for (const fn of ["echo", "echoLater"]) {
      for (const value of values) {
        const got = await withTimeout(pool.apply(fn, [value]), 10_000);
        assert.ok(
          Object.is(got, value) || (typeof value === "object" &&
            JSON.stringify(got) === JSON.stringify(value)),
          `${fn}(${String(value)})`,
        );
        if (typeof value === "object" && value !== null) {
          assert.deepEqual(got, value);
        }
      }
    }
    await assert.rejects(pool.apply("fail", ["lone"]), {
      name: "RangeError",
      message: "lone",
    });
    assert.equal(pool.stats().completed, 2 * values.length);
  } finally {
    pool.terminate();
    await pool.join();
  }
});

Deno.test("Pool lone tasks mixed with bursts: every result reaches its own caller", async () => {
  const pool = new Pool({ module, size: 2 });
  try {
    for (let round = 0; round < 50; round++) {
      const lone = await pool.apply<number>("inc", [round]);
      assert.equal(lone, round + 1);
      const burst = await Promise.all(
        Array.from({ length: 10 }, (_, i) => pool.apply<number>("inc", [i])),
      );
      assert.deepEqual(burst, Array.from({ length: 10 }, (_, i) => i + 1));
      // a lone task whose result is posted, then a lone one by mailbox
      assert.equal(await pool.apply("echo", ["s" + round]), "s" + round);
      assert.equal(await pool.apply("echo", [round]), round);
    }
  } finally {
    pool.terminate();
    await pool.join();
  }
});
