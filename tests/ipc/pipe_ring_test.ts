// The shared-memory ring under Pipe ends that live in different workers.
import assert from "node:assert/strict";
import { newRing, RingTransport } from "../../ipc/_ring.ts";
import { EOFError } from "../../ipc/_wire.ts";
import { Connection } from "../../ipc/mod.ts";
import { withTimeout } from "../_helpers.ts";

function pair(capacity: number): [RingTransport, RingTransport] {
  const ab = newRing(capacity);
  const ba = newRing(capacity);
  return [new RingTransport(ba, ab), new RingTransport(ab, ba)];
}

Deno.test("RingTransport: frames of every size cross a small ring whole and in order (wrap-around, longer than the ring)", async () => {
  const [a, b] = pair(64);
  const sizes = [0, 1, 3, 59, 60, 61, 64, 100, 1000, 7, 0, 257];
  const sent = sizes.map((n, i) =>
    Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 255)
  );
  const writing = Promise.all(sent.map((m) => a.writeFrame(m)));
  const got: Uint8Array[] = [];
  for (let i = 0; i < sent.length; i++) {
    got.push((await withTimeout(b.readFrame(1 << 20), 10_000))!);
  }
  await withTimeout(writing, 10_000);
  assert.deepEqual(got, sent);
  a.close();
  assert.equal(await withTimeout(b.readFrame(1 << 20), 10_000), null);
  b.close();
});

Deno.test("RingTransport: close() gives the peer EOF after the frames already sent; writing to a closed peer rejects with EOFError", async () => {
  const [a, b] = pair(1024);
  await a.writeFrame(new Uint8Array([1]));
  await a.writeFrame(new Uint8Array([2]));
  a.close();
  assert.deepEqual(await b.readFrame(10), new Uint8Array([1]));
  assert.deepEqual(await b.readFrame(10), new Uint8Array([2]));
  assert.equal(await b.readFrame(10), null);
  await assert.rejects(b.writeFrame(new Uint8Array([3])), EOFError);
  b.close();
});

Deno.test("RingTransport: a pending read wakes on a write from elsewhere; poll() answers; oversize rejects with RangeError", async () => {
  const [a, b] = pair(256);
  const conn = new Connection(b, { maxMessageSize: 100 });
  assert.equal(await conn.poll(), false);
  const reading = conn.recvBytes();
  setTimeout(() => a.writeFrame(new Uint8Array(5).fill(5)), 5);
  assert.deepEqual(
    await withTimeout(reading, 10_000),
    new Uint8Array(5).fill(5),
  );
  await a.writeFrame(new Uint8Array(101));
  assert.equal(await conn.poll(1000), true);
  await assert.rejects(conn.recvBytes(), RangeError);
  assert.equal(conn.closed, true);
  a.close();
});

Deno.test("RingTransport: a writer blocked on a full ring finishes when the reader drains it; closing the reader fails the writer", async () => {
  const [a, b] = pair(64);
  const big = new Uint8Array(10_000).fill(1);
  const writing = a.writeFrame(big);
  assert.deepEqual(await withTimeout(b.readFrame(1 << 20), 10_000), big);
  await withTimeout(writing, 10_000);
  const stuck = a.writeFrame(big);
  b.close();
  await assert.rejects(withTimeout(stuck, 10_000), EOFError);
  a.close();
});

Deno.test("RingTransport: 300 random frames (0 B to 3x the ring) from concurrent writers arrive whole and in call order", async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const [a, b] = pair(1024);
  const sent = Array.from({ length: 300 }, (_, i) => {
    const n = random() < 0.1
      ? Math.floor(random() * 3072)
      : Math.floor(random() * 100);
    return Uint8Array.from({ length: n }, (_, j) => (i + j * 7) & 255);
  });
  // every write is issued at once: they must queue, not interleave
  const writing = Promise.all(sent.map((m) => a.writeFrame(m)));
  for (const expected of sent) {
    assert.deepEqual(await withTimeout(b.readFrame(1 << 20), 10_000), expected);
  }
  await withTimeout(writing, 10_000);
  a.close();
  b.close();
});
