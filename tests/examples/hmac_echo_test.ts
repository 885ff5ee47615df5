import assert from "node:assert/strict";
import { example, runExample, startProgram } from "./_program.ts";

Deno.test("examples/hmac_echo_*.ts: the right key is echoed, a wrong key is refused before any echo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weft_hmac_" });
  try {
    const keyFile = `${dir}/echo.key`;
    const server = await startProgram(
      [example("hmac_echo_server.ts"), "--key-file", keyFile, "--port", "0"],
      /listening on 127\.0\.0\.1:(\d+)/,
      {
        permissions: [
          "--allow-net=127.0.0.1",
          `--allow-read=${dir}`,
          `--allow-write=${dir}`,
        ],
      },
    );
    try {
      const port = server.match[1];
      assert.match(server.stdout(), /wrote a new random key/);
      assert.equal(
        (await Deno.stat(keyFile)).mode! & 0o077,
        0,
        "the key file is private",
      );
      await Deno.writeTextFile(`${dir}/wrong.key`, "ab".repeat(32) + "\n");
      const client = (key: string, stdin: string) =>
        runExample(
          ["--allow-net=127.0.0.1", `--allow-read=${dir}`],
          "hmac_echo_client.ts",
          ["--key-file", key, "--port", port],
          { stdin, timeout: 30_000 },
        );
      const [good, bad] = await Promise.all([
        client(keyFile, "hello\nhmac world\nquit\n"),
        client(`${dir}/wrong.key`, "should never be echoed\n"),
      ]);
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout, "authenticated\nHELLO\nHMAC WORLD\n");
      assert.equal(bad.code, 1);
      assert.equal(
        bad.stdout,
        "refused: Cannot authenticate: digest sent was rejected\n",
      );

      // A raw client that skips the handshake and sends a message right away
      // has it taken as its (wrong) answer: refused, never echoed.
      using raw = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(port),
      });
      const junk = new Uint8Array([0, 0, 0, 5, 104, 101, 108, 108, 111]);
      await raw.write(junk);
      const buf = new Uint8Array(256);
      let text = "";
      while (true) {
        const n = await raw.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.match(text, /#CHALLENGE#/);
      assert.match(text, /#FAILURE#/);
      assert.doesNotMatch(text, /HELLO/);
    } finally {
      const log = (await server.stop()).stdout;
      assert.match(log, /client \d authenticated \(1 accepted so far\)/);
      assert.match(
        log,
        /refused: Cannot authenticate peer: digest received was wrong/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
