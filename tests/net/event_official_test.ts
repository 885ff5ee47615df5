// The official JavaScript client (npm socket.io-client 4.8) against
// serveEvents: both transports, the polling → WebSocket upgrade,
// namespaces, rooms with skip, acks with several values, binary in nested
// arguments, connect_error with data, the authkey scheme from any client.

import assert from "node:assert/strict";
import { io, type Socket } from "npm:socket.io-client@4.8.1";
import { ConnectionRefusedError, type Tuple, tuple } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { startServer, until } from "./_event_helpers.ts";

type Transports = ("polling" | "websocket")[];

function connect(
  url: string,
  options: Record<string, unknown> = {},
): Promise<Socket> {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  return withTimeout(
    new Promise<Socket>((resolve, reject) => {
      socket.on("connect", () => resolve(socket));
      socket.on("connect_error", (e) => {
        socket.close();
        reject(e);
      });
    }),
    10_000,
    "socket.io-client connect",
  );
}

for (
  const transports of [["polling"], ["websocket"], [
    "polling",
    "websocket",
  ]] as Transports[]
) {
  const label = transports.join("+");
  Deno.test(`socket.io-client (${label}): rooms with skip, acks with several values, nested binary`, async () => {
    await using server = startServer();
    server.on("join", (sid, room) => {
      server.enterRoom(sid, room);
      return tuple("joined", room, server.rooms(sid));
    });
    server.on(
      "say",
      (sid, text, extra) =>
        server.emit("said", tuple(text, extra), { room: "r", skip: sid }),
    );
    server.on("bin", (_sid, nested) => tuple(nested, new Uint8Array([7, 8])));
    const a = await connect(server.url, { transports });
    const b = await connect(server.url, { transports });
    try {
      const joined = await new Promise<unknown[]>((r) =>
        a.emit("join", "r", (...args: unknown[]) => r(args))
      );
      assert.deepEqual(joined, ["joined", "r", [a.id, "r"]]);
      await b.timeout(10_000).emitWithAck("join", "r");
      let aHeard = 0;
      a.on("said", () => aHeard++);
      const heard = new Promise<unknown[]>((r) =>
        b.on("said", (...args: unknown[]) => r(args))
      );
      a.emit("say", "hi", { deep: [{ bytes: new Uint8Array([1, 2]) }] });
      const [text, extra] = await withTimeout(heard, 10_000, "b hears a");
      assert.equal(text, "hi");
      assert.deepEqual(
        Array.from((extra as { deep: { bytes: Uint8Array }[] }).deep[0].bytes),
        [1, 2],
      );
      const back = await new Promise<unknown[]>((r) =>
        a.emit("bin", {
          list: [new Uint8Array([3]), { x: new Uint8Array([4, 5]) }],
        }, (...args: unknown[]) => r(args))
      );
      const [nested, tail] = back as [
        { list: [Uint8Array, { x: Uint8Array }] },
        Uint8Array,
      ];
      assert.deepEqual(Array.from(nested.list[0]), [3]);
      assert.deepEqual(Array.from(nested.list[1].x), [4, 5]);
      assert.deepEqual(Array.from(tail), [7, 8]);
      await a.timeout(10_000).emitWithAck("join", "sync"); // a has nothing else coming
      assert.equal(aHeard, 0);
      if (transports.length === 2) {
        await until(
          () => a.io.engine.transport.name === "websocket",
          "upgrade to websocket",
        );
        assert.equal(server.transport(a.id!), "websocket");
      }
    } finally {
      a.close();
      b.close();
    }
  });
}

Deno.test("socket.io-client: namespaces, server-initiated acks, catch-all, send()", async () => {
  await using server = startServer({ namespaces: ["/admin"] });
  const seen: unknown[] = [];
  server.on("*", (event, _sid, ...args) => void seen.push([event, ...args]), {
    namespace: "/admin",
  });
  server.on("message", (sid, data) => server.send(`echo:${data}`, { to: sid }));
  const root = await connect(server.url);
  const admin = await connect(`${server.url}/admin`, {
    auth: { role: "admin" },
  });
  try {
    admin.emit("whatever", 1, 2);
    await until(() => seen.length === 1, "catch-all");
    assert.deepEqual(seen, [["whatever", 1, 2]]);
    root.on(
      "question",
      (q: string, ack: (...a: unknown[]) => void) => ack(`answer to ${q}`, 42),
    );
    const answer = await server.call("question", "life", { to: root.id! });
    assert.deepEqual([...(answer as Tuple)], [
      "answer to life",
      42,
    ]);
    const echoed = new Promise((r) => root.on("message", r));
    root.send("ping");
    assert.equal(await withTimeout(echoed, 10_000, "message"), "echo:ping");
  } finally {
    root.close();
    admin.close();
  }
});

Deno.test("socket.io-client: connect_error carries the server's message and data", async () => {
  await using server = startServer();
  server.on("connect", (_sid, _environ, auth) => {
    if (auth.token !== "good") {
      throw new ConnectionRefusedError("Not authorized", { code: 4001 });
    }
  });
  const error = await connect(server.url, { auth: { token: "bad" } }).then(
    () => assert.fail("should be refused"),
    (e) => e as Error & { data?: unknown },
  );
  assert.equal(error.message, "Not authorized");
  assert.deepEqual(error.data, { code: 4001 });
  const unknown = await connect(`${server.url}/nope`).then(
    () => assert.fail("should be refused"),
    (e) => e as Error,
  );
  assert.equal(unknown.message, "Invalid namespace");
  const ok = await connect(server.url, { auth: { token: "good" } });
  ok.close();
});

Deno.test("socket.io-client: the authkey proof computed by any client (documented scheme)", async () => {
  const key = "shared secret";
  await using server = startServer({ authkey: key });
  server.on("echo", (_sid, x) => x);
  const hmac = async (text: string) => {
    const k = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(text)),
    );
    return btoa(String.fromCharCode(...mac));
  };
  // auth as a function: called after the Engine.IO handshake, so the sid is known
  const holder: { socket?: Socket } = {};
  const nonce = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  const auth = (cb: (data: object) => void) => {
    const sid = holder.socket!.io.engine.id;
    hmac(`weft-events/2 connect ${sid} / ${nonce}`).then((mac) =>
      cb({ nonce, hmac: mac })
    );
  };
  const socket = holder.socket = io(server.url, {
    reconnection: false,
    forceNew: true,
    auth,
    transports: ["websocket"],
  });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket!.on("connect", () => resolve());
        socket!.on("connect_error", reject);
      }),
      10_000,
      "connect with proof",
    );
    assert.equal(await socket.timeout(10_000).emitWithAck("echo", "ok"), "ok");
  } finally {
    socket.close();
  }
});

Deno.test("socket.io-client reconnects to a restarted weft server", async () => {
  let server = startServer();
  const port = server.addr.port;
  server.on("echo", (_sid, x) => x);
  const socket = io(server.url, {
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    transports: ["websocket"],
  });
  try {
    await withTimeout(
      new Promise<void>((r) => socket.once("connect", () => r())),
      10_000,
      "first connect",
    );
    const firstId = socket.id;
    const lost = new Promise((r) => socket.once("disconnect", r));
    await server.shutdown();
    assert.equal(
      await withTimeout(lost, 10_000, "disconnect"),
      "transport close",
    );
    server = startServer({ port });
    server.on("echo", (_sid, x) => `again ${x}`);
    await withTimeout(
      new Promise<void>((r) => socket.once("connect", () => r())),
      30_000,
      "reconnect",
    );
    assert.notEqual(socket.id, firstId);
    assert.equal(
      await socket.timeout(10_000).emitWithAck("echo", "hi"),
      "again hi",
    );
  } finally {
    socket.close();
    await server.shutdown();
  }
});
