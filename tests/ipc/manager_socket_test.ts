// The manager's socket transport: framing faults and the authkey handshake,
// against a ManagerServer listening on 127.0.0.1 in this process.
import assert from "node:assert/strict";
import { runDeno, TEST_PERMISSIONS, withTimeout } from "../_helpers.ts";
import { AuthenticationError } from "../../auth/authentication_error.ts";
import { listenManager, openClient } from "../../ipc/_manager_net.ts";
import { decodeReply, encodeBody } from "../../ipc/_manager_codec.ts";
import { ROOT_ID } from "../../ipc/_manager_protocol.ts";
import { ManagerServer } from "../../ipc/_manager_server.ts";
import { SocketChannel } from "../../ipc/_manager_transport.ts";
import { RemoteError } from "../../ipc/manager_error.ts";
import { Manager } from "../../ipc/manager.ts";
import { EOFError } from "../../ipc/_wire.ts";

const KEY = new TextEncoder().encode("socket test key");

async function withListener(
  body: (address: { hostname: string; port: number }) => Promise<void>,
  maxFrame?: number,
): Promise<void> {
  const server = new ManagerServer({ maxFrame });
  const listener = listenManager(
    server,
    { hostname: "127.0.0.1", port: 0 },
    KEY,
  );
  try {
    await withTimeout(
      body(listener.address as { hostname: string; port: number }),
      15_000,
      "socket test",
    );
  } finally {
    listener.close();
    server.close();
    await listener.finished;
  }
}

Deno.test("openClient(): a wrong authkey rejects with AuthenticationError; the listener keeps serving", async () => {
  await withListener(async (address) => {
    await assert.rejects(
      openClient(address, new TextEncoder().encode("wrong")),
      AuthenticationError,
    );
    const client = await openClient(address, KEY);
    try {
      assert.equal(await client.call(ROOT_ID, "ping", []), "pong");
    } finally {
      client.close();
      await client.finished;
    }
  });
});

Deno.test("SocketChannel: an oversize request is skipped with a RangeError reply; the same connection keeps serving", async () => {
  await withListener(async (address) => {
    const client = await openClient(address, KEY);
    try {
      const big = "x".repeat(200_000);
      await assert.rejects(
        client.call(ROOT_ID, "ping", [big]),
        (error: unknown) =>
          error instanceof RemoteError && error.remoteName === "RangeError" &&
          /exceeds the 65536-byte cap/.test(error.message),
      );
      assert.equal(await client.call(ROOT_ID, "ping", []), "pong");
    } finally {
      client.close();
      await client.finished;
    }
  }, 65_536);
});

Deno.test("listener: a peer that skips the handshake gets the challenge, then the socket closes, never a reply", async () => {
  await withListener(async (address) => {
    // A raw socket that skips the handshake and sends a protocol frame.
    const conn = await Deno.connect(address);
    try {
      const body = encodeBody({ t: "call", o: ROOT_ID, m: "ping", a: [] });
      const frame = new Uint8Array(8 + body.length);
      new DataView(frame.buffer).setUint32(0, body.length + 4);
      new DataView(frame.buffer).setUint32(4, 1);
      frame.set(body, 8);
      await conn.write(frame).catch(() => 0);
      // The server's challenge arrives, then the socket closes: never a reply.
      const seen: number[] = [];
      const buffer = new Uint8Array(1024);
      while (true) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        seen.push(...buffer.subarray(0, n));
      }
      const text = new TextDecoder().decode(new Uint8Array(seen));
      assert.match(text, /#CHALLENGE#/);
      assert.doesNotMatch(text, /pong/);
      assert.throws(() => decodeReply(new Uint8Array(seen)));
    } finally {
      conn.close();
    }
  });
});

Deno.test("SocketChannel.drain(): 200 frames in one write, then a frame split into single bytes, arrive whole and in order", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const channel = new SocketChannel(await listener.accept());
  const raw = await peer;
  const frame = (id: number, size: number) => {
    const out = new Uint8Array(8 + size);
    new DataView(out.buffer).setUint32(0, size + 4);
    new DataView(out.buffer).setUint32(4, id);
    out.fill(id & 0xff, 8);
    return out;
  };
  try {
    const seen: [number, number, boolean][] = [];
    const drained = channel.drain((id, body) => {
      seen.push([
        id,
        body!.length,
        body!.every((byte) => byte === (id & 0xff)),
      ]);
    });
    const burst = Array.from({ length: 200 }, (_, i) => frame(i, i * 13));
    const all = new Uint8Array(burst.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of burst) {
      all.set(f, at);
      at += f.length;
    }
    await raw.write(all);
    for (const byte of frame(500, 40)) await raw.write(new Uint8Array([byte]));
    raw.close();
    await withTimeout(drained, 10_000, "drain ends at EOF");
    assert.deepEqual(
      seen.map(([id]) => id),
      [...Array.from({ length: 200 }, (_, i) => i), 500],
    );
    for (const [id, size, whole] of seen) {
      assert.equal(size, id === 500 ? 40 : id * 13, `frame ${id} size`);
      assert.equal(whole, true, `frame ${id} bytes`);
    }
  } finally {
    channel.close();
    listener.close();
  }
});

Deno.test("Manager.connect(): an idle connection does not keep its process alive; a pending call does, until its reply", async () => {
  await using server = await Manager.serve({ port: 0, authkey: "idle key" });
  await server.dict<string, number>({ key: 7 }, { name: "d" });
  const queue = await server.Queue<string>({ name: "q" });
  const port = (server.address as { port: number }).port;
  const task = new URL("./_tasks/manager_idle_client.ts", import.meta.url);
  const run = (mode: string) =>
    runDeno(["run", ...TEST_PERMISSIONS, task.pathname], {
      stdin: JSON.stringify({ port, authkey: "idle key", mode }),
      timeout: 20_000, // killed (code 137) if it hangs
    });
  // one call, then idle with the connection open: exits by itself
  const idle = await run("get");
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(idle.stdout.trim(), "got 7");
  // a call waiting on the server keeps the process alive until answered
  const waiting = run("wait");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await queue.put("late item");
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal(waited.stdout.trim(), "got late item");
});

Deno.test("Manager.start(): the manager killed while this client is idle — the next call rejects with EOFError, no hang", async () => {
  const manager = await Manager.start();
  try {
    const dict = await manager.dict<string, number>({ key: 1 });
    assert.equal(await dict.get("key"), 1);
    Deno.kill(manager.pid!, "SIGKILL");
    // nothing is read while idle: the loss is found by the next call
    await new Promise((resolve) => setTimeout(resolve, 200));
    await assert.rejects(
      withTimeout(dict.get("key"), 5_000, "call after the manager died"),
      (error: unknown) =>
        error instanceof EOFError &&
        /connection to the manager was lost|could not be sent/.test(
          error.message,
        ),
    );
    await assert.rejects(dict.size(), EOFError);
    assert.equal(manager.closed, true);
  } finally {
    await manager.shutdown();
  }
});
