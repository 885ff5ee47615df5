// `deno task demo:cluster` end to end: three node processes, one
// SIGKILLed, every job and frame done.
import assert from "node:assert/strict";
import { runDeno } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

redisTest(
  "demo:cluster — a killed node's job and pool task are redelivered and join() returns",
  async () => {
    const out = await runDeno([
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      new URL("../../examples/cluster/demo.ts", import.meta.url).pathname,
    ], { timeout: 60_000 });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /SIGKILL node A/);
    assert.match(out.stdout, /job \d+ start \(delivery 2: redelivered\)/);
    assert.match(out.stdout, /pool task \S+ start \(delivery 2: redelivered\)/);
    assert.match(out.stdout, /jobs\.join\(\) -> true/);
    assert.match(out.stdout, /FLEET OK/);
  },
);
