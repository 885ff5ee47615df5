// The tutorial's hmac lesson (32 random bytes -> 16-byte HMAC-MD5, then an
// upper-case echo): entries 001:516 and 001:571 of examples/tutorials.json
// run as their `run` lines say (examples/hmac_lesson_server.ts /
// hmac_lesson_client.ts) against Python 3.11 peers written from the lesson
// (tests/examples/peers/hmac_peers.py), in both roles.
import assert from "node:assert/strict";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

const LESSON_KEY = "alex bang bang bang";
const hex = (text: string) =>
  Array.from(
    new TextEncoder().encode(text),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

Deno.test(pythonTest(
  "tutorials.json 001:516 / 001:571 speak the hmac lesson's bytes in both roles",
  async (py) => {
    const dir = await Deno.makeTempDir({ prefix: "weft_hmac_lesson_" });
    try {
      await Deno.writeTextFile(`${dir}/lesson.key`, hex(LESSON_KEY) + "\n");
      await Deno.writeTextFile(
        `${dir}/wrong.key`,
        hex("a wrong guess!!!") + "\n",
      );
      const server = await startEntry("001:516", { file: `${dir}/lesson.key` });
      try {
        const [good, bad] = await Promise.all([
          runPython(
            py,
            "hmac_peers.py",
            ["client", server.port],
            "hello\n\nhmac 你好\nquit\n",
          ),
          runPython(
            py,
            "hmac_peers.py",
            ["client", server.port, "guess"],
            "secret data\n",
          ),
        ]);
        assert.equal(good.code, 0, good.stderr);
        assert.equal(good.stdout, "HELLO\nHMAC 你好\n");
        assert.equal(bad.stdout, "closed by the server\n");
      } finally {
        const log = (await server.program.stop()).stdout;
        assert.match(log, /is legitimate/);
        assert.match(
          log,
          /refused: Cannot authenticate peer: digest received was wrong/,
        );
      }

      await using peer = await startPython(py, "hmac_peers.py", [
        "server",
        "0",
      ]);
      const client = (key: string) =>
        runEntry(
          "001:571",
          { file: `${dir}/${key}`, port: String(peer.port) },
          "hello python\nquit\n",
        );
      const good = await client("lesson.key");
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout, "HELLO PYTHON\n");
      const bad = await client("wrong.key");
      assert.equal(bad.code, 1);
      assert.equal(
        bad.stdout,
        "refused: the server closed the connection (wrong key?)\n",
      );
      assert.match(await peer.until(/该链接不合法/), /链接合法,开始通信/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
));
