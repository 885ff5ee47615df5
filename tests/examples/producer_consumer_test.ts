import assert from "node:assert/strict";
import { runDeno } from "../_helpers.ts";
import { example } from "./_program.ts";

Deno.test("examples/producer_consumer/main.ts: threads drain a joinable queue, nothing lost or doubled", async () => {
  const out = await runDeno([
    "run",
    "--allow-read",
    example("producer_consumer/main.ts"),
    "--producers",
    "3",
    "--consumers",
    "2",
    "--jobs",
    "50",
    "--maxsize",
    "4",
  ], { timeout: 60_000 });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.equal(out.stdout.match(/producer-\d put 50 jobs/g)?.length, 3);
  assert.match(out.stdout, /queue\.join\(\) returned: all 150 jobs done/);
  const handled = [...out.stdout.matchAll(/consumer-\d handled (\d+) jobs/g)]
    .map((m) => Number(m[1]));
  assert.equal(handled.length, 2);
  assert.equal(handled[0] + handled[1], 150);
  // 3 producers x (1 + ... + 50)
  assert.match(
    out.stdout,
    /total: 150 jobs handled by 2 threads in \d+ ms, checksum 3825 ok/,
  );
});
