// serveEvents: python-socketio's server model over Socket.IO 5, driven by
// weft's own client (the official clients are in event_official_test.ts and
// event_python_test.ts).

import assert from "node:assert/strict";
import {
  AckTimeoutError,
  connectEvents,
  ConnectionRefusedError,
  EventClient,
  EventConnectionError,
  serveEvents,
  Tuple,
  tuple,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import {
  connectMany,
  nextEvent,
  startServer,
  until,
} from "./_event_helpers.ts";

// ---- construction ----

Deno.test("serveEvents() validates its options", async () => {
  assert.throws(() => serveEvents({ port: 70000 }), TypeError);
  assert.throws(() => serveEvents({ path: "x" }), TypeError);
  assert.throws(() => serveEvents({ maxHttpBufferSize: 1 }), RangeError);
  assert.throws(() => serveEvents({ transports: [] }), TypeError);
  assert.throws(() => serveEvents({ namespaces: ["chat"] }), TypeError);
  assert.throws(() => serveEvents({ authkey: "" }), TypeError);
  await using server = serveEvents();
  assert.equal(server.addr.hostname, "127.0.0.1");
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.path, "/socket.io/");
});

// ---- connect, rooms, emit ----

Deno.test("connect handler sees environ and auth; every sid is its own room", async () => {
  await using server = startServer();
  const seen: unknown[] = [];
  server.on("connect", (sid, environ, auth) => {
    seen.push([sid, environ.transport, auth]);
    server.enterRoom(sid, "lobby");
  });
  server.on("sync", () => true);
  await using client = await connectEvents(server.url, {
    auth: { token: "t1" },
  });
  assert.deepEqual(seen, [[client.sid, "websocket", { token: "t1" }]]);
  assert.deepEqual(server.rooms(client.sid!), [client.sid, "lobby"]);
  // emit to a sid reaches that client only
  await using other = await connectEvents(server.url);
  const got = nextEvent(client, "direct");
  let otherGot = false;
  other.on("direct", () => otherGot = true);
  server.emit("direct", "for you", { to: client.sid });
  assert.deepEqual(await got, ["for you"]);
  assert.equal(await other.call("sync"), true); // nothing else is on its way
  assert.equal(otherGot, false);
});

Deno.test("emit to a room skips the sender; closeRoom empties it", async () => {
  await using server = startServer();
  server.on("join", (sid, room) => server.enterRoom(sid, room));
  server.on(
    "say",
    (sid, text) => server.emit("said", text, { room: "r1", skip: sid }),
  );
  const clients = await connectMany(server.url, 3);
  try {
    const [a, b, c] = clients;
    await a.call("join", "r1");
    await b.call("join", "r1");
    const heard: string[] = [];
    for (const [name, cl] of [["a", a], ["b", b], ["c", c]] as const) {
      cl.on("said", (text) => heard.push(`${name}:${text}`));
    }
    a.emit("say", "hello");
    await until(() => heard.length > 0, "b hears a");
    // a round trip on a and c proves nothing else is on its way to them
    await a.call("join", "zz");
    await c.call("join", "zz");
    assert.deepEqual(heard, ["b:hello"]);
    server.closeRoom("r1");
    assert.deepEqual(server.rooms(a.sid!), [a.sid, "zz"]);
  } finally {
    await Promise.all(clients.map((cl) => cl.disconnect()));
  }
});

Deno.test("acks carry several values both ways; binary anywhere in the arguments", async () => {
  await using server = startServer();
  server.on("swap", (_sid, a, b) => tuple(b, a));
  server.on("bytes", (_sid, nested) => {
    const inner = (nested as { list: Uint8Array[] }).list;
    return tuple(inner.length, { back: inner[1] }, new Uint8Array([9]));
  });
  await using client = await connectEvents(server.url);
  const swapped = await client.call("swap", tuple(1, "two"));
  assert.ok(swapped instanceof Tuple);
  assert.deepEqual([...swapped], ["two", 1]);
  const answer = await client.call("bytes", {
    list: [new Uint8Array([1]), new Uint8Array([2, 3])],
  });
  assert.ok(answer instanceof Tuple);
  assert.equal(answer[0], 2);
  assert.deepEqual(answer[1], { back: new Uint8Array([2, 3]) });
  assert.deepEqual(answer[2], new Uint8Array([9]));
  // server → client call with an answer of several values
  client.on("ask", (q) => tuple(`re:${q}`, 42));
  const back = await server.call("ask", "q1", { to: client.sid! });
  assert.ok(back instanceof Tuple);
  assert.deepEqual([...back], ["re:q1", 42]);
  // emit with a callback
  const viaCallback = await new Promise<unknown[]>((resolve) =>
    server.emit("ask", "q2", {
      to: client.sid,
      callback: (...args) => resolve(args),
    })
  );
  assert.deepEqual(viaCallback, ["re:q2", 42]);
});

Deno.test("catch-all handler, send()/message, per-session data", async () => {
  await using server = startServer();
  const caught: unknown[] = [];
  server.on("*", (event, sid, ...args) => {
    caught.push([event, sid === sid, ...args]);
    return "caught";
  });
  server.on("message", (sid, data) => {
    server.getSession(sid).last = data;
    server.send(`echo ${data}`, { to: sid });
  });
  await using client = await connectEvents(server.url);
  assert.equal(await client.call("anything", tuple(1, 2)), "caught");
  assert.deepEqual(caught, [["anything", true, 1, 2]]);
  const echoed = nextEvent(client, "message");
  client.send("hi");
  assert.deepEqual(await echoed, ["echo hi"]);
  assert.deepEqual(server.getSession(client.sid!), { last: "hi" });
  server.saveSession(client.sid!, { fresh: true });
  assert.deepEqual(server.getSession(client.sid!), { fresh: true });
});

Deno.test("namespaces are separate: handlers, rooms and sids per namespace", async () => {
  await using server = startServer({ namespaces: ["/chat"] });
  server.on("who", () => "main");
  server.on("who", () => "chat", { namespace: "/chat" });
  await using client = await connectEvents(server.url, {
    namespaces: ["/", "/chat"],
  });
  assert.equal(await client.call("who"), "main");
  assert.equal(
    await client.call("who", undefined, { namespace: "/chat" }),
    "chat",
  );
  assert.notEqual(client.getSid("/"), client.getSid("/chat"));
  const got = nextEvent(client, "news", { namespace: "/chat" });
  server.emit("news", 1, { namespace: "/chat" });
  assert.deepEqual(await got, [1]);
  assert.deepEqual(server.of("/chat").sids, [client.getSid("/chat")]);
});

Deno.test("unknown namespace: connect_error for that namespace only", async () => {
  await using server = startServer();
  await assert.rejects(
    connectEvents(server.url, { namespaces: ["/nope"], reconnection: false }),
    (e: unknown) =>
      e instanceof EventConnectionError && e.message === "Invalid namespace",
  );
  // the server is still fine
  await using client = await connectEvents(server.url);
  assert.ok(client.connected);
});

Deno.test("a connect handler refuses with data: the client gets connect_error with it", async () => {
  await using server = startServer();
  let disconnects = 0;
  server.on("connect", (_sid, _environ, auth) => {
    if (auth.token !== "ok") {
      throw new ConnectionRefusedError("Not authorized", { retry: false });
    }
  });
  server.on("disconnect", () => disconnects++);
  const client = new EventClient({
    auth: { token: "bad" },
    reconnection: false,
  });
  const seen: unknown[] = [];
  client.on("connect_error", (data) => seen.push(data));
  await assert.rejects(client.connect(server.url), (e: unknown) => {
    assert.ok(e instanceof EventConnectionError);
    assert.equal(e.message, "Not authorized");
    assert.deepEqual(e.data, { retry: false });
    return true;
  });
  assert.deepEqual(seen, [{
    message: "Not authorized",
    data: { retry: false },
  }]);
  // returning false refuses too
  server.on("connect", () => false);
  await assert.rejects(
    connectEvents(server.url, { reconnection: false }),
    /Connection rejected by server/,
  );
  assert.equal(disconnects, 0);
});

Deno.test("disconnect(sid) ends that client for good with a reason on both sides", async () => {
  await using server = startServer();
  const reasons: string[] = [];
  server.on("disconnect", (_sid, reason) => reasons.push(reason));
  const client = await connectEvents(server.url);
  const clientReason = nextEvent(client, "disconnect");
  server.disconnect(client.sid!);
  assert.deepEqual((await clientReason)[0], "io server disconnect");
  await withTimeout(client.wait(), 10_000, "client finished");
  assert.deepEqual(reasons, ["server namespace disconnect"]);
});

Deno.test("call() times out with AckTimeoutError; reserved names are refused", async () => {
  await using server = startServer();
  server.on("slow", () => new Promise(() => {}));
  await using client = await connectEvents(server.url);
  await assert.rejects(
    client.call("slow", 1, { timeout: 50 }),
    AckTimeoutError,
  );
  assert.throws(() => client.emit("connect"), TypeError);
  assert.throws(() => server.emit("disconnect"), TypeError);
  await assert.rejects(server.call("x", 1, { to: "no-such-sid" }), TypeError);
});

Deno.test("both transports: polling client and WebSocket client share a room", async () => {
  await using server = startServer();
  server.on("connect", (sid) => server.enterRoom(sid, "all"));
  server.on(
    "shout",
    (sid, text) => server.emit("heard", text, { room: "all", skip: sid }),
  );
  await using poller = await connectEvents(server.url, {
    transports: ["polling"],
  });
  await using ws = await connectEvents(server.url, {
    transports: ["websocket"],
  });
  assert.equal(poller.transport, "polling");
  assert.equal(ws.transport, "websocket");
  assert.equal(server.transport(poller.sid!), "polling");
  const atWs = nextEvent(ws, "heard");
  poller.emit("shout", new Uint8Array([1, 2, 3]));
  assert.deepEqual(await atWs, [new Uint8Array([1, 2, 3])]);
  const atPoller = nextEvent(poller, "heard");
  ws.emit("shout", { big: "x".repeat(100_000) });
  assert.equal(((await atPoller)[0] as { big: string }).big.length, 100_000);
});

Deno.test("ping timeout: a client that stops answering pings is dropped", async () => {
  await using server = startServer({ pingInterval: 100, pingTimeout: 100 });
  const reasons: string[] = [];
  server.on("disconnect", (_sid, reason) => reasons.push(reason));
  // A raw WebSocket that opens a session and connects "/" but never pongs.
  const ws = new WebSocket(
    `ws://127.0.0.1:${server.addr.port}/socket.io/?EIO=4&transport=websocket`,
  );
  const closed = new Promise((r) => ws.onclose = r);
  ws.onmessage = (e) => {
    if (String(e.data).startsWith("0{")) ws.send("40");
  };
  await withTimeout(closed, 10_000, "server drops the silent client");
  await until(() => reasons.length === 1, "disconnect handler");
  assert.deepEqual(reasons, ["ping timeout"]);
});

Deno.test("fallback handler serves other paths; 404 by default", async () => {
  await using server = startServer({
    handler: (req) =>
      new Response(`page ${new URL(req.url).pathname}`, {
        headers: { "content-type": "text/plain" },
      }),
  });
  const page = await fetch(`${server.url}/index.html`);
  assert.equal(await page.text(), "page /index.html");
  await using bare = startServer();
  const missing = await fetch(`${bare.url}/x`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test('namespaces: "*" serves any namespace on demand', async () => {
  await using server = startServer({ namespaces: "*" });
  server.on("*", (event) => `caught ${event}`, { namespace: "/dyn" });
  await using client = await connectEvents(`${server.url}/dyn`);
  assert.equal(
    await client.call("x", undefined, { namespace: "/dyn" }),
    "caught x",
  );
  await using other = await connectEvents(`${server.url}/anything`);
  assert.ok(other.getSid("/anything"));
});

Deno.test("the client keeps polling bodies under maxPayload and refuses a message over it", async () => {
  await using server = startServer({ maxHttpBufferSize: 100_000 });
  const got: number[] = [];
  server.on("chunk", (_sid, text) => void got.push((text as string).length));
  await using client = await connectEvents(server.url, {
    transports: ["polling"],
  });
  for (let i = 0; i < 10; i++) client.emit("chunk", "é".repeat(20_000)); // 40 kB each in UTF-8
  await until(() => got.length === 10, "every chunk arrives");
  assert.throws(() => client.emit("chunk", "x".repeat(200_000)), RangeError);
  await assert.rejects(client.call("chunk", "y".repeat(200_000)), RangeError);
  assert.ok(client.connected);
});

Deno.test("text of every frame-length class, ASCII or not, and bytes round trip both ways on both transports", async () => {
  await using server = startServer();
  server.on("echo", (_sid, value) => value);
  const texts = [0, 1, 125, 126, 65535, 65536, 200_000].flatMap((n) => [
    "a".repeat(n),
    "é😀".repeat(Math.ceil(n / 3)).slice(0, n), // 2-, 4-byte UTF-8 and ends cut mid-pair
  ]);
  for (const transports of [["websocket"], ["polling"]] as const) {
    await using client = await connectEvents(server.url, { transports });
    for (const text of texts) {
      assert.equal(await client.call("echo", text), text);
    }
    const bytes = new Uint8Array(70_000).map((_, i) => i * 7);
    assert.deepEqual(
      new Uint8Array(await client.call("echo", bytes) as Uint8Array),
      bytes,
    );
  }
});
