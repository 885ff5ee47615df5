// Run by pipe_unix_test.ts in a subprocess with a plain --allow-net:
// `deno run ... pipe_unix_main.ts unix|fallback`. A Pipe end passed to a
// Process meets its peer over a Unix socket in a private 0700 directory
// (or, "fallback": the child may not use it, so TCP), messages flow both
// ways exactly, and no directory or socket file is left behind.
import assert from "node:assert/strict";
import { EOFError, Pipe, Process } from "../../ipc/mod.ts";
import { lastUnixMeeting, rendezvous } from "../../ipc/_relay.ts";

const mode = Deno.args[0];
assert.ok(mode === "unix" || mode === "fallback", "usage: unix|fallback");

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    assert.ok(error instanceof Deno.errors.NotFound);
    return false;
  }
}

// The meeting point itself: a socket in a new 0700 directory, removed on cancel.
const rv = rendezvous(new Uint8Array(32), 10_000, true);
assert.ok(rv.path !== undefined, "a Unix socket with a plain --allow-net");
const dir = rv.path.slice(0, rv.path.lastIndexOf("/"));
assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
assert.ok(Deno.lstatSync(rv.path).isSocket);
rv.cancel();
await rv.accepted.catch(() => {});
assert.equal(exists(dir), false);

const N = 300;
const module = "data:text/javascript," + encodeURIComponent(`
export async function echo(conn, n) {
  await conn.send({ hello: "from the child" });
  for (let i = 0; i < n + 1; i++) {
    const m = await conn.recv();
    await conn.send({ i: m.i, twice: m.i * 2, s: m.s + "!" });
  }
  conn.close();
}`);
const [here, there] = Pipe();
await here.send({ i: -1, s: "queued before start" }); // carried in the handle
const p = new Process({
  module,
  fn: "echo",
  args: [there, N],
  permissions: mode === "fallback"
    ? ["--allow-net=127.0.0.1", "--allow-read", "--allow-write", "--allow-env"]
    : undefined,
});
await p.start();
assert.deepEqual(await here.recv(), { hello: "from the child" });
assert.deepEqual(await here.recv(), {
  i: -1,
  twice: -2,
  s: "queued before start!",
});
const met = lastUnixMeeting();
assert.ok(met?.path !== undefined);
assert.equal(met.transport, mode === "unix" ? "unix" : "tcp");
// met: the socket file and its directory are gone
assert.equal(exists(met.path), false);
assert.equal(exists(met.path.slice(0, met.path.lastIndexOf("/"))), false);

// 16 in flight at a time, every reply exactly once and in order
let next = 0;
for (let sent = 0; sent < N;) {
  const burst = Math.min(16, N - sent);
  for (let k = 0; k < burst; k++) {
    await here.send({ i: sent + k, s: "m" + (sent + k) });
  }
  sent += burst;
  for (let k = 0; k < burst; k++, next++) {
    assert.deepEqual(await here.recv(), {
      i: next,
      twice: next * 2,
      s: "m" + next + "!",
    });
  }
}
assert.equal(next, N);
await assert.rejects(here.recv(), EOFError); // the child closed its end
here.close();
await p.join();
assert.equal(p.exitCode, 0);
console.log(`ok ${met.transport} ${N}`);
