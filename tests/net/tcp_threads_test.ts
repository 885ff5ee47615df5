import assert from "node:assert/strict";
import {
  FramedConnection,
  LengthPrefixCodec,
  serveTcp,
} from "../../net/mod.ts";
import { fileURLToPath } from "node:url";
import { relative as relativePath } from "node:path";
import { withTimeout } from "../_helpers.ts";
import { work } from "./fixtures/cpu_handler.ts";

const handlerModule = new URL("./fixtures/cpu_handler.ts", import.meta.url);
const codec = new LengthPrefixCodec({ maxFrameSize: 1024 });
const decoder = new TextDecoder();

/** Collects the errors `onError` reports; `reported(n)` resolves once n arrived. */
function errorSink() {
  const errors: Error[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    errors,
    onError: (error: unknown) => {
      errors.push(error as Error);
      for (const w of waiters) if (errors.length >= w.n) w.resolve();
    },
    reported: (n: number, what: string) =>
      withTimeout(
        new Promise<void>((resolve) => {
          if (errors.length >= n) resolve();
          else waiters.push({ n, resolve });
        }),
        5000,
        what,
      ),
  };
}

Deno.test("serveTcp({ threads: 2 }): a CPU-bound handler module answers every client correctly", async () => {
  const server = await serveTcp({
    port: 0,
    threads: 2,
    handler: { module: handlerModule, fn: "handler" },
  });
  try {
    assert.equal(server.addr.hostname, "127.0.0.1");
    const client = async (id: number) => {
      using framed = new FramedConnection(
        await Deno.connect(server.addr),
        codec,
      );
      for (let r = 0; r < 5; r++) {
        const n = 10_000 + id * 100 + r;
        await framed.send(String(n));
        assert.equal(
          decoder.decode((await framed.receive())!),
          `${n}:${work(n)}`,
        );
      }
    };
    await withTimeout(
      Promise.all(Array.from({ length: 16 }, (_, i) => client(i))),
      30_000,
      "16 clients on 2 threads",
    );
  } finally {
    await withTimeout(server.shutdown({ timeout: 1000 }), 10_000, "shutdown");
  }
  await server.finished;
  assert.equal(server.connections, 0);
});

Deno.test("serveTcp({ threads }): handler errors in a worker reach onError with name and message", async () => {
  const { errors, onError, reported } = errorSink();
  const module = "data:text/javascript," + encodeURIComponent(
    "export function handler() { throw new RangeError('bad input'); }",
  );
  await using server = await serveTcp({
    port: 0,
    threads: 1,
    handler: { module },
    onError,
  });
  using conn = await Deno.connect(server.addr);
  assert.equal(await withTimeout(conn.read(new Uint8Array(1)), 5000), null);
  await reported(1, "error reported");
  assert.equal(errors[0].name, "RangeError");
  assert.equal(errors[0].message, "bad input");
});

Deno.test("serveTcp({ threads }): a module without the export fails to start with a TypeError", async () => {
  const module = "data:text/javascript," +
    encodeURIComponent("export const x = 1;");
  await assert.rejects(
    serveTcp({ port: 0, threads: 1, handler: { module, fn: "missing" } }),
    (e: Error) =>
      e instanceof TypeError &&
      /no exported function "missing"/.test(e.message),
  );
});

Deno.test("serveTcp({ threads }): a module path relative to the cwd resolves as for Thread/Process/Pool", async () => {
  // The same fixture, named by a relative path ("tests/net/fixtures/..."
  // from the repository root, "./fixtures/..." from tests/net).
  const relative = "./" +
    relativePath(Deno.cwd(), fileURLToPath(handlerModule));
  assert.ok(!URL.canParse(relative), relative);
  for (const threads of [1, undefined]) {
    await using server = await serveTcp({
      port: 0,
      threads,
      handler: { module: relative, fn: "handler" },
    });
    using framed = new FramedConnection(await Deno.connect(server.addr), codec);
    await framed.send("1000");
    assert.equal(
      decoder.decode((await withTimeout(framed.receive(), 10_000))!),
      `1000:${work(1000)}`,
    );
  }
});

Deno.test("serveTcp({ threads: 2 }): restarting on the same port after shutdown works", async () => {
  const first = await serveTcp({
    port: 0,
    threads: 2,
    handler: { module: handlerModule, fn: "echo" },
  });
  const port = first.addr.port;
  using c1 = await Deno.connect(first.addr);
  await c1.write(new Uint8Array([7]));
  await withTimeout(c1.read(new Uint8Array(1)), 5000);
  await first.shutdown({ timeout: 0 });
  const second = await serveTcp({
    port,
    threads: 2,
    handler: { module: handlerModule, fn: "echo" },
  });
  try {
    assert.equal(second.addr.port, port);
    using c2 = await Deno.connect(second.addr);
    await c2.write(new Uint8Array([8]));
    const buf = new Uint8Array(1);
    await withTimeout(c2.read(buf), 5000);
    assert.equal(buf[0], 8);
  } finally {
    await second.shutdown({ timeout: 0 });
  }
});

Deno.test("serveTcp({ threads }): a stray rejection in the handler module is reported and the thread keeps serving", async () => {
  const { errors, onError, reported } = errorSink();
  const module = "data:text/javascript," + encodeURIComponent(
    "export function handler(conn) { Promise.reject(new Error('stray')); return conn.write(new Uint8Array([1])); }",
  );
  await using server = await serveTcp({
    port: 0,
    threads: 1,
    handler: { module },
    onError,
  });
  for (let i = 0; i < 2; i++) {
    using conn = await Deno.connect(server.addr);
    const buf = new Uint8Array(1);
    assert.equal(await withTimeout(conn.read(buf), 5000, "reply"), 1);
  }
  await reported(2, "stray errors reported");
  assert.match(
    errors[0].message,
    /Uncaught in a serveTcp worker thread: stray/,
  );
});

Deno.test("serveTcp({ threads, requestTimeout }): a client dripping a frame is dropped in the worker too", async () => {
  const { errors, onError, reported } = errorSink();
  await using server = await serveTcp({
    port: 0,
    threads: 1,
    requestTimeout: 300,
    handler: { module: handlerModule, fn: "handler" },
    onError,
  });
  using conn = await Deno.connect(server.addr);
  // Half a header, then nothing more: the request never completes.
  await conn.write(new Uint8Array([0, 0]));
  let dropped = false;
  try {
    dropped = await withTimeout(conn.read(new Uint8Array(1)), 10_000) === null;
  } catch {
    dropped = true; // a reset
  }
  assert.ok(dropped);
  await reported(1, "error reported");
  assert.equal(errors[0].name, "TimedOut");
  assert.match(errors[0].message, /took over 300 ms to send one request/);
});
