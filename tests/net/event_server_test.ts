import assert from "node:assert/strict";
import {
  AckTimeoutError,
  connectEvents,
  type EventClient,
  EventServer,
  type EventSocket,
  serveEvents,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import {
  closeAll,
  connectMany,
  eventually,
  nextEvent,
  RawSocket,
  rawTcpUpgrade,
  socketOf,
  startServer,
} from "./_event_helpers.ts";

// ---------------------------------------------------------------- construction

Deno.test("serveEvents() binds 127.0.0.1 on a free port by default", async () => {
  const server = startServer();
  try {
    assert.equal(server.addr.hostname, "127.0.0.1");
    assert.ok(server.addr.port > 0);
    assert.equal(server.url, `ws://127.0.0.1:${server.addr.port}/events`);
    assert.ok(server instanceof EventServer);
    assert.equal(server.closed, false);
  } finally {
    await server.shutdown();
  }
  assert.equal(server.closed, true);
});

Deno.test("serveEvents() rejects bad options with errors naming the field", () => {
  assert.throws(() => serveEvents({ port: -1 }), /"port"/);
  assert.throws(() => serveEvents({ path: "events" }), /"path"/);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => serveEvents({ onConnection: 5 as any }),
    /"onConnection"/,
  );
  assert.throws(() => serveEvents({ maxMessageSize: 1 }), RangeError);
  assert.throws(() => serveEvents({ pingInterval: 0 }), RangeError);
  assert.throws(() => serveEvents({ authKey: "" }), RangeError);
});

Deno.test("serveEvents() answers plain HTTP with the fallback handler or 404/426", async () => {
  const server = startServer({
    handler: (req) =>
      new URL(req.url).pathname === "/hi"
        ? new Response("hello")
        : new Response("nope", { status: 404 }),
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const hi = await fetch(`${base}/hi`);
    assert.equal(await hi.text(), "hello");
    const notWs = await fetch(`${base}/events`);
    assert.equal(notWs.status, 426);
    await notWs.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("allowOrigin refuses WebSocket upgrades from other origins with 403", async () => {
  const server = startServer({
    allowOrigin: (origin) => origin === null || origin === "http://good.test",
  });
  const base = `http://127.0.0.1:${server.addr.port}/events`;
  const upgrade = (origin: string) =>
    fetch(base, {
      headers: {
        origin,
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": btoa("0123456789abcdef"),
        "sec-websocket-version": "13",
      },
    });
  try {
    const refused = await upgrade("http://evil.test");
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const client = await connectEvents(server.url); // no Origin: allowed
    await client.close();
  } finally {
    await server.shutdown();
  }
});

// ---------------------------------------------------------------- sessions

Deno.test("each client gets its own session id, the same on both sides", async () => {
  const ids: string[] = [];
  const server = startServer({ onConnection: (s) => void ids.push(s.id) });
  const clients = await connectMany(server.url, 3);
  try {
    assert.equal(new Set(ids).size, 3);
    assert.deepEqual(new Set(clients.map((c) => c.id)), new Set(ids));
    assert.equal(server.sockets.size, 3);
    for (const c of clients) assert.equal(c.connected, true);
  } finally {
    await closeAll(server, clients);
  }
});

// ---------------------------------------------------------------- rooms

Deno.test("emit({ room }) reaches exactly the room's members: 50 clients in 5 rooms", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.on("join", (room) => {
        socket.join(String(room));
        return [...socket.rooms];
      });
    },
  });
  const clients = await connectMany(server.url, 50);
  try {
    const roomOf = (i: number) => `room-${i % 5}`;
    const joined = await Promise.all(
      clients.map((c, i) => c.emit("join", roomOf(i), { ack: true })),
    );
    joined.forEach((rooms, i) => assert.deepEqual(rooms, [roomOf(i)]));
    assert.deepEqual(
      server.rooms.sort(),
      [0, 1, 2, 3, 4].map((i) => `room-${i}`),
    );
    for (let r = 0; r < 5; r++) {
      assert.equal(server.members(`room-${r}`).length, 10);
    }

    // Per-connection order is kept, so once a client sees the "marker" sent
    // to everyone after the room message, it has seen every message it
    // will ever get from that broadcast.
    const got: unknown[][] = clients.map(() => []);
    clients.forEach((c, i) => c.on("news", (d) => void got[i].push(d)));
    const markers = clients.map((c) => nextEvent(c, "marker", 10_000));
    for (let r = 0; r < 5; r++) {
      assert.equal(
        server.emit("news", `for room ${r}`, { room: `room-${r}` }),
        10,
      );
    }
    assert.equal(
      server.emit("news", "rooms 1+2", { room: ["room-1", "room-2"] }),
      20,
    );
    assert.equal(server.emit("marker", null), 50);
    await Promise.all(markers);
    got.forEach((messages, i) => {
      const r = i % 5;
      const expected = [`for room ${r}`];
      if (r === 1 || r === 2) expected.push("rooms 1+2");
      assert.deepEqual(messages, expected, `client ${i}`);
    });
  } finally {
    await closeAll(server, clients);
  }
});

Deno.test("emit({ skip }) leaves out the sender; emit({ to }) reaches one client", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.join("chat");
      socket.on(
        "say",
        (text) => server.emit("said", text, { room: "chat", skip: socket }),
      );
    },
  });
  const clients = await connectMany(server.url, 4);
  try {
    const got: unknown[][] = clients.map(() => []);
    clients.forEach((c, i) => c.on("said", (d) => void got[i].push(d)));
    const count = await clients[0].emit("say", "hi all", { ack: true });
    assert.equal(count, 3);
    const markers = clients.map((c) => nextEvent(c, "marker"));
    assert.equal(server.emit("said", "only 2", { to: clients[2].id! }), 1);
    assert.equal(
      server.emit("said", "not 1, not 3", {
        skip: [clients[1].id!, socketOf(server, clients[3].id!)],
      }),
      2,
    );
    server.emit("marker");
    await Promise.all(markers);
    assert.deepEqual(got[0], ["not 1, not 3"]);
    assert.deepEqual(got[1], ["hi all"]);
    assert.deepEqual(got[2], ["hi all", "only 2", "not 1, not 3"]);
    assert.deepEqual(got[3], ["hi all"]);
  } finally {
    await closeAll(server, clients);
  }
});

Deno.test("stress: 20 clients x 50 room messages each, skip sender: nothing lost, duplicated or reordered", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.join("busy");
      socket.on("say", (msg) => {
        server.emit("said", msg, { room: "busy", skip: socket });
      });
    },
  });
  const clients = await connectMany(server.url, 20);
  try {
    const PER = 50;
    const got = clients.map(() => new Map<number, number[]>());
    clients.forEach((c, i) =>
      c.on("said", (msg) => {
        const [from, n] = msg as [number, number];
        const list = got[i].get(from) ?? [];
        list.push(n);
        got[i].set(from, list);
      })
    );
    // every client fires all its messages at once, concurrently; the last
    // one asks for an ack, which also means the server has relayed the rest
    await withTimeout(
      Promise.all(clients.map(async (c, i) => {
        for (let n = 0; n < PER - 1; n++) c.emit("say", [i, n]);
        await c.emit("say", [i, PER - 1], { ack: true });
      })),
      20_000,
      "all messages relayed",
    );
    const markers = clients.map((c) => nextEvent(c, "marker", 10_000));
    server.emit("marker");
    await Promise.all(markers);
    const expected = Array.from({ length: PER }, (_, n) => n);
    got.forEach((bySender, i) => {
      assert.equal(bySender.has(i), false, `client ${i} heard itself`);
      assert.equal(bySender.size, 19, `client ${i} senders`);
      for (const [from, list] of bySender) {
        assert.deepEqual(list, expected, `client ${i} from ${from}`);
      }
    });
  } finally {
    await closeAll(server, clients);
  }
});

Deno.test("leave() and closeRoom() remove members; a closed client leaves its rooms", async () => {
  let sockets: EventSocket[] = [];
  const server = startServer({
    onConnection(socket) {
      sockets.push(socket);
      socket.join("a");
      socket.join("b");
    },
  });
  const clients = await connectMany(server.url, 3);
  try {
    sockets = clients.map((c) => socketOf(server, c.id!));
    sockets[0].leave("a");
    sockets[0].leave("a"); // idempotent
    assert.deepEqual([...sockets[0].rooms], ["b"]);
    assert.equal(server.members("a").length, 2);
    server.closeRoom("b");
    assert.equal(server.members("b").length, 0);
    assert.deepEqual(server.rooms, ["a"]);
    for (const s of sockets) assert.equal(s.rooms.has("b"), false);
    await clients[1].close();
    await withTimeout(sockets[1].finished, 5000, "server sees the close");
    assert.deepEqual(server.members("a"), [sockets[2]]);
    assert.throws(() => sockets[2].join(""), TypeError);
  } finally {
    await closeAll(server, clients);
  }
});

// ---------------------------------------------------------------- acknowledgements

Deno.test("acks resolve both ways with the handler's return value", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.on("add", (pair) => {
        const [a, b] = pair as number[];
        return a + b;
      });
      socket.on("slow", async (x) => {
        await new Promise((r) => setTimeout(r, 20));
        return { x };
      });
    },
  });
  const client = await connectEvents(server.url);
  try {
    assert.equal(await client.emit("add", [2, 3], { ack: true }), 5);
    assert.deepEqual(await client.emit("slow", "y", { ack: true }), { x: "y" });
    client.on("ask", (q) => `answer to ${q}`);
    const socket = socketOf(server, client.id!);
    assert.equal(await socket.emit("ask", "q1", { ack: true }), "answer to q1");
    assert.deepEqual(
      await server.emit("ask", "all", { ack: true }),
      ["answer to all"],
    );
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("acks reject clearly when the handler throws or is missing", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.on("boom", () => {
        throw new Error("kaput");
      });
    },
  });
  const client = await connectEvents(server.url);
  try {
    await assert.rejects(
      client.emit("boom", null, { ack: true }),
      /Event "boom" failed on the peer: kaput/,
    );
    await assert.rejects(
      client.emit("nobody", null, { ack: true }),
      /no handler for event "nobody"/,
    );
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("acks time out with AckTimeoutError when the other side does not answer", async () => {
  let release!: () => void;
  const never = new Promise<void>((resolve) => release = resolve);
  const server = startServer({
    onConnection: (socket) => socket.on("stall", () => never),
  });
  const client = await connectEvents(server.url);
  try {
    client.on("stall", () => never);
    const socket = socketOf(server, client.id!);
    const t0 = performance.now();
    const error = await withTimeout(
      socket.emit("stall", 1, { ack: true, timeout: 100 }).then(
        () => assert.fail("resolved"),
        (e) => e,
      ),
      5000,
      "server ack timeout",
    );
    const elapsed = performance.now() - t0;
    assert.ok(error instanceof AckTimeoutError);
    assert.match(error.message, /event "stall": no answer within 100 ms/);
    assert.ok(elapsed >= 90 && elapsed < 3000, `${elapsed} ms`);

    await assert.rejects(
      client.emit("stall", 2, { ack: true, timeout: 100 }),
      AckTimeoutError,
    );
    // a late answer after the timeout is dropped quietly
    release();
    assert.equal(await client.emit("stall", 3, { ack: true }), undefined);
  } finally {
    release();
    await closeAll(server, [client]);
  }
});

Deno.test("pending acks reject when the connection closes", async () => {
  const server = startServer({
    onConnection: (socket) => socket.on("stall", () => new Promise(() => {})),
  });
  const client = await connectEvents(server.url, { reconnect: false });
  try {
    client.on("stall", () => new Promise(() => {}));
    const socket = socketOf(server, client.id!);
    const fromServer = socket.emit("stall", null, { ack: true });
    const fromClient = client.emit("stall", null, { ack: true });
    socket.disconnect("bye");
    await assert.rejects(withTimeout(fromServer, 5000), /connection closed/);
    await assert.rejects(
      withTimeout(fromClient, 5000),
      /connection closed|bye/,
    );
  } finally {
    await closeAll(server, [client]);
  }
});

// ---------------------------------------------------------------- payloads

Deno.test("binary payloads travel as Uint8Array both ways, acks included", async () => {
  const server = startServer({
    onConnection(socket) {
      socket.on("reverse", (bytes) => (bytes as Uint8Array).slice().reverse());
      socket.on("len", (bytes) => (bytes as Uint8Array).length);
    },
  });
  const client = await connectEvents(server.url);
  try {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const back = await client.emit("reverse", bytes, { ack: true });
    assert.ok(back instanceof Uint8Array);
    assert.deepEqual([...back], [250, 3, 2, 1]);
    assert.equal(
      await client.emit("len", new Uint8Array(1000), { ack: true }),
      1000,
    );
    const got = nextEvent(client, "blob");
    socketOf(server, client.id!).emit("blob", new Uint8Array([9, 8]));
    assert.deepEqual([...(await got) as Uint8Array], [9, 8]);
    assert.throws(
      () => client.emit("x", { big: 1n }),
      /not JSON-serializable|neither/,
    );
    assert.throws(() => client.emit("disconnect", 1), /reserved/);
  } finally {
    await closeAll(server, [client]);
  }
});

// ---------------------------------------------------------------- limits

Deno.test("maxMessageSize: oversize emit throws RangeError; an oversize peer is closed with 1009", async () => {
  const server = startServer({
    maxMessageSize: 1024,
    onConnection: (socket) => socket.on("echo", (d) => d),
  });
  const client = await connectEvents(server.url);
  const raw = new RawSocket(server.url);
  try {
    assert.throws(
      () => client.emit("echo", "x".repeat(2000)),
      (e: Error) =>
        e instanceof RangeError &&
        /exceeds the limit of 1024 bytes/.test(e.message),
    );
    assert.throws(
      () => socketOf(server, client.id!).emit("echo", new Uint8Array(2000)),
      RangeError,
    );
    assert.equal(await client.emit("echo", "small", { ack: true }), "small");

    await raw.opened();
    const hello = await raw.nextJson();
    assert.equal(hello.t, "h");
    assert.equal(hello.mx, 1024);
    raw.ws.send(JSON.stringify({ t: "e", n: "echo", d: "y".repeat(5000) }));
    const closed = await withTimeout(raw.closed, 5000, "oversize close");
    assert.equal(closed.code, 1009);
    assert.match(
      closed.reason,
      /Message too big: \d+ bytes exceeds the limit of 1024 bytes/,
    );
    // everyone else is still served
    assert.equal(
      await client.emit("echo", "still here", { ack: true }),
      "still here",
    );
  } finally {
    await raw.close();
    await closeAll(server, [client]);
  }
});

Deno.test("a malformed packet closes that peer with 1002", async () => {
  const server = startServer();
  const raw = new RawSocket(server.url);
  try {
    await raw.opened();
    await raw.nextJson();
    raw.ws.send("not json");
    const closed = await withTimeout(raw.closed, 5000, "protocol close");
    assert.equal(closed.code, 1002);
    assert.match(closed.reason, /not JSON/);
  } finally {
    await raw.close();
    await server.shutdown();
  }
});

// ---------------------------------------------------------------- heartbeat

Deno.test("heartbeat drops a client that stops answering pings", async () => {
  const reasons: string[] = [];
  const server = startServer({
    pingInterval: 100,
    pingTimeout: 200,
    onConnection: (socket) =>
      socket.on("disconnect", (r) => void reasons.push(String(r))),
  });
  let conn: Deno.TcpConn | undefined;
  try {
    const t0 = performance.now();
    conn = await rawTcpUpgrade(server.addr);
    await eventually(() => server.sockets.size === 1, 5000, "handshake");
    await eventually(() => reasons.length === 1, 5000, "heartbeat drop");
    const elapsed = performance.now() - t0;
    assert.match(reasons[0], /Ping timeout: no pong within 200 ms/);
    assert.equal(server.sockets.size, 0);
    assert.ok(elapsed >= 250 && elapsed < 5000, `${elapsed} ms`);
  } finally {
    conn?.close();
    await server.shutdown();
  }
});

Deno.test("a client whose TCP connection closes without a close frame is dropped", async () => {
  const reasons: string[] = [];
  const server = startServer({
    onConnection: (socket) =>
      socket.on("disconnect", (r) => void reasons.push(String(r))),
  });
  try {
    const conn = await rawTcpUpgrade(server.addr);
    await eventually(() => server.sockets.size === 1, 5000, "handshake");
    conn.close();
    await eventually(() => reasons.length === 1, 5000, "drop on EOF");
    assert.equal(server.sockets.size, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a live client keeps answering pings and stays connected", async () => {
  const server = startServer({ pingInterval: 30, pingTimeout: 5000 });
  const client = await connectEvents(server.url);
  try {
    const socket = socketOf(server, client.id!);
    await new Promise((r) => setTimeout(r, 300)); // several ping rounds
    assert.equal(socket.closed, false);
    assert.equal(client.connected, true);
  } finally {
    await closeAll(server, [client]);
  }
});

// ---------------------------------------------------------------- disconnect & shutdown

Deno.test("socket.disconnect() closes that client for good (no reconnect)", async () => {
  const server = startServer();
  const client = await connectEvents(server.url, {
    reconnect: { initialDelay: 10 },
  });
  try {
    const reason = nextEvent(client, "disconnect");
    const socket = socketOf(server, client.id!);
    socket.disconnect("kicked");
    assert.equal(await reason, "kicked");
    assert.equal(await socket.finished, "kicked");
    await eventually(() => client.closed, 5000, "client closed");
    assert.equal(server.sockets.size, 0);
    assert.throws(() => client.emit("x"), /client is closed/);
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("shutdown() closes every socket and resolves finished; abort does the same", async () => {
  const controller = new AbortController();
  const server = startServer({ signal: controller.signal });
  const clients = await connectMany(server.url, 5, { reconnect: false });
  try {
    const gone = clients.map((c) => nextEvent(c, "disconnect"));
    controller.abort();
    await withTimeout(server.finished, 10_000, "finished");
    assert.equal(server.closed, true);
    for (const reason of await Promise.all(gone)) {
      assert.equal(reason, "Server shutting down");
    }
    assert.equal(server.sockets.size, 0);
    await server.shutdown(); // idempotent
  } finally {
    await closeAll(server, clients);
  }
});

// ---------------------------------------------------------------- client reconnect

Deno.test("the client reconnects with back-off and sends events buffered meanwhile", async () => {
  const seen: unknown[] = [];
  const onConnection = (socket: EventSocket) =>
    socket.on("note", (d) => void seen.push(d));
  let server = startServer({ onConnection });
  const port = server.addr.port;
  const client = await connectEvents(server.url, {
    reconnect: { initialDelay: 20, maxDelay: 100 },
  });
  let clients: EventClient[] = [client];
  try {
    const firstId = client.id;
    const lost = nextEvent(client, "disconnect");
    await server.shutdown();
    await lost;
    assert.equal(client.connected, false);
    client.emit("note", "while away"); // buffered
    const back = nextEvent(client, "connect", 10_000);
    server = startServer({ port, onConnection });
    const newId = await back;
    assert.notEqual(newId, firstId);
    assert.equal(client.id, newId);
    await eventually(() => seen.length === 1, 5000, "buffered event");
    assert.deepEqual(seen, ["while away"]);
  } finally {
    await closeAll(server, clients);
    clients = [];
  }
});

Deno.test("connectEvents() rejects after maxAttempts when nobody listens", async () => {
  const server = startServer();
  const url = server.url;
  await server.shutdown();
  await assert.rejects(
    connectEvents(url, {
      reconnect: { initialDelay: 5, maxDelay: 20, maxAttempts: 3 },
    }),
    /3 attempts failed/,
  );
  await assert.rejects(
    connectEvents(url, { reconnect: false }),
    /Cannot connect to/,
  );
});
