// The pickle examples against real CPython: examples/python_peer/ (weft
// server + Python client, Python server + weft client) and
// examples/hmac_echo_pickle_server.ts with its Python echo client.
import assert from "node:assert/strict";
import { findPython, runCommand, runDeno, withTimeout } from "../_helpers.ts";
import { example, startProgram } from "../examples/_program.ts";

const CI = Deno.env.get("CI") === "true";
const python = findPython("3.12") ?? findPython("3.13") ?? findPython("3.11");

function pyTest(
  name: string,
  fn: (python: string, dir: string) => Promise<void>,
): void {
  Deno.test({
    name: python || CI
      ? name
      : `${name} [no Python 3.11-3.13 installed: ignored]`,
    ignore: !python && !CI,
    async fn() {
      if (!python) {
        throw new Error("Python 3.11-3.13 is required under CI=true");
      }
      const dir = await Deno.makeTempDir({ prefix: "weft_pickle_example_" });
      try {
        await fn(python, dir);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** Starts an example server with its key in `keyFile`, on a free port. */
function startKeyed(
  dir: string,
  program: string,
  keyFile: string,
  extra: string[] = [],
): ReturnType<typeof startProgram> {
  return startProgram(
    [example(program), "--key-file", keyFile, "--port", "0", ...extra],
    /listening on 127\.0\.0\.1:(\d+)/,
    {
      permissions: [
        "--allow-net=127.0.0.1",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
      ],
    },
  );
}

pyTest(
  "examples/python_peer/server.ts: a Python client's objects arrive as documented and round-trip",
  async (python, dir) => {
    const keyFile = `${dir}/peer.key`;
    const server = await startKeyed(dir, "python_peer/server.ts", keyFile, [
      "--once",
    ]);
    try {
      const client = await runCommand(python, [
        example("python_peer/client.py"),
        "--key-file",
        keyFile,
        "--port",
        server.match[1],
      ], {
        timeout: 30_000,
      });
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, /^\s+int -> bigint$/m);
      assert.match(client.stdout, /^\s+tuple -> Tuple$/m);
      assert.match(client.stdout, /^\s+datetime -> Temporal\.ZonedDateTime$/m);
      assert.match(client.stdout, /^round trip: equal$/m);
      assert.match(
        client.stdout,
        /^hostile pickle: refused Cannot unpickle: global "os\.system" is not allowed$/m,
      );
    } finally {
      const out = await server.stop();
      assert.match(out.stdout, /client 1: refused a pickle/);
    }
  },
);

pyTest(
  "examples/python_peer/client.ts: weft's values reach a Python Listener as Python objects",
  async (python, dir) => {
    const keyFile = `${dir}/peer.key`;
    await Deno.writeTextFile(keyFile, "cd".repeat(32) + "\n");
    const child = new Deno.Command(python, {
      args: [
        example("python_peer/server.py"),
        "--key-file",
        keyFile,
        "--port",
        "0",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      // the ready line, bounded (a chunk may hold part of it)
      let head = "";
      while (!head.includes("\n")) {
        const { value, done } = await withTimeout(
          reader.read(),
          30_000,
          "python server ready line",
        );
        if (done) break;
        head += value;
      }
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(head)?.[1];
      assert.ok(port, `no ready line: ${head}`);
      reader.releaseLock();
      const result = await runDeno(
        [
          "run",
          "--allow-net=127.0.0.1",
          `--allow-read=${dir}`,
          example("python_peer/client.ts"),
          "--key-file",
          keyFile,
          "--port",
          port,
        ],
        { timeout: 30_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /sum of big ints: 36893488147419103233n/);
      assert.match(
        result.stdout,
        /tomorrow: 2027-01-01T23:30:00\+01:00\[Europe\/Paris\]/,
      );
      assert.match(result.stdout, /sorted set: Tuple\(3\) \[ 1, 2, 3 \]/);
      assert.match(result.stdout, /float: "float"/);
      assert.match(result.stdout, /when: "datetime"/);
      const status = await withTimeout(child.status, 30_000, "python exit");
      assert.equal(status.code, 0);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
  },
);

pyTest(
  "examples/hmac_echo_pickle_server.ts: Python objects are echoed; a wrong key is refused",
  async (python, dir) => {
    const keyFile = `${dir}/echo.key`;
    const server = await startKeyed(dir, "hmac_echo_pickle_server.ts", keyFile);
    try {
      await Deno.writeTextFile(`${dir}/wrong.key`, "ab".repeat(32) + "\n");
      const client = (key: string, stdin: string) =>
        runCommand(python, [
          example("python_peer/echo_client.py"),
          "--key-file",
          key,
          "--port",
          server.match[1],
        ], {
          stdin,
          timeout: 30_000,
        });
      const [good, bad] = await Promise.all([
        client(keyFile, "hello\nhmac 🐍\n"),
        client(`${dir}/wrong.key`, "never\n"),
      ]);
      assert.equal(good.code, 0, good.stderr);
      const lines = good.stdout.trim().split("\n");
      assert.equal(lines[0], "authenticated");
      assert.equal(lines.length, 3);
      assert.ok(lines.slice(1).every((l) => l.endsWith(" same")), good.stdout);
      assert.match(lines[2], /'HMAC 🐍'/);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^refused:/);
    } finally {
      const out = await server.stop();
      assert.match(out.stdout, /refused a client/);
    }
  },
);
