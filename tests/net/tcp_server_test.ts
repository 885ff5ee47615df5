import assert from "node:assert/strict";
import {
  FramedConnection,
  LengthPrefixCodec,
  type ServedConnection,
  serveTcp,
} from "../../net/mod.ts";
import { flushMicrotasks, withTimeout } from "../_helpers.ts";

const codec = new LengthPrefixCodec({ maxFrameSize: 64 * 1024 });
const decoder = new TextDecoder();

async function echoFrames(conn: ServedConnection): Promise<void> {
  const framed = new FramedConnection(conn, codec);
  for await (const frame of framed) await framed.send(frame);
}

async function connectFramed(port: number): Promise<FramedConnection> {
  return new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port }),
    codec,
  );
}

/** Reads until EOF or a reset; resolves true either way (the server dropped us). */
async function dropped(conn: Deno.Conn): Promise<boolean> {
  const buf = new Uint8Array(64);
  try {
    while ((await conn.read(buf)) !== null) { /* ignore */ }
  } catch {
    // ECONNRESET also means dropped
  }
  return true;
}

// --- construction ----------------------------------------------------------

Deno.test("serveTcp() rejects bad options with a TypeError naming the field", async () => {
  const handler = () => {};
  await assert.rejects(
    serveTcp({ handler, maxConnections: 0 }),
    /maxConnections/,
  );
  await assert.rejects(serveTcp({ handler, idleTimeout: -1 }), /idleTimeout/);
  await assert.rejects(
    serveTcp({ handler, requestTimeout: NaN }),
    /requestTimeout/,
  );
  await assert.rejects(serveTcp({ handler, threads: 0 }), /threads/);
  // A module is named as for Thread/Process/Pool: one TypeError for bad values.
  for (const module of ["", 42, null, {}]) {
    await assert.rejects(
      serveTcp({ handler: { module: module as string }, threads: 1 }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message.startsWith(
          'Cannot serve TCP: "module" must be a URL or a non-empty string',
        ),
    );
  }
  await assert.rejects(
    serveTcp({ handler: { module: "./x.ts", fn: "" }, threads: 1 }),
    /handler.fn must be a non-empty string/,
  );
  await assert.rejects(
    serveTcp({ handler, threads: 2 }),
    /functions cannot cross/,
  );
  await assert.rejects(
    serveTcp({ handler: 42 as unknown as () => void }),
    TypeError,
  );
});

Deno.test("serveTcp() listens on 127.0.0.1 by default", async () => {
  await using server = await serveTcp({ port: 0, handler: () => {} });
  assert.equal(server.addr.hostname, "127.0.0.1");
  assert.ok(server.addr.port > 0);
});

// --- happy path ------------------------------------------------------------

Deno.test("serveTcp(): a throwing handler affects only its own connection", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  await using server = await serveTcp({
    port: 0,
    onError: (e) => errors.push(e),
    handler: async (conn) => {
      if (calls++ === 0) throw new Error("boom");
      await echoFrames(conn);
    },
  });
  using bad = await Deno.connect(server.addr);
  assert.ok(await withTimeout(dropped(bad), 5000, "bad client dropped"));
  using good = await connectFramed(server.addr.port);
  await good.send("still here");
  assert.equal(
    decoder.decode((await withTimeout(good.receive(), 5000))!),
    "still here",
  );
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "boom");
});

Deno.test("serveTcp(): 200 concurrent clients x 100 round trips all get their own answers", async () => {
  await using server = await serveTcp({ port: 0, handler: echoFrames });
  const clients = 200, rounds = 100;
  const run = async (id: number) => {
    using client = await connectFramed(server.addr.port);
    for (let r = 0; r < rounds; r++) {
      const message = `${id}:${r}`;
      await client.send(message);
      const reply = await client.receive();
      assert.equal(decoder.decode(reply!), message);
    }
    return rounds;
  };
  const done = await withTimeout(
    Promise.all(Array.from({ length: clients }, (_, i) => run(i))),
    60_000,
    "200 x 100 round trips",
  );
  assert.equal(done.reduce((a, b) => a + b, 0), clients * rounds);
});

// --- hostile clients ---------------------------------------------------------

Deno.test("serveTcp(): a client announcing a frame over maxFrameSize is dropped with a RangeError while 20 others are served", async () => {
  const errors: unknown[] = [];
  await using server = await serveTcp({
    port: 0,
    onError: (e) => errors.push(e),
    handler: echoFrames,
  });
  const honest = async (id: number) => {
    using client = await connectFramed(server.addr.port);
    for (let r = 0; r < 20; r++) {
      await client.send(`${id}/${r}`);
      assert.equal(decoder.decode((await client.receive())!), `${id}/${r}`);
    }
  };
  const evil = async () => {
    using conn = await Deno.connect(server.addr);
    await conn.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    return await dropped(conn);
  };
  const [wasDropped] = await withTimeout(
    Promise.all([evil(), ...Array.from({ length: 20 }, (_, i) => honest(i))]),
    30_000,
    "evil + 20 honest clients",
  );
  assert.equal(wasDropped, true);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RangeError);
  assert.match(
    (errors[0] as Error).message,
    /4294967295 bytes exceeds maxFrameSize 65536/,
  );
});

Deno.test("serveTcp({ idleTimeout }): 50 silent connections are dropped while a normal client is served", async () => {
  const errors: unknown[] = [];
  await using server = await serveTcp({
    port: 0,
    // Generous so the normal client's round trips never look idle on a busy machine.
    idleTimeout: 1000,
    onError: (e) => errors.push(e),
    handler: echoFrames,
  });
  const silent = await Promise.all(
    Array.from({ length: 50 }, () => Deno.connect(server.addr)),
  );
  try {
    const drops = Promise.all(silent.map(dropped));
    using client = await connectFramed(server.addr.port);
    for (let r = 0; r < 10; r++) {
      await client.send(`r${r}`);
      assert.equal(
        decoder.decode((await withTimeout(client.receive(), 5000))!),
        `r${r}`,
      );
    }
    await withTimeout(drops, 15_000, "silent clients dropped");
  } finally {
    for (const conn of silent) conn.close();
  }
  // The normal client may also have gone idle by now; count the silent ones.
  const timedOut = errors.filter((e) => e instanceof Deno.errors.TimedOut);
  assert.ok(timedOut.length >= 50, `${timedOut.length} idle drops reported`);
  assert.match((timedOut[0] as Error).message, /idle for over 1000 ms/);
});

Deno.test("serveTcp({ idleTimeout }): time the handler spends between reads is not idle time", async () => {
  const errors: unknown[] = [];
  await using server = await serveTcp({
    port: 0,
    idleTimeout: 100,
    onError: (e) => errors.push(e),
    handler: async (conn) => {
      await new Promise((resolve) => setTimeout(resolve, 400)); // busy, no I/O
      const buf = new Uint8Array(1);
      await conn.read(buf); // the byte is already there
      await conn.write(buf);
    },
  });
  using client = await Deno.connect(server.addr);
  await client.write(new Uint8Array([42]));
  const buf = new Uint8Array(1);
  assert.equal(await withTimeout(client.read(buf), 5000), 1);
  assert.equal(buf[0], 42);
  assert.deepEqual(errors, []);
});

/**
 * A slowloris client: drips one byte of a frame that never ends every
 * `every` ms (well inside idleTimeout) until the server drops it or it gave
 * up after `max` drips. Resolves "dropped" or "gave up".
 */
async function drip(
  conn: Deno.Conn,
  every: number,
  max: number,
): Promise<"dropped" | "gave up"> {
  let isDropped = false;
  const watching = dropped(conn).then(() => isDropped = true);
  // A header announcing 1000 bytes, then the payload one byte at a time.
  const bytes = [0, 0, 3, 232, ...new Array(996).fill(120)];
  try {
    for (let i = 0; i < max && !isDropped; i++) {
      await conn.write(new Uint8Array([bytes[i % bytes.length]]));
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  } catch {
    isDropped = true; // the write hit the reset
  }
  const result = isDropped ? "dropped" : "gave up";
  conn.close();
  await watching;
  return result;
}

Deno.test("serveTcp({ requestTimeout }): slowloris clients holding every slot are dropped and a good client is served", async () => {
  const errors: unknown[] = [];
  let accepted = 0;
  let allAccepted!: () => void;
  const fourIn = new Promise<void>((resolve) => allAccepted = resolve);
  await using server = await serveTcp({
    port: 0,
    maxConnections: 4,
    idleTimeout: 2000,
    requestTimeout: 1000,
    onError: (e) => errors.push(e),
    handler: (conn) => {
      if (++accepted === 4) allAccepted();
      return echoFrames(conn);
    },
  });
  // Four drippers take every slot; each drips every 100 ms for up to 8 s.
  const drippers: Promise<"dropped" | "gave up">[] = [];
  for (let i = 0; i < 4; i++) {
    drippers.push(drip(await Deno.connect(server.addr), 100, 80));
  }
  await withTimeout(fourIn, 5000, "four drippers accepted");
  // The good client waits for a slot, which only a dropped dripper frees.
  using client = await connectFramed(server.addr.port);
  await client.send("good");
  const reply = await withTimeout(client.receive(), 15_000, "good reply");
  assert.equal(decoder.decode(reply!), "good");
  const outcomes = await withTimeout(Promise.all(drippers), 15_000);
  assert.deepEqual(outcomes, ["dropped", "dropped", "dropped", "dropped"]);
  const timedOut = errors.filter((e) => e instanceof Deno.errors.TimedOut);
  assert.equal(timedOut.length, 4, String(errors));
  assert.match(
    (timedOut[0] as Error).message,
    /took over 1000 ms to send one request/,
  );
});

Deno.test("serveTcp({ requestTimeout }): a client slower in total than requestTimeout but finishing each request in time stays", async () => {
  const errors: unknown[] = [];
  await using server = await serveTcp({
    port: 0,
    requestTimeout: 1000,
    onError: (e) => errors.push(e),
    handler: async (conn) => {
      // A raw handler: one request is one "\n"-terminated line.
      const buf = new Uint8Array(64);
      let line = "";
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        line += decoder.decode(buf.subarray(0, n));
        if (line.endsWith("\n")) {
          conn.progress();
          await conn.write(new TextEncoder().encode(line));
          line = "";
        }
      }
    },
  });
  using client = await Deno.connect(server.addr);
  const buf = new Uint8Array(64);
  // 8 requests, each sent in two halves 100 ms apart and followed by a
  // 100 ms pause: 1.6 s in all, over requestTimeout.
  for (let i = 0; i < 8; i++) {
    await client.write(new TextEncoder().encode(`req`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.write(new TextEncoder().encode(`${i}\n`));
    const n = await withTimeout(client.read(buf), 5000);
    assert.equal(decoder.decode(buf.subarray(0, n!)), `req${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(errors, []);
});

Deno.test("serveTcp({ maxConnections }): extra clients wait until a slot frees", async () => {
  await using server = await serveTcp({
    port: 0,
    maxConnections: 2,
    handler: async (conn) => {
      await conn.write(new TextEncoder().encode("hi"));
      await conn.read(new Uint8Array(1)); // until the client leaves
    },
  });
  const greet = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(2);
    return await conn.read(buf);
  };
  const a = await Deno.connect(server.addr);
  using b = await Deno.connect(server.addr);
  using c = await Deno.connect(server.addr);
  let aOpen = true;
  try {
    assert.equal(await withTimeout(greet(a), 5000), 2);
    assert.equal(await withTimeout(greet(b), 5000), 2);
    const third = greet(c);
    let greeted = false;
    third.then(() => greeted = true, () => greeted = true);
    await flushMicrotasks();
    assert.equal(server.connections, 2);
    assert.equal(greeted, false);
    a.close();
    aOpen = false;
    assert.equal(await withTimeout(third, 5000, "third client greeted"), 2);
  } finally {
    if (aOpen) a.close();
  }
});

// --- shutdown ------------------------------------------------------------------

Deno.test("TcpServer.shutdown(): waits for handlers, aborts conn.signal, force-closes at the deadline", async () => {
  const seen: string[] = [];
  let started = 0;
  let bothStarted!: () => void;
  const both = new Promise<void>((resolve) => bothStarted = resolve);
  const server = await serveTcp({
    port: 0,
    handler: async (conn) => {
      const first = new Uint8Array(1);
      await conn.read(first);
      if (++started === 2) bothStarted();
      if (first[0] === 1) {
        // ignores conn.signal: keeps reading until shutdown closes it
        await conn.read(new Uint8Array(1)).catch(() => seen.push("forced"));
        return;
      }
      if (!conn.signal.aborted) {
        await new Promise((resolve) =>
          conn.signal.addEventListener("abort", resolve, { once: true })
        );
      }
      seen.push("polite");
    },
  });
  using polite = await Deno.connect(server.addr);
  using stubborn = await Deno.connect(server.addr);
  await polite.write(new Uint8Array([0]));
  await stubborn.write(new Uint8Array([1]));
  await withTimeout(both, 5000, "both handlers reading");
  assert.equal(server.connections, 2);
  await withTimeout(server.shutdown({ timeout: 200 }), 10_000, "shutdown");
  await server.finished;
  assert.equal(server.closed, true);
  assert.deepEqual(seen.sort(), ["forced", "polite"]);
  assert.equal(server.connections, 0);
  await assert.rejects(Deno.connect(server.addr));
});

Deno.test("serveTcp(): restarting on the same port right after shutdown works", async () => {
  let port = 0;
  for (let round = 0; round < 3; round++) {
    const server = await serveTcp({ port, handler: echoFrames });
    port = server.addr.port;
    using client = await connectFramed(port);
    await client.send("x");
    assert.equal(
      decoder.decode((await withTimeout(client.receive(), 5000))!),
      "x",
    );
    // the server side closes first, leaving its socket in TIME_WAIT
    await server.shutdown({ timeout: 0 });
  }
});

Deno.test("serveTcp({ signal }): aborting shuts the server down", async () => {
  const controller = new AbortController();
  const server = await serveTcp({
    port: 0,
    signal: controller.signal,
    shutdownTimeout: 100,
    handler: echoFrames,
  });
  using client = await connectFramed(server.addr.port);
  await client.send("a");
  await withTimeout(client.receive(), 5000);
  controller.abort();
  await withTimeout(server.finished, 10_000, "finished after abort");
  assert.equal(server.closed, true);
  assert.equal(await withTimeout(client.receive(), 5000), null);
});

Deno.test("serveTcp(): an already-aborted signal rejects with signal.reason", async () => {
  const reason = new Error("no");
  await assert.rejects(
    serveTcp({ handler: () => {}, signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});
