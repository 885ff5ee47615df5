// The test harness itself: a missing redis-server is never a silent pass,
// and a RedisServer leaves no files behind.
import assert from "node:assert/strict";
import { RedisServer } from "../../cluster/mod.ts";
import { runCommand } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

const FIXTURE = new URL("./_harness_fixture.ts", import.meta.url).pathname;

async function runFixture(env: Record<string, string>) {
  return await runCommand(Deno.execPath(), [
    "test",
    "--no-check",
    "--allow-all",
    FIXTURE,
  ], {
    env: {
      PATH: "/nonexistent",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...env,
    },
    timeout: 60_000,
  });
}

Deno.test("without redis-server a cluster test is ignored with the reason, and fails under CI=true", async () => {
  const local = await runFixture({ CI: "false" });
  assert.equal(local.code, 0, local.stderr);
  assert.match(
    local.stdout,
    /needs redis \(ignored: redis-server not found: install it with/,
  );
  assert.match(local.stdout, /0 passed \| 0 failed \| 1 ignored/);
  const ci = await runFixture({ CI: "true" });
  assert.notEqual(ci.code, 0);
  assert.match(ci.stdout + ci.stderr, /required under CI/);
});

redisTest(
  "RedisServer: binds 127.0.0.1, keeps its files in a temporary folder and removes it on stop",
  async () => {
    const before = [...Deno.readDirSync(".")].map((e) => e.name).sort();
    const server = await RedisServer.start();
    const pid = server.pid!;
    assert.ok(pid > 0);
    assert.match(server.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    await server.stop();
    assert.equal(server.pid, undefined);
    const after = [...Deno.readDirSync(".")].map((e) => e.name).sort();
    assert.deepEqual(after, before);
    await assert.rejects(
      RedisServer.start({ binary: "/nonexistent/redis-server" }),
      TypeError,
    );
  },
);
