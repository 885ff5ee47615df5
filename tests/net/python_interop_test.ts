import assert from "node:assert/strict";
import {
  FramedConnection,
  LengthPrefixCodec,
  serveTcp,
  serveUdp,
} from "../../net/mod.ts";
import { findPython, runCommand, withTimeout } from "../_helpers.ts";

const python = findPython("3.11");
const fixture = (name: string) =>
  new URL(`./fixtures/${name}`, import.meta.url).pathname;
const ignore = python === undefined;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function assertRan(result: { code: number; stdout: string; stderr: string }) {
  assert.equal(
    result.code,
    0,
    `python failed:\n${result.stdout}\n${result.stderr}`,
  );
}

Deno.test({
  name:
    "serveTcp(): a tutorial-style Python socket client gets its text upper-cased",
  ignore,
  async fn() {
    await using server = await serveTcp({
      port: 0,
      handler: async (conn) => {
        const buf = new Uint8Array(1024);
        const chunks: string[] = [];
        while (true) {
          const n = await conn.read(buf);
          if (n === null) break;
          chunks.push(decoder.decode(buf.subarray(0, n)));
        }
        const upper = encoder.encode(chunks.join("").toUpperCase());
        let written = 0;
        while (written < upper.length) {
          written += await conn.write(upper.subarray(written));
        }
      },
    });
    const result = await runCommand(
      python!,
      [fixture("py_tcp_upper_client.py"), String(server.addr.port)],
      { timeout: 30_000 },
    );
    assertRan(result);
    assert.equal(result.stdout.trim().split("\n").length, 3);
    assert.match(result.stdout, /TCP HELLO WORLD/);
  },
});

Deno.test({
  name:
    "serveUdp(): a tutorial-style Python sendto/recvfrom client gets its datagrams upper-cased",
  ignore,
  async fn() {
    await using server = serveUdp({
      port: 0,
      handler: (data) => decoder.decode(data).toUpperCase(),
    });
    const result = await runCommand(
      python!,
      [fixture("py_udp_upper_client.py"), String(server.addr.port)],
      { timeout: 30_000 },
    );
    assertRan(result);
    assert.match(result.stdout, /UDP HELLO UDP\nUDP SECOND DATAGRAM/);
  },
});

for (
  const [format, littleEndian] of [["!I", false], ["<i", true]] as const
) {
  Deno.test({
    name:
      `LengthPrefixCodec({ littleEndian: ${littleEndian} }) talks to a Python struct.pack("${format}") client`,
    ignore,
    async fn() {
      const codec = new LengthPrefixCodec({
        headerBytes: 4,
        littleEndian,
        maxFrameSize: 1 << 20,
      });
      const errors: unknown[] = [];
      await using server = await serveTcp({
        port: 0,
        onError: (e) => errors.push(e),
        handler: async (conn) => {
          const framed = new FramedConnection(conn, codec);
          for await (const frame of framed) {
            await framed.send(frame.slice().reverse());
          }
        },
      });
      const result = await runCommand(
        python!,
        [
          fixture("py_length_prefix_client.py"),
          String(server.addr.port),
          format,
        ],
        { timeout: 30_000 },
      );
      assertRan(result);
      assert.match(result.stdout, /LEN OK 5/);
      assert.deepEqual(errors, []);
    },
  });
}

Deno.test({
  name:
    "FramedConnection talks to a Python socketserver.ThreadingTCPServer using struct.pack('!I')",
  ignore,
  async fn() {
    const child = new Deno.Command(python!, {
      args: [fixture("py_length_prefix_server.py")],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.getReader();
    try {
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await withTimeout(
          reader.read(),
          10_000,
          "python port",
        );
        if (done) break;
        text += decoder.decode(value);
      }
      const port = Number(text.trim());
      const codec = new LengthPrefixCodec({ maxFrameSize: 1 << 20 });
      using framed = new FramedConnection(
        await Deno.connect({ hostname: "127.0.0.1", port }),
        codec,
      );
      const messages = ["", "hello", "x".repeat(100_000)];
      await Promise.all(messages.map((m) => framed.send(m)));
      for (const m of messages) {
        const reply = await withTimeout(framed.receive(), 10_000);
        assert.equal(decoder.decode(reply!), [...m].reverse().join(""));
      }
    } finally {
      await reader.cancel();
      await child.stdin.close();
      const status = await child.status;
      clearTimeout(killer);
      assert.equal(status.code, 0, await stderr);
    }
  },
});
