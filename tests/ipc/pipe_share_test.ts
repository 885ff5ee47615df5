// Pipe ends and socket connections handed to workers (Thread) and processes.
import assert from "node:assert/strict";
import { Thread } from "../../concurrency/thread.ts";
import {
  Client,
  type Connection,
  EOFError,
  Listener,
  Pipe,
  Process,
} from "../../ipc/mod.ts";
import { withTimeout } from "../_helpers.ts";

const FIXTURES = new URL("./_fixtures.ts", import.meta.url);

Deno.test("Pipe end passed to a Thread arrives live (rewired onto shared memory) and echoes", async () => {
  const [here, there] = Pipe();
  const t = new Thread({ module: FIXTURES, fn: "echo", args: [there] });
  try {
    t.start();
    assert.equal(there.closed, true);
    for (const v of [1, { a: new Set([2]) }, 3n]) {
      await here.send(v);
      assert.deepEqual(await withTimeout(here.recv(), 20_000), v);
    }
    here.close();
    await withTimeout(t.join(), 20_000, "join");
  } finally {
    here.close();
  }
});

Deno.test("Pipe(false) write end passed to a Thread: the worker sends, the parent receives", async () => {
  const [reader, writer] = Pipe(false);
  const t = new Thread({ module: FIXTURES, fn: "add", args: [writer, 20, 22] });
  try {
    t.start();
    assert.equal(await withTimeout(reader.recv(), 20_000), 42);
    await assert.rejects(withTimeout(reader.recv(), 20_000), EOFError);
    await withTimeout(t.join(), 20_000);
  } finally {
    reader.close();
  }
});

/** Both ends of an authenticated TCP connection (Client, accepted). */
async function socketPair(): Promise<[Connection, Connection]> {
  using listener = new Listener({
    address: { hostname: "127.0.0.1", port: 0 },
    authkey: "k",
  });
  const accepted = listener.accept();
  const client = await withTimeout(
    Client(listener.address, { authkey: "k" }),
    20_000,
  );
  return [client, await withTimeout(accepted, 20_000)];
}

Deno.test("a socket Connection passed to a Thread is relayed through a port", async () => {
  const [client, server] = await socketPair();
  const t = new Thread({ module: FIXTURES, fn: "echoBytes", args: [server] });
  try {
    t.start();
    for (const n of [0, 1, 70_000]) {
      const m = new Uint8Array(n).fill(n % 256);
      await client.sendBytes(m);
      assert.deepEqual(await withTimeout(client.recvBytes(), 20_000), m);
    }
    client.close();
    await withTimeout(t.join(), 20_000);
  } finally {
    client.close();
  }
});

Deno.test("a socket Connection passed to a Process is relayed; bytes echo intact", async () => {
  const [client, server] = await socketPair();
  const p = new Process({ module: FIXTURES, fn: "echoBytes", args: [server] });
  try {
    await withTimeout(p.start(), 30_000);
    for (const n of [0, 1, 1 << 20]) {
      const m = new Uint8Array(n).fill(7);
      await client.sendBytes(m);
      assert.deepEqual(await withTimeout(client.recvBytes(), 20_000), m);
    }
    client.close();
    await withTimeout(p.join(), 30_000);
    assert.equal(p.exitCode, 0);
  } finally {
    client.close();
    await p[Symbol.asyncDispose]();
  }
});

Deno.test("a closed Connection cannot be shared (TypeError)", async () => {
  const [a, b] = Pipe();
  a.close();
  await assert.rejects(
    () => new Process({ module: FIXTURES, fn: "add", args: [a] }).start(),
    TypeError,
  );
  b.close();
});

Deno.test("Pipe end reaches a Thread whose module has only type imports of ipc", async () => {
  const [here, there] = Pipe();
  const t = new Thread({
    module: new URL("./_tasks/type_only_echo.ts", import.meta.url),
    fn: "echoOnce",
    args: [there],
  });
  try {
    t.start();
    await here.send({ hello: [1, 2] });
    assert.deepEqual(await withTimeout(here.recv(), 20_000, "echo"), {
      hello: [1, 2],
    });
    assert.equal(await withTimeout(t.join(), 20_000, "join"), "echoed");
  } finally {
    here.close();
  }
});

// ---- #19: direct pipes (no relay through this thread)
Deno.test("Pipe end passed to a Process talks to its peer directly: no relay runs here; order and 1 MiB kept", async () => {
  const { activeRelays } = await import("../../ipc/_relay.ts");
  const [here, there] = Pipe();
  await here.send("queued before the move"); // lands in the moving end's queue
  const p = new Process({ module: FIXTURES, fn: "echo", args: [there] });
  try {
    await withTimeout(p.start(), 30_000);
    assert.equal(
      await withTimeout(here.recv(), 20_000),
      "queued before the move",
    );
    for (const v of [1, new Uint8Array(1 << 20).fill(3), { k: 2n }]) {
      await here.send(v);
      assert.deepEqual(await withTimeout(here.recv(), 20_000), v);
    }
    assert.equal(activeRelays(), 0);
    here.close();
    await withTimeout(p.join(), 30_000);
    assert.equal(p.exitCode, 0);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

Deno.test("Pipe ends passed to two Threads talk over shared memory, worker to worker, no relay", async () => {
  const { activeRelays } = await import("../../ipc/_relay.ts");
  const [a, b] = Pipe();
  const [ctlHere, ctlThere] = Pipe();
  // a goes to an echo worker; b to a worker that sends 3 values through it
  // and reports what came back on the control pipe
  const echo = new Thread({ module: FIXTURES, fn: "echo", args: [a] });
  echo.start();
  const asker = new Thread({
    module: FIXTURES,
    fn: "askThrough",
    args: [b, ctlThere, [1, "two", new Uint8Array(300_000).fill(9)]],
  });
  asker.start();
  try {
    const got = await withTimeout(ctlHere.recv<unknown[]>(), 20_000);
    assert.deepEqual(got, [1, "two", new Uint8Array(300_000).fill(9)]);
    assert.equal(activeRelays(), 0);
    await withTimeout(asker.join(), 20_000);
    await withTimeout(echo.join(), 20_000);
  } finally {
    ctlHere.close();
  }
});
