import assert from "node:assert/strict";
import {
  type ByteStream,
  DelimiterCodec,
  type FrameCodec,
  FramedConnection,
  IncompleteReadError,
  LengthPrefixCodec,
  readExactly,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";

/** An in-memory stream that returns the given chunks one per read, then EOF. */
function chunkStream(
  chunks: Uint8Array[],
): ByteStream & { written: Uint8Array[] } {
  let i = 0;
  let offset = 0;
  const written: Uint8Array[] = [];
  return {
    written,
    read(p: Uint8Array): Promise<number | null> {
      while (i < chunks.length && offset >= chunks[i].length) {
        i++;
        offset = 0;
      }
      if (i >= chunks.length) return Promise.resolve(null);
      const chunk = chunks[i];
      const n = Math.min(p.length, chunk.length - offset);
      p.set(chunk.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
    write(p: Uint8Array): Promise<number> {
      written.push(p.slice());
      return Promise.resolve(p.length);
    },
    close() {},
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function payloads(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(i % 37);
    // Any byte but "\n" and "\r", so the same frames suit the delimiter codecs.
    for (let j = 0; j < p.length; j++) p[j] = (i * 7 + j) & 0x7f | 0x01;
    out.push(p.map((b) => b === 0x0a || b === 0x0d ? 0x0b : b));
  }
  return out;
}

async function drain(framed: FramedConnection): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const frame of framed) out.push(frame.slice());
  return out;
}

const codecs: [string, () => FrameCodec][] = [
  ["LengthPrefixCodec(4)", () => new LengthPrefixCodec({ headerBytes: 4 })],
  [
    "LengthPrefixCodec(8, littleEndian)",
    () => new LengthPrefixCodec({ headerBytes: 8, littleEndian: true }),
  ],
  ["DelimiterCodec(\\n)", () => new DelimiterCodec({ delimiter: "\n" })],
  ["DelimiterCodec(\\r\\n)", () => new DelimiterCodec({ delimiter: "\r\n" })],
];

// --- construction ----------------------------------------------------------

Deno.test("LengthPrefixCodec() rejects bad headerBytes and maxFrameSize with a TypeError/RangeError", () => {
  assert.throws(
    () => new LengthPrefixCodec({ headerBytes: 2 as unknown as 4 }),
    TypeError,
  );
  assert.throws(() => new LengthPrefixCodec({ maxFrameSize: -1 }), TypeError);
  assert.throws(
    () => new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: 2 ** 33 }),
    RangeError,
  );
  assert.throws(() => new DelimiterCodec({ delimiter: "" }), TypeError);
});

Deno.test("LengthPrefixCodec.encode() writes a big-endian header by default and little-endian on request", () => {
  assert.deepEqual(
    [...new LengthPrefixCodec().encode(new Uint8Array([9]))],
    [0, 0, 0, 1, 9],
  );
  assert.deepEqual(
    [...new LengthPrefixCodec({ littleEndian: true }).encode(
      new Uint8Array([9]),
    )],
    [1, 0, 0, 0, 9],
  );
  assert.deepEqual(
    [...new LengthPrefixCodec({ headerBytes: 8 }).encode(new Uint8Array(0))],
    [0, 0, 0, 0, 0, 0, 0, 0],
  );
});

Deno.test("LengthPrefixCodec.decode() reads 4-byte headers as struct does: every byte order and sign, lengths across 2^31", () => {
  const lengths = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x12345, 0x7fff_ffff];
  const unsignedOnly = [0x8000_0000, 0xdead_beef, 0xffff_ffff];
  for (const struct of ["!I", "<I", "!i", "<i"]) {
    const signed = struct.endsWith("i");
    const littleEndian = struct.startsWith("<");
    const codec = new LengthPrefixCodec({ struct, maxFrameSize: 0 });
    for (const length of [...lengths, ...unsignedOnly]) {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, length, littleEndian);
      const expected = signed ? length | 0 : length;
      // maxFrameSize 0: a positive length is refused naming it, so the
      // message shows what was decoded; a negative one is malformed.
      if (expected === 0) {
        assert.deepEqual(codec.decode(header, 0), {
          start: 4,
          end: 4,
          consumed: 4,
        });
        continue;
      }
      assert.throws(
        () => codec.decode(header, 0),
        (e: Error) =>
          e instanceof RangeError &&
          e.message.includes(
            expected < 0 ? `announces ${expected} bytes` : String(expected),
          ),
        `${struct} ${length}`,
      );
    }
  }
});

Deno.test("DelimiterCodec.encode() refuses a payload containing the delimiter", () => {
  const codec = new DelimiterCodec({ delimiter: "\n" });
  assert.throws(
    () => codec.encode(new TextEncoder().encode("a\nb")),
    TypeError,
  );
});

// --- sticky packets ----------------------------------------------------------

for (const [name, make] of codecs) {
  Deno.test(`FramedConnection.receive() with ${name}: 1000 frames in one write and one byte at a time decode identically`, async () => {
    const codec = make();
    const frames = payloads(1000);
    const wire = concat(frames.map((f) => codec.encode(f)));
    const glued = await drain(new FramedConnection(chunkStream([wire]), codec));
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < wire.length; i++) bytes.push(wire.subarray(i, i + 1));
    const split = await drain(new FramedConnection(chunkStream(bytes), codec));
    assert.equal(glued.length, 1000);
    assert.deepEqual(glued, frames);
    assert.deepEqual(split, frames);
  });
}

Deno.test("FramedConnection: frames of 0 B and 16 MiB cross a real socket intact", async () => {
  const codec = new LengthPrefixCodec({ maxFrameSize: 16 * 1024 * 1024 });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const big = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
  big[big.length - 1] = 0xee;
  using client = new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    codec,
  );
  using server = new FramedConnection(await listener.accept(), codec);
  const sending = (async () => {
    await client.send(new Uint8Array(0));
    await client.send(big);
    await client.send(new Uint8Array(0));
    client.close();
  })();
  const got = await withTimeout(drain(server), 20_000, "receive 16 MiB");
  await sending;
  assert.equal(got.length, 3);
  assert.equal(got[0].length, 0);
  assert.equal(got[2].length, 0);
  assert.equal(got[1].length, big.length);
  assert.ok(got[1].every((b, i) => b === big[i]));
});

Deno.test("FramedConnection.receive() returns frames that stay intact after later reads", async () => {
  const codec = new LengthPrefixCodec();
  const wire = concat(
    [1, 2, 3].map((n) => codec.encode(new Uint8Array(5).fill(n))),
  );
  const bytes = [...wire].map((b) => new Uint8Array([b]));
  const framed = new FramedConnection(chunkStream(bytes), codec);
  const a = (await framed.receive())!;
  const b = (await framed.receive())!;
  const c = (await framed.receive())!;
  assert.equal(await framed.receive(), null);
  assert.deepEqual(
    [a, b, c].map((f) => [...f]),
    [1, 2, 3].map((n) => Array(5).fill(n)),
  );
});

Deno.test("FramedConnection({ reuseBuffer: true }) hands out views of one read buffer", async () => {
  const codec = new DelimiterCodec();
  const framed = new FramedConnection(
    chunkStream([new TextEncoder().encode("ab\ncd\n")]),
    codec,
    { reuseBuffer: true },
  );
  const a = (await framed.receive())!;
  assert.equal(new TextDecoder().decode(a), "ab");
  const b = (await framed.receive())!;
  assert.equal(new TextDecoder().decode(b), "cd");
  assert.equal(a.buffer, b.buffer);
});

Deno.test("FramedConnection: long delimited frames and large length-prefixed frames over many small reads", async () => {
  for (const codec of [new DelimiterCodec(), new LengthPrefixCodec()]) {
    const sizes = [70_000, 3, 300_000, 0, 65_536, 65_535, 131_072];
    const frames = sizes.map((n, i) => new Uint8Array(n).fill(65 + i));
    const wire = concat(frames.map((f) => codec.encode(f)));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < wire.length; i += 1000) {
      chunks.push(wire.subarray(i, i + 1000));
    }
    for (const reuseBuffer of [false, true]) {
      const framed = new FramedConnection(chunkStream(chunks), codec, {
        reuseBuffer,
      });
      const got: Uint8Array[] = [];
      for await (const frame of framed) got.push(frame.slice());
      assert.deepEqual(got, frames);
    }
  }
});

Deno.test("FramedConnection.send() writes one frame per call and serializes concurrent sends", async () => {
  const codec = new DelimiterCodec({ delimiter: "\n" });
  const stream = chunkStream([]);
  const framed = new FramedConnection(stream, codec);
  await Promise.all([framed.send("a"), framed.send("bb"), framed.send("ccc")]);
  assert.equal(
    new TextDecoder().decode(concat(stream.written)),
    "a\nbb\nccc\n",
  );
  await assert.rejects(
    framed.send("x\ny"),
    TypeError,
    "payload holds the delimiter",
  );
});

/** A stream whose writes complete only when the test says so. */
function gatedStream() {
  const written: Uint8Array[] = [];
  const gates: (() => void)[] = [];
  let failNext: Error | undefined;
  const stream: ByteStream = {
    read: () => new Promise<number | null>(() => {}),
    write(p: Uint8Array): Promise<number> {
      if (failNext) return Promise.reject(failNext);
      written.push(p.slice());
      return new Promise((resolve) => gates.push(() => resolve(p.length)));
    },
    close() {},
  };
  return {
    stream,
    written,
    /** Completes every write made so far. */
    release() {
      for (const open of gates.splice(0)) open();
    },
    fail(error: Error) {
      failNext = error;
    },
  };
}

Deno.test("FramedConnection.send(): frames sent while a write is in flight go out coalesced, in order, one write per batch", async () => {
  const codec = new LengthPrefixCodec({ maxFrameSize: 4 << 20 });
  const { stream, written, release } = gatedStream();
  const framed = new FramedConnection(stream, codec);
  const sent: Promise<void>[] = [framed.send("first")];
  assert.equal(written.length, 1); // written at once, not queued
  const small = payloads(200);
  for (const p of small) sent.push(framed.send(p));
  // A frame over the 1 MiB coalescing limit goes by itself, in order.
  const big = new Uint8Array((1 << 20) + 1).fill(7);
  sent.push(framed.send(big));
  sent.push(framed.send("last"));
  assert.equal(written.length, 1); // the rest waits for the first write
  const all = Promise.all(sent);
  let settled = false;
  all.then(() => settled = true, () => settled = true);
  for (let turn = 0; turn < 50 && !settled; turn++) {
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await withTimeout(all, 5000);
  // first | 200 small frames in one write | big header | big payload | last
  assert.equal(written.length, 5);
  assert.equal(written[2].length, 4);
  const decoded = await drain(
    new FramedConnection(chunkStream(written), codec),
  );
  assert.deepEqual(decoded.map((f) => f.length), [
    5,
    ...small.map((p) => p.length),
    big.length,
    4,
  ]);
  assert.deepEqual(decoded.slice(1, 201), small);
  assert.equal(new TextDecoder().decode(decoded[202]), "last");
});

Deno.test("FramedConnection.send(): when the write in flight fails, every frame queued behind it rejects", async () => {
  const codec = new LengthPrefixCodec();
  const { stream, release, fail } = gatedStream();
  const framed = new FramedConnection(stream, codec);
  const first = framed.send("a");
  const queued = [framed.send("b"), framed.send("c")];
  fail(new Error("broken pipe"));
  release();
  await first;
  for (const p of queued) await assert.rejects(p, /broken pipe/);
});

Deno.test("FramedConnection.send(): a send refused while a write is in flight leaves the queued batch intact", async () => {
  const codec = new LengthPrefixCodec({ maxFrameSize: 8 });
  const { stream, written, release } = gatedStream();
  const framed = new FramedConnection(stream, codec);
  const sent = [framed.send("a"), framed.send("bb")];
  await assert.rejects(framed.send(new Uint8Array(9)), RangeError);
  sent.push(framed.send("ccc"));
  const all = Promise.all(sent);
  let settled = false;
  all.then(() => settled = true, () => settled = true);
  for (let turn = 0; turn < 50 && !settled; turn++) {
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await withTimeout(all, 5000);
  assert.equal(written.length, 2); // "a", then "bb" and "ccc" in one batch
  const decoded = await drain(
    new FramedConnection(chunkStream(written), codec),
  );
  assert.deepEqual(decoded.map((f) => new TextDecoder().decode(f)), [
    "a",
    "bb",
    "ccc",
  ]);
});

Deno.test("FramedConnection.send(): close() while frames are queued rejects them with a TypeError and writes nothing more", async () => {
  const codec = new LengthPrefixCodec();
  const { stream, written, release } = gatedStream();
  const framed = new FramedConnection(stream, codec);
  const first = framed.send("a");
  const queued = [framed.send("b"), framed.send("c")];
  framed.close();
  release();
  await first;
  for (const p of queued) {
    await assert.rejects(p, TypeError, "Cannot send: the connection is closed");
  }
  assert.equal(written.length, 1);
  await assert.rejects(framed.send("d"), TypeError);
});

Deno.test("FramedConnection.send(): short writes are finished before the frames queued behind them, in order", async () => {
  const codec = new DelimiterCodec({ delimiter: "\n" });
  const written: Uint8Array[] = [];
  const stream: ByteStream = {
    read: () => new Promise<number | null>(() => {}),
    write(p: Uint8Array): Promise<number> {
      const n = Math.min(p.length, 3); // at most 3 bytes per write
      written.push(p.slice(0, n));
      return new Promise((resolve) => setTimeout(() => resolve(n), 0));
    },
    close() {},
  };
  const framed = new FramedConnection(stream, codec);
  const lines = ["first line", "second", "x", "a longer third line"];
  await withTimeout(Promise.all(lines.map((l) => framed.send(l))), 5000);
  assert.equal(
    new TextDecoder().decode(concat(written)),
    lines.join("\n") + "\n",
  );
  assert.ok(written.every((w) => w.length <= 3));
});

// --- hostile input -----------------------------------------------------------

Deno.test("FramedConnection.receive() rejects a header announcing more than maxFrameSize with a RangeError and closes", async () => {
  const codec = new LengthPrefixCodec({ maxFrameSize: 100 });
  const framed = new FramedConnection(
    chunkStream([new Uint8Array([0, 0, 1, 0])]),
    codec,
  );
  await assert.rejects(
    framed.receive(),
    (e: Error) =>
      e instanceof RangeError &&
      /256 bytes exceeds maxFrameSize 100/.test(e.message),
  );
  assert.equal(framed.closed, true);
  await assert.rejects(framed.receive(), RangeError);
});

Deno.test("FramedConnection: a frame of exactly maxFrameSize passes, one byte more is refused on send", async () => {
  const codec = new LengthPrefixCodec({ maxFrameSize: 10 });
  const stream = chunkStream([codec.encode(new Uint8Array(10))]);
  const framed = new FramedConnection(stream, codec);
  assert.equal((await framed.receive())!.length, 10);
  await assert.rejects(
    framed.send(new Uint8Array(11)),
    (e: Error) =>
      e instanceof RangeError &&
      /11 bytes exceeds maxFrameSize 10/.test(e.message),
  );
  assert.equal(
    framed.closed,
    false,
    "a refused send does not close the connection",
  );
});

Deno.test("FramedConnection.receive() rejects an 8-byte header beyond MAX_SAFE_INTEGER as malformed", async () => {
  const codec = new LengthPrefixCodec({ headerBytes: 8 });
  const framed = new FramedConnection(
    chunkStream([new Uint8Array(8).fill(0xff)]),
    codec,
  );
  await assert.rejects(framed.receive(), RangeError);
});

Deno.test("FramedConnection.receive() rejects more than maxFrameSize bytes without a delimiter", async () => {
  const codec = new DelimiterCodec({ maxFrameSize: 10 });
  const framed = new FramedConnection(
    chunkStream([new Uint8Array(11).fill(65)]),
    codec,
  );
  await assert.rejects(framed.receive(), RangeError);
  // exactly maxFrameSize plus the delimiter is fine
  const ok = new FramedConnection(
    chunkStream([new Uint8Array(10).fill(65), new Uint8Array([10])]),
    codec,
  );
  assert.equal((await ok.receive())!.length, 10);
});

Deno.test("FramedConnection.receive() throws IncompleteReadError when the stream ends inside a frame", async () => {
  const codec = new LengthPrefixCodec();
  const framed = new FramedConnection(
    chunkStream([new Uint8Array([0, 0, 0, 5, 1, 2])]),
    codec,
  );
  await assert.rejects(
    framed.receive(),
    (e: Error) => e instanceof IncompleteReadError && e.partial.length === 6,
  );
});

// --- close and abort ---------------------------------------------------------

Deno.test("FramedConnection: close() is idempotent, a pending receive() rejects with a TypeError", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using peer = await listener.accept();
  const framed = new FramedConnection(conn, new LengthPrefixCodec());
  const pending = framed.receive();
  framed.close();
  framed.close();
  await assert.rejects(withTimeout(pending, 5000), TypeError);
  assert.equal(framed.closed, true);
  await assert.rejects(framed.send("x"), TypeError);
  assert.equal(peer.remoteAddr.transport, "tcp");
});

Deno.test("FramedConnection: aborting the signal closes it and rejects with signal.reason", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using _peer = await listener.accept();
  const controller = new AbortController();
  const framed = new FramedConnection(conn, new LengthPrefixCodec(), {
    signal: controller.signal,
  });
  const pending = framed.receive();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(withTimeout(pending, 5000), (e) => e === reason);
  assert.equal(framed.closed, true);
});

// --- readExactly -------------------------------------------------------------

Deno.test("readExactly() gathers short reads and throws IncompleteReadError at early EOF", async () => {
  const bytes = [1, 2, 3, 4, 5].map((b) => new Uint8Array([b]));
  const stream = chunkStream(bytes);
  assert.deepEqual([...await readExactly(stream, 3)], [1, 2, 3]);
  assert.deepEqual([...await readExactly(stream, 0)], []);
  await assert.rejects(
    readExactly(stream, 5),
    (e: Error) =>
      e instanceof IncompleteReadError && e.expected === 5 &&
      e.partial.length === 2,
  );
  await assert.rejects(readExactly(stream, -1), RangeError);
});
