import assert from "node:assert/strict";
import { PROCESS_PERMISSIONS, runExample } from "./_program.ts";

Deno.test("examples/cpu_vs_io/main.ts: measures async, threads and processes on both workloads", async () => {
  const out = await runExample(PROCESS_PERMISSIONS, "cpu_vs_io/main.ts", [
    "--tasks",
    "4",
    "--limit",
    "20000",
    "--delay",
    "50",
  ], { timeout: 90_000 });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(
    out.stdout,
    /4 CPU tasks \(primes below 20000\) and 4 I\/O tasks \(50 ms each\), \d+ cores/,
  );
  // Each way ran both workloads with correct results (the program checks
  // them) and printed a timing; no assertion on the timings themselves.
  assert.match(out.stdout, /async \(main thread\)\s+\d+ ms\s+\d+ ms/);
  assert.match(out.stdout, /threads \(Pool of \d+\)\s+\d+ ms\s+\d+ ms/);
  assert.match(out.stdout, /processes \(\d+\)\s+\d+ ms\s+\d+ ms/);
  assert.match(
    out.stdout,
    /Rule of thumb: async for waiting, a worker Pool for computing/,
  );
});
