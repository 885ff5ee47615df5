// Pipe ends passed to a Process meet over a Unix socket in a private 0700
// directory when this process has a plain --allow-net (and read/write),
// else over TCP as before (the CI command grants only loopback hosts).
import assert from "node:assert/strict";
import { rendezvous } from "../../ipc/_relay.ts";
import { runDeno, withTimeout } from "../_helpers.ts";

const MAIN = new URL("./pipe_unix_main.ts", import.meta.url).pathname;
const PLAIN_NET = [
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
];

Deno.test("a meeting point has a Unix socket only with full net/read/write here", async () => {
  const full = (["net", "read", "write"] as const).every((name) =>
    Deno.permissions.querySync({ name }).state === "granted"
  );
  const rv = rendezvous(new Uint8Array(32), 5_000, true);
  try {
    assert.equal(rv.path !== undefined, full);
    assert.equal(typeof rv.port, "number"); // TCP is always there
  } finally {
    rv.cancel();
    await rv.accepted.catch(() => {});
  }
  if (rv.path !== undefined) {
    assert.throws(() => Deno.lstatSync(rv.path!), Deno.errors.NotFound);
  }
});

Deno.test("with a plain --allow-net a process Pipe meets over a Unix socket, messages both ways, nothing left behind", async () => {
  const result = await withTimeout(
    runDeno(["run", ...PLAIN_NET, MAIN, "unix"], { timeout: 60_000 }),
    65_000,
    "pipe_unix_main unix",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "ok unix 300");
});

Deno.test("a child without unix net permission falls back to TCP silently and correctly", async () => {
  const result = await withTimeout(
    runDeno(["run", ...PLAIN_NET, MAIN, "fallback"], { timeout: 60_000 }),
    65_000,
    "pipe_unix_main fallback",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "ok tcp 300");
  assert.equal(result.stderr, "");
});
