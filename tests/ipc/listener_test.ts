import assert from "node:assert/strict";
import { AuthenticationError } from "../../auth/mod.ts";
import { Client, Connection, Listener } from "../../ipc/mod.ts";
import { flushMicrotasks, probe, runDeno, withTimeout } from "../_helpers.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

function portOf(listener: Listener): number {
  return (listener.address as { port: number }).port;
}

/** Resolves when `pred()` holds (polled), bounded by withTimeout. */
async function until(pred: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!pred()) await new Promise((r) => setTimeout(r, 10));
    })(),
    10_000,
    what,
  );
}

// ---- construction
Deno.test("new Listener() binds port 0 to a real port and reports it in .address", () => {
  using listener = new Listener({ address: LOCAL });
  assert.equal(
    (listener.address as { hostname: string }).hostname,
    "127.0.0.1",
  );
  assert.ok(portOf(listener) > 0);
});

Deno.test("new Listener() rejects bad options with TypeError/RangeError", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Listener({ address: {} as any }), TypeError);
  assert.throws(() => new Listener({ address: LOCAL, authkey: "" }), TypeError);
  assert.throws(() => new Listener({ address: LOCAL, backlog: 0 }), RangeError);
  assert.throws(
    () => new Listener({ address: LOCAL, handshakeTimeout: -1 }),
    TypeError,
  );
});

// ---- happy path
Deno.test("Listener.accept() returns an authenticated connection to Client()", async () => {
  using listener = new Listener({ address: LOCAL, authkey: "k" });
  const accepted = listener.accept();
  using client = await withTimeout(
    Client(listener.address, { authkey: "k" }),
    10_000,
  );
  using server = await withTimeout(accepted, 10_000);
  await client.send({ a: 1 });
  assert.deepEqual(await server.recv(), { a: 1 });
  await server.send("back");
  assert.equal(await client.recv(), "back");
});

Deno.test("Listener and Client work over a Unix socket path, removed on close()", async () => {
  // Deno checks Unix socket paths against --allow-net ("unix:<path>") and a
  // host list cannot name them, so this runs in a child given --allow-net.
  const result = await runDeno([
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    new URL("./_tasks/unix_socket_roundtrip.ts", import.meta.url).pathname,
  ], { timeout: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "ok");
});

Deno.test("Listener without authkey runs no handshake (as Python)", async () => {
  using listener = new Listener({ address: LOCAL });
  const accepted = listener.accept();
  // A raw socket: the first bytes it reads are application bytes.
  const raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: portOf(listener),
  });
  using server = await withTimeout(accepted, 10_000);
  using peer = Connection.fromConn(raw);
  await server.sendBytes(new Uint8Array([9]));
  assert.deepEqual(
    await withTimeout(peer.recvBytes(), 10_000),
    new Uint8Array([9]),
  );
});

Deno.test("Listener async iteration yields connections and ends on close()", async () => {
  const listener = new Listener({ address: LOCAL, authkey: "k" });
  const clients = await Promise.all(
    [1, 2].map(() => Client(listener.address, { authkey: "k" })),
  );
  const seen: Connection[] = [];
  await withTimeout(
    (async () => {
      for await (const conn of listener) {
        seen.push(conn);
        if (seen.length === 2) listener.close();
      }
    })(),
    10_000,
    "iteration",
  );
  assert.equal(seen.length, 2);
  for (const c of [...seen, ...clients]) c.close();
});

// ---- close and abort
Deno.test("Listener.close() rejects a pending accept() with TypeError; accept() after close too", async () => {
  const listener = new Listener({ address: LOCAL });
  const pending = listener.accept();
  const state = probe(pending);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  listener.close();
  await assert.rejects(pending, /listener is closed/);
  await assert.rejects(listener.accept(), TypeError);
  listener.close();
  assert.equal(listener.closed, true);
});

Deno.test("Listener.accept({ signal }) rejects with signal.reason on abort and when already aborted", async () => {
  using listener = new Listener({ address: LOCAL });
  const controller = new AbortController();
  const pending = listener.accept({ signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(listener.accept({ signal: controller.signal }), /stop/);
});

// ---- failures: no slot leaks
Deno.test("Client() with a wrong authkey rejects with AuthenticationError; the listener frees the slot", async () => {
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "right",
    onHandshakeError: (e) => errors.push(e),
  });
  const accepting = listener.accept();
  await assert.rejects(
    withTimeout(Client(listener.address, { authkey: "wrong" }), 10_000),
    AuthenticationError,
  );
  await until(
    () => errors.length === 1 && listener.pendingHandshakes === 0,
    "slot freed",
  );
  assert.ok(errors[0] instanceof AuthenticationError);
  // A good client still gets through.
  using good = await withTimeout(
    Client(listener.address, { authkey: "right" }),
    10_000,
  );
  using server = await withTimeout(accepting, 10_000);
  await good.send(1);
  assert.equal(await server.recv(), 1);
});

Deno.test("Listener drops a silent client at handshakeTimeout and frees its slot", async () => {
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "k",
    // short enough to keep the test quick, long enough that the good
    // client's own handshake below fits in it on a loaded machine
    handshakeTimeout: 1000,
    backlog: 1,
    onHandshakeError: (e) => errors.push(e),
  });
  const accepting = listener.accept();
  const silent = await Deno.connect({
    hostname: "127.0.0.1",
    port: portOf(listener),
  });
  try {
    await until(() => errors.length === 1, "silent client dropped");
    assert.match(errors[0].message, /timed out/);
    assert.equal(listener.pendingHandshakes, 0);
    // With backlog 1, a good client only gets in because the slot was freed.
    using good = await withTimeout(
      Client(listener.address, { authkey: "k" }),
      10_000,
    );
    using server = await withTimeout(accepting, 10_000);
    await good.send("hi");
    assert.equal(await server.recv(), "hi");
  } finally {
    silent.close();
  }
});

Deno.test("Client() times out against a server that never sends a challenge", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  try {
    await assert.rejects(
      withTimeout(
        Client({
          hostname: "127.0.0.1",
          port: (server.addr as Deno.NetAddr).port,
        }, {
          authkey: "k",
          handshakeTimeout: 150,
        }),
        10_000,
      ),
      (e: Error) =>
        e instanceof AuthenticationError &&
        /timed out after 150 ms/.test(e.message),
    );
  } finally {
    (await accepted).close();
    server.close();
  }
});

Deno.test("Listener rejects a client disconnecting mid-handshake without leaking a slot", async () => {
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "k",
    onHandshakeError: (e) => errors.push(e),
  });
  for (let i = 0; i < 5; i++) {
    const raw = await Deno.connect({
      hostname: "127.0.0.1",
      port: portOf(listener),
    });
    const peer = Connection.fromConn(raw);
    await withTimeout(peer.recvBytes(), 10_000); // the challenge
    peer.close(); // vanish before answering
  }
  await until(
    () => errors.length === 5 && listener.pendingHandshakes === 0,
    "all dropped",
  );
  assert.ok(errors.every((e) => e instanceof AuthenticationError));
});

Deno.test("Listener rejects a replayed response from an earlier handshake", async () => {
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "k",
    onHandshakeError: (e) => errors.push(e),
  });
  // Record a real client's answer by sitting in the middle.
  const relay = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relayAccept = relay.accept();
  const clientP = Client({
    hostname: "127.0.0.1",
    port: (relay.addr as Deno.NetAddr).port,
  }, { authkey: "k" });
  const fromClient = Connection.fromConn(await relayAccept);
  const toServer = Connection.fromConn(
    await Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
  );
  const challenge = await toServer.recvBytes();
  await fromClient.sendBytes(challenge);
  const answer = await fromClient.recvBytes();
  await toServer.sendBytes(answer);
  await fromClient.sendBytes(await toServer.recvBytes()); // #WELCOME#
  // finish the client's own challenge of the server through the relay
  await toServer.sendBytes(await fromClient.recvBytes());
  await fromClient.sendBytes(await toServer.recvBytes());
  await toServer.sendBytes(await fromClient.recvBytes());
  const client = await withTimeout(clientP, 10_000);
  const first = await withTimeout(listener.accept(), 10_000);

  // Replay the recorded answer on a fresh connection.
  const replay = Connection.fromConn(
    await Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
  );
  await replay.recvBytes(); // a new challenge
  await replay.sendBytes(answer);
  assert.equal(
    new TextDecoder().decode(await withTimeout(replay.recvBytes(), 10_000)),
    "#FAILURE#",
  );
  await until(
    () => errors.length === 1 && listener.pendingHandshakes === 0,
    "replay rejected",
  );
  for (const c of [replay, client, first, fromClient, toServer]) c.close();
  relay.close();
});

// ---- stress
Deno.test("Listener serves 40 concurrent authenticated clients x 25 messages with nothing lost or crossed", async () => {
  using listener = new Listener({ address: LOCAL, authkey: "stress" });
  const served: Connection[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      served.push(conn);
      (async () => {
        try {
          for await (const v of conn) await conn.send(v);
        } catch { /* closed at the end */ }
      })();
    }
  })();
  const clients = await withTimeout(
    Promise.all(
      Array.from(
        { length: 40 },
        () => Client(listener.address, { authkey: "stress" }),
      ),
    ),
    30_000,
    "connect 40",
  );
  try {
    await withTimeout(
      Promise.all(clients.map(async (c, id) => {
        for (let i = 0; i < 25; i++) {
          await c.send({ id, i });
          assert.deepEqual(await c.recv(), { id, i });
        }
      })),
      60_000,
      "echo",
    );
    assert.equal(served.length, 40);
  } finally {
    for (const c of clients) c.close();
    listener.close();
    await serving;
    for (const c of served) c.close();
  }
});

// ---- #20: silent peers must not delay anyone else's handshake
Deno.test("Listener (default options): 100 silent sockets do not delay good clients' handshakes", async () => {
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "k",
    onHandshakeError: (e) => errors.push(e),
  });
  const silent: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      silent.push(
        await Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
      );
    }
    // the default handshakeTimeout is 20 s: 4 good clients must be in long before
    const started = performance.now();
    const clients = await withTimeout(
      Promise.all(
        Array.from(
          { length: 4 },
          () => Client(listener.address, { authkey: "k" }),
        ),
      ),
      8_000,
      "good clients authenticated despite 100 silent sockets",
    );
    const servers = await withTimeout(
      Promise.all(clients.map(() => listener.accept())),
      8_000,
    );
    for (const [i, c] of clients.entries()) await c.send(i);
    const got = await Promise.all(servers.map((s) => s.recv<number>()));
    assert.deepEqual(got.sort(), [0, 1, 2, 3]);
    assert.ok(performance.now() - started < 8_000);
    // the listener bounds what silent peers hold: pending handshakes stay
    // at most the backlog (the oldest is dropped first)
    assert.ok(listener.pendingHandshakes <= 64);
    assert.ok(errors.every((e) => e instanceof AuthenticationError));
    for (const c of [...clients, ...servers]) c.close();
  } finally {
    for (const s of silent) s.close();
  }
});

Deno.test("Listener: a crowd of new silent sockets drops silent handshakes first, never a client that already answered", async () => {
  const { answerChallenge, deliverChallenge } = await import(
    "../../auth/mod.ts"
  );
  const errors: Error[] = [];
  using listener = new Listener({
    address: LOCAL,
    authkey: "k",
    backlog: 2,
    onHandshakeError: (e) => errors.push(e),
  });
  const accepting = listener.accept();
  // a real client, paused halfway: it answered the server's challenge
  const client = Connection.fromConn(
    await Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
  );
  await withTimeout(answerChallenge(client, "k"), 10_000);
  const silent: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      silent.push(
        await Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
      );
    }
    // 2 slots, one held by the answered client: each newcomer drops the
    // previous silent one
    await until(() => errors.length === 4, "four silent handshakes dropped");
    assert.ok(errors.every((e) => /dropped while pending/.test(e.message)));
    // the paused client finishes and is accepted
    await withTimeout(deliverChallenge(client, "k"), 10_000);
    using server = await withTimeout(accepting, 10_000);
    await client.send("still here");
    assert.equal(await server.recv(), "still here");
  } finally {
    client.close();
    for (const s of silent) s.close();
  }
});
