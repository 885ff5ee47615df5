import assert from "node:assert/strict";
import { runExample } from "./_program.ts";

Deno.test("examples/pool/main.ts: callbacks fire per task, errorCallback gets the failure, map keeps order", async () => {
  const out = await runExample(["--allow-read"], "pool/main.ts", [
    "--size",
    "3",
    "--tasks",
    "6",
  ], { timeout: 60_000 });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const callbacks = [
    ...out.stdout.matchAll(/callback: task (\d) finished on worker (\w{4})/g),
  ];
  assert.deepEqual(callbacks.map((m) => Number(m[1])).sort(), [
    1,
    2,
    3,
    4,
    5,
    6,
  ]);
  const workers = new Set(callbacks.map((m) => m[2]));
  assert.ok(workers.size >= 1 && workers.size <= 3, `${workers.size} workers`);
  assert.match(
    out.stdout,
    new RegExp(
      `applyAsync: 6 callbacks from ${workers.size} different workers`,
    ),
  );
  assert.match(
    out.stdout,
    /errorCallback: Cannot handle 13: it is unlucky \(2 of 3 tasks succeeded\)/,
  );
  assert.match(
    out.stdout,
    /map cube 1\.\.10: 1 8 27 64 125 216 343 512 729 1000/,
  );
  assert.match(out.stdout, /imapUnordered: 5 results/);
  assert.match(out.stdout, /pool closed and joined\n$/);
});
