import assert from "node:assert/strict";
import { PROCESS_PERMISSIONS, runExample } from "./_program.ts";

Deno.test("examples/manager_shared/main.ts: 10 processes update one Manager dict and list", async () => {
  const out = await runExample(
    PROCESS_PERMISSIONS,
    "manager_shared/main.ts",
    [],
    { timeout: 90_000 },
  );
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /manager process started \(pid \d+\)/);
  assert.match(
    out.stdout,
    /dict: 11 keys, 10 distinct worker pids, total = 55/,
  );
  assert.match(out.stdout, /list: 1 4 9 16 25 36 49 64 81 100\n/);
  assert.match(out.stdout, /plain array in the parent: \[\]/);
  assert.match(out.stdout, /all 10 processes' updates are there/);
});
