import assert from "node:assert/strict";
import { DatagramSocket, MAX_DATAGRAM_SIZE, serveUdp } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";

const decoder = new TextDecoder();

// --- DatagramSocket ----------------------------------------------------------

Deno.test("DatagramSocket.bind() defaults to 127.0.0.1 and a free port; close() is idempotent", () => {
  const socket = DatagramSocket.bind();
  assert.equal(socket.addr.hostname, "127.0.0.1");
  assert.ok(socket.addr.port > 0);
  socket.close();
  socket.close();
  assert.equal(socket.closed, true);
});

Deno.test("DatagramSocket.sendTo() refuses more than 65507 bytes with a RangeError", async () => {
  using a = DatagramSocket.bind();
  await assert.rejects(
    a.sendTo(new Uint8Array(MAX_DATAGRAM_SIZE + 1), a.addr),
    (e: Error) =>
      e instanceof RangeError &&
      /65508 bytes exceeds the UDP limit of 65507/.test(e.message),
  );
});

Deno.test("DatagramSocket.recvFrom() reports a datagram over maxDatagramSize instead of cutting it, then goes on", async () => {
  using receiver = DatagramSocket.bind({ maxDatagramSize: 1000 });
  using sender = DatagramSocket.bind();
  await sender.sendTo(new Uint8Array(1001), receiver.addr);
  await sender.sendTo(new Uint8Array(1000).fill(1), receiver.addr);
  await assert.rejects(
    withTimeout(receiver.recvFrom(), 5000),
    (e: Error) =>
      e instanceof RangeError &&
      /1001 bytes from 127\.0\.0\.1:\d+ exceeds maxDatagramSize 1000/.test(
        e.message,
      ),
  );
  const [data] = (await withTimeout(receiver.recvFrom(), 5000))!;
  assert.equal(data.length, 1000);
});

Deno.test("DatagramSocket.recvFrom(): a full 65507-byte datagram arrives whole", async () => {
  using receiver = DatagramSocket.bind();
  using sender = DatagramSocket.bind();
  const big = new Uint8Array(MAX_DATAGRAM_SIZE).fill(3);
  await sender.sendTo(big, receiver.addr);
  const [data, from] = (await withTimeout(receiver.recvFrom(), 5000))!;
  assert.equal(data.length, MAX_DATAGRAM_SIZE);
  assert.equal(from.port, sender.addr.port);
});

Deno.test("DatagramSocket.recvFrom({ timeout }) resolves null, and the next call still gets the next datagram", async () => {
  using a = DatagramSocket.bind();
  using b = DatagramSocket.bind();
  assert.equal(await a.recvFrom({ timeout: 20 }), null);
  await b.sendTo("late", a.addr);
  const [data] = (await withTimeout(a.recvFrom({ timeout: 5000 }), 6000))!;
  assert.equal(decoder.decode(data), "late");
});

Deno.test("DatagramSocket.recvFrom({ timeout }): back-to-back waits with shorter and longer timeouts each time out on their own deadline", async () => {
  using a = DatagramSocket.bind();
  using b = DatagramSocket.bind();
  await b.sendTo("1", a.addr);
  assert.ok(await withTimeout(a.recvFrom({ timeout: 5000 }), 6000));
  let start = performance.now();
  assert.equal(await withTimeout(a.recvFrom({ timeout: 30 }), 3000), null);
  assert.ok(performance.now() - start < 3000);
  await b.sendTo("2", a.addr);
  assert.ok(
    await withTimeout(
      a.recvFrom({ timeout: 20 }).then((r) =>
        r ?? a.recvFrom({ timeout: 5000 })
      ),
      6000,
    ),
  );
  start = performance.now();
  assert.equal(await withTimeout(a.recvFrom({ timeout: 150 }), 3000), null);
  assert.ok(
    performance.now() - start >= 140,
    "not cut short by an earlier wait's timer",
  );
});

Deno.test("DatagramSocket.recvFrom() refuses a second concurrent call with a TypeError", async () => {
  using a = DatagramSocket.bind();
  using b = DatagramSocket.bind();
  const first = a.recvFrom({ timeout: 5000 });
  await assert.rejects(
    a.recvFrom(),
    /another recvFrom\(\) on this socket is pending/,
  );
  await b.sendTo("x", a.addr);
  assert.ok(await withTimeout(first, 6000));
});

Deno.test("DatagramSocket.recvFrom({ signal }): already aborted and aborted while waiting reject with signal.reason", async () => {
  using a = DatagramSocket.bind();
  const reason = new Error("stop");
  await assert.rejects(
    a.recvFrom({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  const controller = new AbortController();
  const pending = a.recvFrom({ signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
});

Deno.test("DatagramSocket.recvFrom(): close() rejects a pending call with a TypeError", async () => {
  const a = DatagramSocket.bind();
  const pending = a.recvFrom();
  a.close();
  await assert.rejects(withTimeout(pending, 5000), TypeError);
});

// --- serveUdp --------------------------------------------------------------------

Deno.test("serveUdp(): echoes datagrams; the handler's return value is the reply", async () => {
  await using server = serveUdp({
    port: 0,
    handler: (data) => decoder.decode(data).toUpperCase(),
  });
  using client = DatagramSocket.bind();
  for (const word of ["a", "bb", "ccc"]) {
    const reply = await client.request(server.addr, word, {
      timeout: 2000,
      retries: 2,
    });
    assert.equal(decoder.decode(reply), word.toUpperCase());
  }
});

Deno.test("DatagramSocket.request() retries when the server drops the first datagram", async () => {
  let seen = 0;
  await using server = serveUdp({
    port: 0,
    handler: (data) => (seen++ === 0 ? undefined : data),
  });
  using client = DatagramSocket.bind();
  const reply = await client.request(server.addr, "again", {
    timeout: 500,
    retries: 3,
  });
  assert.equal(decoder.decode(reply), "again");
  // 2 normally; 3 or 4 if a busy machine delayed a reply past the timeout
  assert.ok(seen >= 2, `${seen} datagrams seen`);
});

Deno.test("DatagramSocket.request() throws Deno.errors.TimedOut after every attempt went unanswered", async () => {
  let seen = 0;
  let sawThree!: () => void;
  const three = new Promise<void>((resolve) => sawThree = resolve);
  await using server = serveUdp({
    port: 0,
    handler: () => void (++seen === 3 && sawThree()),
  });
  using client = DatagramSocket.bind();
  await assert.rejects(
    client.request(server.addr, "x", { timeout: 50, retries: 2 }),
    (e: Error) =>
      e instanceof Deno.errors.TimedOut && /after 3 attempts/.test(e.message),
  );
  await withTimeout(three, 5000, "three attempts received");
  assert.equal(seen, 3);
});

Deno.test("serveUdp(): an oversize datagram and a throwing handler are reported while others are served", async () => {
  const errors: unknown[] = [];
  await using server = serveUdp({
    port: 0,
    maxDatagramSize: 100,
    onError: (e) => errors.push(e),
    handler: (data) => {
      if (data[0] === 0xff) throw new Error("bad byte");
      return data;
    },
  });
  using client = DatagramSocket.bind();
  await client.sendTo(new Uint8Array(101), server.addr);
  await client.sendTo(new Uint8Array([0xff]), server.addr);
  const reply = await client.request(server.addr, "ok", { timeout: 2000 });
  assert.equal(decoder.decode(reply), "ok");
  assert.equal(errors.length, 2);
  assert.ok(errors[0] instanceof RangeError);
  assert.match((errors[0] as Error).message, /101 bytes/);
  assert.equal((errors[1] as Error).message, "bad byte");
});

Deno.test("serveUdp({ signal }): aborting shuts it down and waits for async handlers", async () => {
  const controller = new AbortController();
  let finishedHandlers = 0;
  const server = serveUdp({
    port: 0,
    signal: controller.signal,
    handler: async (data) => {
      await new Promise((r) => setTimeout(r, 30));
      finishedHandlers++;
      return data;
    },
  });
  using client = DatagramSocket.bind();
  await client.request(server.addr, "x", { timeout: 2000 });
  controller.abort();
  await withTimeout(server.finished, 5000);
  assert.equal(server.closed, true);
  assert.equal(server.socket.closed, true);
  assert.equal(finishedHandlers, 1);
});

Deno.test("serveUdp({ maxHandlers }): a flood runs at most maxHandlers slow handlers, counts the drops and keeps serving", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  let running = 0;
  let peak = 0;
  let started = 0;
  await using server = serveUdp({
    port: 0,
    maxHandlers: 10,
    handler: async (data) => {
      started++;
      peak = Math.max(peak, ++running);
      try {
        if (data[0] !== 0x21) await gate; // "!" is the after-flood probe
        return data;
      } finally {
        running--;
      }
    },
  });
  using flooder = DatagramSocket.bind();
  const payload = new Uint8Array(100).fill(97);
  // 300 datagrams in batches of 20, each batch accounted for (handled or
  // dropped) before the next, so the kernel's buffer never overflows.
  let sent = 0;
  for (let batch = 0; batch < 15; batch++) {
    for (let i = 0; i < 20; i++, sent++) {
      await flooder.sendTo(payload, server.addr);
    }
    await withTimeout(
      (async () => {
        while (started + server.dropped < sent) {
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })(),
      5000,
      `batch ${batch} accounted for`,
    );
  }
  assert.equal(peak, 10);
  assert.equal(started, 10);
  assert.equal(server.running, 10);
  assert.equal(server.dropped, 290);
  open();
  // The slow handlers finish (their 10 replies arrive), then a new datagram
  // is handled again.
  for (let i = 0; i < 10; i++) {
    const got = await flooder.recvFrom({ timeout: 5000 });
    assert.equal(got?.[0].length, 100);
  }
  using client = DatagramSocket.bind();
  const reply = await client.request(server.addr, "!probe", {
    timeout: 2000,
    retries: 3,
  });
  assert.equal(decoder.decode(reply), "!probe");
  assert.equal(server.dropped, 290);
});

Deno.test("serveUdp() rejects a bad maxHandlers with a TypeError", () => {
  assert.throws(
    () => serveUdp({ port: 0, handler: () => {}, maxHandlers: 0 }),
    /maxHandlers must be an integer >= 1/,
  );
});
