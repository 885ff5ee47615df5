import assert from "node:assert/strict";
import {
  findPython,
  flushMicrotasks,
  freePort,
  probe,
  withTimeout,
} from "./_helpers.ts";

Deno.test("withTimeout() rejects a promise that never settles", async () => {
  await assert.rejects(
    withTimeout(new Promise(() => {}), 20, "never"),
    /Timed out after 20 ms: never/,
  );
});

Deno.test("freePort() returns a port that can be bound on 127.0.0.1", () => {
  const port = freePort();
  using listener = Deno.listen({ hostname: "127.0.0.1", port });
  assert.equal((listener.addr as Deno.NetAddr).port, port);
});

Deno.test("probe() reports a promise as pending until it settles", async () => {
  const { promise, resolve } = Promise.withResolvers<void>();
  const p = probe(promise);
  await flushMicrotasks();
  assert.equal(p.settled, false);
  resolve();
  await flushMicrotasks();
  assert.equal(p.settled, true);
});

Deno.test("findPython() finds the Python 3.11 this project tests against", () => {
  const python = findPython("3.11");
  assert.ok(python, "Python 3.11 must be installed for the interop tests");
});
