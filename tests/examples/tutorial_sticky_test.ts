// The sticky-packet lesson (remote shell, methods 1 and 2): each entry of
// examples/tutorials.json is run as its `run` line says
// (examples/remote_command_server.ts / remote_command_client.ts) against
// Python 3.11 peers written from the lesson
// (tests/examples/peers/sticky_peers.py), in both roles.
import assert from "node:assert/strict";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

// A reply far larger than one recv(1024): the whole point of the lesson.
const BIG = Array.from({ length: 20_000 }, (_, i) => `${i + 1}\n`).join("");
const METHODS = [
  { protocol: "ready", server: "001:279", client: "001:321" },
  { protocol: "struct", server: "001:355", client: "001:397" },
];

for (const { protocol, server: serverKey, client: clientKey } of METHODS) {
  Deno.test(pythonTest(
    `tutorials.json ${serverKey} / ${clientKey} (--protocol ${protocol}) speak the lesson's bytes in both roles`,
    async (py) => {
      const server = await startEntry(serverKey);
      try {
        const out = await runPython(
          py,
          "sticky_peers.py",
          [`${protocol}-client`, server.port],
          "echo hello sticky\n\nfalse\ncat /etc/passwd\nseq 1 20000\necho after\nquit\n",
        );
        assert.equal(out.code, 0, out.stderr);
        assert.equal(
          out.stdout,
          "hello sticky\n\nexcute success\n" +
            'Command refused: "cat" is not on the allowlist (echo, date, uname, sleep, false, ls, pwd, seq)\n\n' +
            `${BIG}\nafter\n\n`,
        );
      } finally {
        const log = (await server.program.stop()).stdout;
        assert.match(log, /ran \["echo","hello","sticky"\]: exit 0/);
      }

      await using peer = await startPython(py, "sticky_peers.py", [
        `${protocol}-server`,
        "0",
      ]);
      const out = await runEntry(
        clientKey,
        { port: String(peer.port) },
        "echo hi there\nfalse\nseq 1 20000\nquit\n",
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, `hi there\n\nexcute success\n${BIG}\n`);
    },
  ));
}
