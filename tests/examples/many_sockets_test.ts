import assert from "node:assert/strict";
import { example, runExample, startProgram } from "./_program.ts";

// The exact permissions of the example's header lines.
const NET = ["--allow-net=127.0.0.1"];

Deno.test("examples/many_sockets.ts serves 100 open connections from one event loop", async () => {
  const out = await runExample(NET, "many_sockets.ts", [
    "--clients",
    "100",
    "--messages",
    "5",
  ], { timeout: 30_000 });
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /100 clients, 500 lines echoed in \d+ ms by one server thread \(server: open=100 max=100 served=0\)/,
  );
});

Deno.test("examples/many_sockets.ts server mode answers its clients mode", async () => {
  await using server = await startProgram(
    [example("many_sockets.ts"), "server", "--port", "0"],
    /serving on 127\.0\.0\.1:(\d+)/,
    { permissions: NET },
  );
  const port = server.match[1];
  for (const round of [1, 2]) {
    const out = await runExample(NET, "many_sockets.ts", [
      "clients",
      "--port",
      port,
      "--clients",
      "20",
      "--messages",
      "3",
    ], { timeout: 30_000 });
    assert.equal(out.code, 0, out.stderr);
    const m = out.stdout.match(
      /20 clients, 60 lines echoed .* \(server: open=(\d+) max=(\d+) served=(\d+)\)/,
    );
    assert.ok(m, out.stdout);
    const [open, max, served] = m.slice(1).map(Number);
    // Every connection so far is either still open or served (the first
    // round's closes may still be in flight when the second round asks).
    assert.equal(open + served, 20 * round);
    assert.ok(open >= 20 && max >= 20);
  }
});
