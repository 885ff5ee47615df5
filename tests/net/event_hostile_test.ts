// serveEvents under hostile input: every case ends that one session (or
// connection) with a clear reason, before buffering what it was sent, and
// the server keeps serving everyone else.

import assert from "node:assert/strict";
import { connectEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { rawConnect, readAll, startServer, until } from "./_event_helpers.ts";

const enc = new TextEncoder();

/** Opens a raw WebSocket session ("/" connected) and reports how it closes. */
function rawSocket(port: number): {
  ws: WebSocket;
  ready: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
} {
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
  );
  let ready!: () => void;
  const readyP = new Promise<void>((r) => ready = r);
  ws.onmessage = (e) => {
    const text = String(e.data);
    if (text.startsWith("0{")) ws.send("40");
    else if (text.startsWith("40")) ready();
    else if (text === "2") ws.send("3");
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })
  );
  return { ws, ready: readyP, closed };
}

Deno.test("malformed packets end that session with a parse error; others go on", async () => {
  await using server = startServer();
  server.on("echo", (_sid, x) => x);
  await using good = await connectEvents(server.url);
  for (
    const bad of [
      "4zzz",
      "42[",
      '42{"a":1}',
      '451000000-["x"]',
      "42/nsp-without-comma",
      "9",
    ]
  ) {
    const raw = rawSocket(server.addr.port);
    await withTimeout(raw.ready, 10_000, "raw connect");
    raw.ws.send(bad);
    const { code, reason } = await withTimeout(
      raw.closed,
      10_000,
      `close after ${bad}`,
    );
    assert.ok(code === 1002 || code === 1008, `${bad}: code ${code}`);
    assert.match(reason, /parse error|transport close/, bad);
  }
  // an unexpected binary message too
  const raw = rawSocket(server.addr.port);
  await raw.ready;
  raw.ws.send(new Uint8Array([1, 2, 3]));
  assert.match(
    (await withTimeout(raw.closed, 10_000, "binary close")).reason,
    /parse error/,
  );
  assert.equal(await good.call("echo", "still here"), "still here");
});

Deno.test("an oversize WebSocket message is refused from its header, payload unread", async () => {
  await using server = startServer({ maxHttpBufferSize: 1024 * 1024 });
  const conns: Deno.TcpConn[] = [];
  // Ten clients each announce a 60 MiB first message and send nothing of it.
  for (let i = 0; i < 10; i++) {
    const conn = await rawConnect(server);
    conns.push(conn);
    await conn.write(enc.encode(
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    ));
    const header = new Uint8Array(14);
    header[0] = 0x82; // FIN + binary
    header[1] = 0x80 | 127; // masked, 64-bit length
    new DataView(header.buffer).setBigUint64(2, BigInt(60 * 1024 * 1024));
    await conn.write(header); // + 4 mask bytes, and no payload
  }
  for (const conn of conns) {
    const text = await readAll(conn);
    assert.match(text, /101 Switching Protocols/);
    // the close frame (opcode 8) with 1009 arrives without any payload sent
    assert.ok(
      text.includes("Message too big"),
      "closed with 1009 Message too big",
    );
  }
});

Deno.test("an oversize polling body is refused from Content-Length with 413", async () => {
  await using server = startServer({ maxHttpBufferSize: 1000 });
  const handshake = await fetch(
    `${server.url}/socket.io/?EIO=4&transport=polling`,
  );
  const sid = JSON.parse((await handshake.text()).slice(1)).sid;
  const conn = await rawConnect(server);
  await conn.write(enc.encode(
    `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Content-Length: ${60 * 1024 * 1024}\r\n\r\n`,
  ));
  const text = await readAll(conn);
  assert.match(text, /^HTTP\/1\.1 413/);
  // that session is gone
  const poll = await fetch(
    `${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
  );
  assert.equal(poll.status, 400);
  assert.match(await poll.text(), /Session ID unknown/);
});

Deno.test("a half-sent request head is closed after headerTimeout; an oversize head gets 431", async () => {
  await using server = startServer({ headerTimeout: 200 });
  const conn = await rawConnect(server);
  await conn.write(
    enc.encode(
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n",
    ),
  );
  assert.equal(await readAll(conn), ""); // closed by the server, nothing said
  const big = await rawConnect(server);
  await big.write(
    enc.encode("GET / HTTP/1.1\r\nX: " + "a".repeat(20_000) + "\r\n\r\n"),
  );
  assert.match(await readAll(big), /^HTTP\/1\.1 431/);
});

Deno.test("a polling client that never polls again is dropped once its queue is full", async () => {
  await using server = startServer({ maxBufferedBytes: 64 * 1024 });
  const reasons: string[] = [];
  server.on("disconnect", (_sid, reason) => reasons.push(reason));
  const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
  const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
  const post = await fetch(`${base}&sid=${sid}`, {
    method: "POST",
    body: "40",
  });
  assert.equal(await post.text(), "ok");
  await until(() => server.of("/").sids.length === 1, "namespace connected");
  // never GET again: the server queues, then drops the session
  for (let i = 0; i < 100 && reasons.length === 0; i++) {
    server.emit("news", "x".repeat(4096));
  }
  await until(() => reasons.length === 1, "dropped");
  assert.match(reasons[0], /Send buffer full/);
});

Deno.test("a WebSocket client that never reads is dropped (bounded server memory)", async () => {
  await using server = startServer({ maxBufferedBytes: 256 * 1024 });
  const reasons: string[] = [];
  server.on("disconnect", (_sid, reason) => reasons.push(reason));
  const conn = await rawConnect(server);
  await conn.write(enc.encode(
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ));
  // masked text frame "40" (CONNECT "/"), then never read anything
  await conn.write(new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x34, 0x30]));
  await until(() => server.of("/").sids.length === 1, "namespace connected");
  const chunk = "y".repeat(64 * 1024);
  for (let i = 0; i < 2000 && reasons.length === 0; i++) {
    server.emit("flood", chunk);
    if (i % 16 === 15) await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => reasons.length === 1, "dropped", 10_000);
  assert.match(reasons[0], /Send buffer full/);
  conn.close();
});

Deno.test("a packet flood into slow handlers ends that session; a silent connection times out", async () => {
  await using server = startServer({
    maxPendingHandlers: 50,
    connectTimeout: 200,
  });
  const pending: (() => void)[] = [];
  server.on("slow", () => new Promise<void>((r) => pending.push(r)));
  const raw = rawSocket(server.addr.port);
  await raw.ready;
  for (let i = 0; i < 200; i++) raw.ws.send('42["slow"]');
  const { reason } = await withTimeout(raw.closed, 10_000, "flood close");
  assert.match(reason, /too many pending handlers/);
  for (const release of pending) release();
  // an Engine.IO session that never connects a namespace
  const ws = new WebSocket(
    `ws://127.0.0.1:${server.addr.port}/socket.io/?EIO=4&transport=websocket`,
  );
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  assert.match(
    (await withTimeout(closed, 10_000, "connect timeout")).reason,
    /connect timeout/,
  );
});

Deno.test("browsers from another origin are refused unless corsAllowedOrigins allows them", async () => {
  await using server = startServer();
  const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
  const foreign = await fetch(base, {
    headers: { origin: "http://evil.example" },
  });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
  const same = await fetch(base, { headers: { origin: server.url } });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get("access-control-allow-origin"), server.url);
  await same.body?.cancel();
  await using open = startServer({
    corsAllowedOrigins: ["http://app.example"],
  });
  const allowed = await fetch(
    `${open.url}/socket.io/?EIO=4&transport=polling`,
    {
      headers: { origin: "http://app.example" },
    },
  );
  assert.equal(allowed.status, 200);
  await allowed.body?.cancel();
});

/** A masked client frame (mask 0: payload unchanged). */
function frame(
  opcode: number,
  payload: Uint8Array,
  fin = true,
  masked = true,
): Uint8Array {
  const head = [
    (fin ? 0x80 : 0) | opcode,
    (masked ? 0x80 : 0) | payload.length,
  ];
  const mask = masked ? [0, 0, 0, 0] : [];
  return new Uint8Array([...head, ...mask, ...payload]);
}

Deno.test("WebSocket framing: fragments reassembled, pings answered, unmasked frames refused", async () => {
  await using server = startServer();
  server.on("echo", (_sid, x) => x);
  const conn = await rawConnect(server);
  await conn.write(enc.encode(
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ));
  await conn.write(frame(1, enc.encode("40")));
  await until(() => server.of("/").sids.length === 1, "namespace connected");
  // '421["echo","hi"]' in two fragments with a ping in between
  await conn.write(frame(1, enc.encode('421["ec'), false));
  await conn.write(frame(9, enc.encode("p!")));
  await conn.write(frame(0, enc.encode('ho","hi"]')));
  await conn.write(frame(1, enc.encode("40"), true, false)); // unmasked: protocol error
  const text = await readAll(conn);
  assert.ok(text.includes("p!"), "pong with the ping's payload"); // opcode 0x8a + "p!"
  assert.ok(
    text.includes('431["hi"]'),
    "the fragmented event was acknowledged",
  );
  assert.ok(text.includes("Unmasked client frame"), "closed with 1002");
});
