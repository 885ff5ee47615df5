import assert from "node:assert/strict";
import { LengthPrefixCodec, recv, sendall, serveTcp } from "../../net/mod.ts";

async function pair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  return { client, server };
}

// ---- recv / sendall ----

Deno.test("recv() returns what has arrived, at most bufsize bytes, and b'' at EOF", async () => {
  const { client, server } = await pair();
  try {
    await sendall(client, "hello world");
    const first = await recv(server, 5);
    assert.equal(new TextDecoder().decode(first), "hello");
    assert.equal(new TextDecoder().decode(await recv(server, 1024)), " world");
    client.close();
    assert.deepEqual(await recv(server, 1024), new Uint8Array(0));
  } finally {
    server.close();
  }
});

Deno.test("recv() with a timeout closes the stream and rejects with TimedOut", async () => {
  const { client, server } = await pair();
  try {
    await assert.rejects(
      recv(server, 16, { timeout: 50 }),
      (e) =>
        e instanceof Deno.errors.TimedOut &&
        /sent nothing for 50 ms/.test(e.message),
    );
    // the stream was closed: a second read fails rather than hanging
    await assert.rejects(server.read(new Uint8Array(1)));
  } finally {
    client.close();
  }
});

Deno.test("recv() checks bufsize and timeout", async () => {
  const { client, server } = await pair();
  try {
    await assert.rejects(recv(server, 0), RangeError);
    await assert.rejects(recv(server, 1.5), RangeError);
    await assert.rejects(recv(server, 4, { timeout: -1 }), TypeError);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("sendall() writes every byte of a large buffer", async () => {
  const { client, server } = await pair();
  try {
    const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const sending = sendall(client, data).then(() => client.closeWrite());
    let got = 0;
    let ok = true;
    while (true) {
      const chunk = await recv(server, 65536);
      if (chunk.length === 0) break;
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== (got + i) % 251) ok = false;
      }
      got += chunk.length;
    }
    await sending;
    assert.equal(got, data.length);
    assert.ok(ok);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("ServedConnection.recv()/sendall(): Python's self.request.recv / sendall", async () => {
  await using srv = await serveTcp({
    port: 0,
    handler: async (conn) => {
      while (true) {
        const data = await conn.recv(1024);
        if (data.length === 0) return;
        await conn.sendall(data.reverse());
      }
    },
  });
  using client = await Deno.connect(srv.addr);
  await sendall(client, "abc");
  assert.equal(
    new TextDecoder().decode(await recv(client, 16, { timeout: 5000 })),
    "cba",
  );
});

// ---- LengthPrefixCodec({ struct }) ----

Deno.test("LengthPrefixCodec struct 'i' is Python's struct.pack('i', n): 4 bytes, little-endian, signed", () => {
  const codec = new LengthPrefixCodec({ struct: "i" });
  assert.equal(codec.headerBytes, 4);
  assert.equal(codec.littleEndian, true);
  assert.equal(codec.signed, true);
  // struct.pack('i', 258) == b'\x02\x01\x00\x00'
  assert.deepEqual(
    codec.header(new Uint8Array(258)),
    new Uint8Array([2, 1, 0, 0]),
  );
  // a negative length (high bit set) is malformed, not 2 GiB
  assert.throws(
    () => codec.decode(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0),
    /malformed header announces -1 bytes/,
  );
  assert.throws(
    () => new LengthPrefixCodec({ struct: "i", maxFrameSize: 2 ** 31 }),
    RangeError,
  );
});

Deno.test("LengthPrefixCodec struct formats: byte order and size", () => {
  const cases: [string, number, boolean, boolean][] = [
    ["!I", 4, false, false],
    [">i", 4, false, true],
    ["<I", 4, true, false],
    ["=i", 4, true, true],
    ["@Q", 8, true, false],
    ["!q", 8, false, true],
  ];
  for (const [format, bytes, little, signed] of cases) {
    const codec = new LengthPrefixCodec({ struct: format });
    assert.deepEqual(
      [codec.headerBytes, codec.littleEndian, codec.signed],
      [bytes, little, signed],
      format,
    );
    const frame = codec.encode(new Uint8Array([9, 8, 7]));
    const step = codec.decode(frame, 0);
    assert.ok("start" in step && step.end - step.start === 3, format);
  }
  for (const bad of ["h", "ii", "!", "<l", "", 4]) {
    assert.throws(
      () => new LengthPrefixCodec({ struct: bad as string }),
      TypeError,
    );
  }
  const q = new LengthPrefixCodec({ struct: "q" });
  const negative = new Uint8Array(8).fill(0xff);
  assert.throws(() => q.decode(negative, 0), RangeError);
});
