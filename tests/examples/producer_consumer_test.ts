import assert from "node:assert/strict";
import { PROCESS_PERMISSIONS, runExample } from "./_program.ts";

Deno.test("examples/producer_consumer/main.ts: threads drain a joinable queue, nothing lost or doubled", async () => {
  const out = await runExample(["--allow-read"], "producer_consumer/main.ts", [
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

Deno.test("examples/producer_consumer/processes.ts: processes drain a Manager queue, nothing lost or doubled", async () => {
  const out = await runExample(
    PROCESS_PERMISSIONS,
    "producer_consumer/processes.ts",
    ["--producers", "2", "--consumers", "2", "--jobs", "20"],
    { timeout: 60_000 },
  );
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(
    out.stdout,
    /2 producer and 2 consumer processes started \(pids \d+ \d+ \d+ \d+\)/,
  );
  assert.match(out.stdout, /queue\.join\(\) returned: all 40 jobs done/);
  const handled = [...out.stdout.matchAll(/consumer-\d handled (\d+) jobs/g)]
    .map((m) => Number(m[1]));
  assert.equal(handled.reduce((a, b) => a + b, 0), 40);
  // 2 producers x (1 + ... + 20)
  assert.match(
    out.stdout,
    /total: 40 jobs handled by 2 processes in \d+ ms, checksum 420 ok/,
  );
});
