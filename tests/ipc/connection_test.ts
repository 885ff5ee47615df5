import assert from "node:assert/strict";
import { Connection, EOFError, Pipe } from "../../ipc/mod.ts";
import { StreamTransport } from "../../ipc/_stream_transport.ts";
import { encodeHeader } from "../../ipc/_wire.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";

/** A connected TCP pair: [weft Connection, raw Deno.Conn peer]. */
async function tcpPair(
  maxMessageSize?: number,
): Promise<[Connection, Deno.Conn, () => void]> {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  const raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  });
  const conn = Connection.fromConn(await accepted, { maxMessageSize });
  return [conn, raw, () => {
    conn.close();
    try {
      raw.close();
    } catch { /* closed by the test */ }
    server.close();
  }];
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let n = 0;
  while (n < bytes.length) n += await conn.write(bytes.subarray(n));
}

async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error("EOF");
    got += r;
  }
  return out;
}

// ---- framing (byte-exact with Python's multiprocessing.connection)
Deno.test("encodeHeader() is a 4-byte big-endian signed length, -1 + 8-byte length from 2 GiB", () => {
  assert.deepEqual(encodeHeader(0), new Uint8Array([0, 0, 0, 0]));
  assert.deepEqual(encodeHeader(258), new Uint8Array([0, 0, 1, 2]));
  assert.deepEqual(
    encodeHeader(0x7fffffff),
    new Uint8Array([0x7f, 255, 255, 255]),
  );
  assert.deepEqual(
    encodeHeader(0x80000000),
    new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 0x80, 0, 0, 0]),
  );
  assert.deepEqual(
    encodeHeader(5 * 2 ** 30),
    new Uint8Array([255, 255, 255, 255, 0, 0, 0, 1, 0x40, 0, 0, 0]),
  );
});

Deno.test("Connection.sendBytes() writes the header then the bytes on a socket", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    await conn.sendBytes(new Uint8Array([7, 8, 9]));
    assert.deepEqual(
      await readN(raw, 7),
      new Uint8Array([0, 0, 0, 3, 7, 8, 9]),
    );
  } finally {
    cleanup();
  }
});

Deno.test("Connection.recvBytes() reassembles messages split across many writes", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    const payload = new Uint8Array(100_000).map((_, i) => (i * 31) % 256);
    const frame = new Uint8Array(4 + payload.length);
    new DataView(frame.buffer).setInt32(0, payload.length);
    frame.set(payload, 4);
    const writing = (async () => {
      for (let i = 0; i < frame.length; i += 997) {
        await writeAll(raw, frame.subarray(i, i + 997));
      }
      await writeAll(raw, new Uint8Array([0, 0, 0, 0])); // an empty message
    })();
    assert.deepEqual(await withTimeout(conn.recvBytes(), 10_000), payload);
    assert.deepEqual(
      await withTimeout(conn.recvBytes(), 10_000),
      new Uint8Array(),
    );
    await writing;
  } finally {
    cleanup();
  }
});

Deno.test("Connection.recvBytes() reads the -1 escape with an 8-byte length", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    await writeAll(
      raw,
      new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 2, 5, 6]),
    );
    assert.deepEqual(
      await withTimeout(conn.recvBytes(), 10_000),
      new Uint8Array([5, 6]),
    );
  } finally {
    cleanup();
  }
});

// ---- limits
Deno.test("Connection.recvBytes() rejects an oversize message with RangeError and closes", async () => {
  const [conn, raw, cleanup] = await tcpPair(1024);
  try {
    await writeAll(raw, new Uint8Array([0, 0, 4, 1]));
    await assert.rejects(
      withTimeout(conn.recvBytes(), 10_000),
      (e: Error) =>
        e instanceof RangeError &&
        /1025 exceeds the maximum of 1024/.test(e.message),
    );
    assert.equal(conn.closed, true);
    // The peer sees EOF.
    assert.equal(await withTimeout(raw.read(new Uint8Array(1)), 10_000), null);
  } finally {
    cleanup();
  }
});

Deno.test("Connection.recvBytes() rejects an oversize 8-byte length (5 GiB) without allocating", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    await writeAll(raw, encodeHeader(5 * 2 ** 30));
    await assert.rejects(withTimeout(conn.recvBytes(), 10_000), RangeError);
  } finally {
    cleanup();
  }
});

Deno.test("Connection.recvBytes(maxLength) rejects a longer message", async () => {
  const [a, b] = Pipe();
  await a.sendBytes(new Uint8Array(10));
  await assert.rejects(b.recvBytes(5), RangeError);
  assert.equal(b.closed, true);
  a.close();
});

Deno.test("Connection.recvBytes() rejects a negative length other than -1", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    await writeAll(raw, new Uint8Array([255, 255, 255, 254]));
    await assert.rejects(withTimeout(conn.recvBytes(), 10_000), RangeError);
  } finally {
    cleanup();
  }
});

// ---- EOF
Deno.test("Connection.recv() rejects with EOFError when the socket peer closes", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    raw.close();
    await assert.rejects(withTimeout(conn.recv(), 10_000), EOFError);
  } finally {
    cleanup();
  }
});

Deno.test("Connection.recvBytes() rejects with EOFError on a message truncated by EOF", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    await writeAll(raw, new Uint8Array([0, 0, 0, 10, 1, 2]));
    raw.close();
    await assert.rejects(
      withTimeout(conn.recvBytes(), 10_000),
      (e: Error) =>
        e instanceof EOFError && /middle of a message/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

Deno.test("Pipe end close() makes the peer's pending recv() reject with EOFError after queued messages", async () => {
  const [a, b] = Pipe();
  await a.send(1);
  a.close();
  assert.equal(await b.recv(), 1);
  await assert.rejects(withTimeout(b.recv(), 10_000), EOFError);
  b.close();
});

Deno.test("Connection.close() rejects this end's pending recv() with EOFError; later calls throw TypeError", async () => {
  const [a, b] = Pipe();
  const pending = b.recv();
  b.close();
  await assert.rejects(withTimeout(pending, 10_000), EOFError);
  await assert.rejects(b.recv(), TypeError);
  await assert.rejects(b.send(1), TypeError);
  b.close(); // idempotent
  a.close();
});

// ---- values
Deno.test("Connection.send()/recv() round-trip Map, Set, Date, BigInt, typed arrays and nesting", async () => {
  const [a, b] = Pipe();
  const value = {
    map: new Map<unknown, unknown>([["k", new Set([1, "two", 3n])]]),
    date: new Date(1_700_000_000_000),
    big: -(2n ** 100n),
    bytes: new Uint8Array([1, 2, 3]),
    floats: new Float64Array([0.5, -0]),
    nested: [{ deep: [null, undefined, true, "ü"] }],
    re: /a+b/gi,
  };
  await a.send(value);
  assert.deepEqual(await b.recv(), value);
  a.close();
  b.close();
});

Deno.test("Connection.recv() rejects bytes that were not sent by send() with TypeError", async () => {
  const [a, b] = Pipe();
  await a.sendBytes(new TextEncoder().encode("plain bytes from python"));
  await assert.rejects(b.recv(), TypeError);
  a.close();
  b.close();
});

Deno.test("Connection.send() keeps messages whole and ordered under concurrent sends on TCP", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  const peer = Connection.fromConn(raw);
  try {
    const sizes = [0, 70_000, 1, 20_000, 5, 300_000, 16_384, 16_385];
    await Promise.all(
      sizes.map((n, i) => conn.sendBytes(new Uint8Array(n).fill(i))),
    );
    for (const [i, n] of sizes.entries()) {
      const m = await withTimeout(peer.recvBytes(), 10_000);
      assert.equal(m.length, n);
      assert.ok(m.every((x) => x === i));
    }
  } finally {
    peer.close();
    cleanup();
  }
});

// ---- poll
Deno.test("Connection.poll() is false with nothing queued and true once a message arrives", async () => {
  const [a, b] = Pipe();
  assert.equal(await b.poll(), false);
  assert.equal(await b.poll(20), false);
  const waiting = b.poll(null);
  const state = probe(waiting);
  await flushMicrotasks();
  assert.equal(state.settled, false);
  await a.send("x");
  assert.equal(await withTimeout(waiting, 10_000), true);
  assert.equal(await b.recv(), "x");
  a.close();
  assert.equal(await b.poll(1000), true); // EOF is readable
  b.close();
});

Deno.test("Connection.poll(timeout) on a socket resolves false after the timeout, then true on data", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  try {
    const started = performance.now();
    assert.equal(await conn.poll(100), false);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 3000, `elapsed ${elapsed}`);
    await writeAll(raw, new Uint8Array([0, 0, 0, 1, 42]));
    assert.equal(await withTimeout(conn.poll(null), 10_000), true);
    assert.deepEqual(await conn.recvBytes(), new Uint8Array([42]));
  } finally {
    cleanup();
  }
});

// ---- one-way pipes, iteration, dispose
Deno.test("Pipe(false) returns [reader, writer]; the wrong direction throws TypeError", async () => {
  const [reader, writer] = Pipe(false);
  assert.equal(reader.writable, false);
  assert.equal(writer.readable, false);
  await assert.rejects(reader.send(1), /read-only/);
  await assert.rejects(reader.sendBytes(new Uint8Array(1)), TypeError);
  await assert.rejects(writer.recv(), /write-only/);
  await assert.rejects(writer.poll(), TypeError);
  await writer.send("ok");
  assert.equal(await reader.recv(), "ok");
  reader.close();
  writer.close();
});

Deno.test("Connection async iteration yields values until the peer closes", async () => {
  const [a, b] = Pipe();
  for (const v of [1, "two", [3]]) await a.send(v);
  a.close();
  const seen: unknown[] = [];
  for await (const v of b) seen.push(v);
  assert.deepEqual(seen, [1, "two", [3]]);
  b.close();
});

Deno.test("Connection [Symbol.dispose] closes it", () => {
  const [a, b] = Pipe();
  {
    using _a = a;
  }
  assert.equal(a.closed, true);
  b.close();
});

Deno.test("Connection rejects a bad maxMessageSize with RangeError", () => {
  assert.throws(() => Pipe(true, { maxMessageSize: -1 }), RangeError);
});

Deno.test("Connection.recv() calls made concurrently are served in call order", async () => {
  const [a, b] = Pipe();
  const pending = [b.recv(), b.recv(), b.recv()];
  for (const v of ["x", "y", "z"]) await a.send(v);
  assert.deepEqual(await withTimeout(Promise.all(pending), 10_000), [
    "x",
    "y",
    "z",
  ]);
  a.close();
  b.close();
});

// ---- the stream transport's write batching and view reads
Deno.test("Connection.sendBytes() with 600 sends in flight (0 B to 300 KiB, peer reading late) delivers each whole and in order", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  const peer = Connection.fromConn(raw);
  try {
    const sizes: number[] = [];
    let seed = 7;
    for (let i = 0; i < 600; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const pick = seed % 20;
      sizes.push(
        pick === 0
          ? 300_000
          : pick === 1
          ? 70_000
          : pick < 5
          ? seed % 5000
          : seed % 100,
      );
    }
    // nothing awaited: the first send is in flight, the rest queue behind it
    const sent = Promise.all(
      sizes.map((n, i) => conn.sendBytes(new Uint8Array(n).fill(i & 255))),
    );
    for (const [i, n] of sizes.entries()) {
      const m = await withTimeout(peer.recvBytes(), 10_000);
      assert.equal(m.length, n, `message ${i}`);
      assert.ok(m.every((x) => x === (i & 255)), `message ${i} intact`);
    }
    await withTimeout(sent, 10_000);
  } finally {
    peer.close();
    cleanup();
  }
});

Deno.test("StreamTransport.writeTagged() copies its body at once: a reused buffer in a burst still sends each value", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  const raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  });
  const writer = new StreamTransport(await accepted, { unsignedLength: true });
  const reader = new StreamTransport(raw, { unsignedLength: true });
  try {
    const body = new Uint8Array(100);
    const big = new Uint8Array(70_000);
    for (let i = 0; i < 300; i++) {
      const into = i % 50 === 49 ? big : body;
      into.fill(i & 255);
      writer.writeTagged(i, into);
      into.fill(0); // overwritten right after the call
    }
    for (let i = 0; i < 300; i++) {
      const frame = await withTimeout(reader.readFrame(1 << 20), 10_000);
      assert.ok(frame !== null);
      const view = new DataView(frame.buffer, frame.byteOffset);
      assert.equal(view.getUint32(0), i);
      assert.equal(frame.length, 4 + (i % 50 === 49 ? 70_000 : 100));
      assert.ok(frame.subarray(4).every((x) => x === (i & 255)), `frame ${i}`);
    }
  } finally {
    writer.close();
    reader.close();
    server.close();
  }
});

Deno.test("StreamTransport: a failed write rejects it and every frame queued behind it with EOFError; unawaited writeTagged frames report nothing", async () => {
  const gates: ((n: number) => void)[] = [];
  const fails: ((error: Error) => void)[] = [];
  const written: Uint8Array[] = [];
  let closed = 0;
  const fake = {
    read: () => new Promise<number | null>(() => {}),
    write(p: Uint8Array): Promise<number> {
      written.push(p.slice());
      return new Promise<number>((resolve, reject) => {
        gates.push(resolve);
        fails.push(reject);
      });
    },
    close() {
      closed++;
    },
  } as unknown as Deno.Conn;
  const t = new StreamTransport(fake, { unsignedLength: true });
  const first = t.writeFrame(new Uint8Array([1]));
  const queued = [
    t.writeFrame(new Uint8Array(10)),
    t.writeFrame(new Uint8Array(100_000)), // written from the caller's array
  ];
  t.writeTagged(7, new Uint8Array(3)); // nobody awaits it
  assert.equal(written.length, 1, "the rest waits for the first write");
  gates[0](5); // the first write completes: the batch goes out in one write
  await first;
  await flushMicrotasks();
  assert.equal(written.length, 2);
  fails[1](new Deno.errors.BrokenPipe("gone")); // the peer is gone
  for (const p of queued) await assert.rejects(p, EOFError);
  await assert.rejects(t.writeFrame(new Uint8Array(1)), EOFError);
  assert.throws(() => t.writeTagged(8, new Uint8Array(1)), EOFError);
  assert.equal(closed, 0, "a peer that is gone is EOF, not a local close");
  t.close();
});

Deno.test("StreamTransport view reads: tryReadView()/readViewOrSkip() hand out views of the read buffer, oversize frames skipped", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  const reader = new StreamTransport(raw);
  try {
    await conn.sendBytes(new Uint8Array([1, 2, 3]));
    await conn.sendBytes(new Uint8Array(50).fill(9));
    await conn.sendBytes(new Uint8Array([4]));
    const first = await withTimeout(reader.readViewOrSkip(10, 2), 10_000);
    assert.ok(first instanceof Uint8Array);
    assert.deepEqual([...first], [1, 2, 3]);
    assert.ok(first.buffer.byteLength > 3, "a view, not a copy");
    assert.throws(() => reader.tryReadView(10), RangeError); // left in place
    const second = await withTimeout(reader.readViewOrSkip(10, 2), 10_000);
    assert.deepEqual(second, { size: 50, head: new Uint8Array([9, 9]) });
    await withTimeout(reader.poll(Infinity), 10_000);
    assert.deepEqual(reader.tryReadView(10), new Uint8Array([4]));
    conn.close();
    assert.equal(await withTimeout(reader.readViewOrSkip(10, 2), 10_000), null);
  } finally {
    reader.close();
    cleanup();
  }
});

Deno.test("Connection.recv() on TCP stays correct with poll() calls between concurrent reads", async () => {
  const [conn, raw, cleanup] = await tcpPair();
  const peer = Connection.fromConn(raw);
  try {
    const got: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      got.push(peer.recv());
      void peer.poll(0);
    }
    for (let i = 0; i < 50; i++) {
      await conn.send({ i, pad: "x".repeat(i * 37) });
    }
    const values = await withTimeout(Promise.all(got), 10_000);
    assert.deepEqual(
      values,
      Array.from({ length: 50 }, (_, i) => ({ i, pad: "x".repeat(i * 37) })),
    );
  } finally {
    peer.close();
    cleanup();
  }
});
