// The tutorials' UDP programs: each entry of examples/tutorials.json is run
// as its `run` line says (examples/udp_echo_server.ts / udp_echo_client.ts)
// against Python 3.11 peers written from the tutorials
// (tests/examples/peers/udp_peers.py), in both roles.
import assert from "node:assert/strict";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

const ECHO_SERVERS = ["001:224", "001:481", "004:3"];
const ECHO_CLIENTS = ["001:239", "001:499", "004:5"];

Deno.test(pythonTest(
  "tutorials.json UDP programs speak the tutorials' bytes in both roles",
  async (py) => {
    // weft server, tutorial clients (empty line and utf-8 text included).
    const echo = await startEntry(ECHO_SERVERS);
    try {
      const port = echo.port;
      const out = await runPython(
        py,
        "udp_peers.py",
        ["udp-client", port],
        "hello\n\n你好abc\n",
      );
      assert.equal(out.code, 0, out.stderr);
      const addr = `('127.0.0.1', ${port})`;
      assert.equal(
        out.stdout,
        `HELLO\n${addr}\n\n${addr}\n你好ABC\n${addr}\n`,
      );
    } finally {
      await echo.program.stop();
    }

    // weft receiver (one datagram, printed as gbk), tutorial sender.
    const receiver = await startEntry("000:91");
    const sent = await runPython(
      py,
      "udp_peers.py",
      ["udp-sender", receiver.port],
      "hello gbk\n",
    );
    assert.equal(sent.code, 0, sent.stderr);
    // The sender is gone as soon as its datagram left: wait for the log.
    await receiver.program.until(/recvfrom\[127\.0\.0\.1:\d+\]: hello gbk\n/);
    await receiver.program.stop();

    // weft client against the tutorial's servers.
    for (const program of ["udp-server", "socketserver-udp"]) {
      await using server = await startPython(py, "udp_peers.py", [
        program,
        "0",
      ]);
      const out = await runEntry(
        ECHO_CLIENTS,
        { port: String(server.port) },
        "ping\nudp 你好\nquit\nnever\n",
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "PING\nUDP 你好\n", program);
    }

    // weft sender against the tutorial's receiver (which decodes gbk).
    {
      await using server = await startPython(py, "udp_peers.py", [
        "udp-receiver",
        "0",
      ]);
      const out = await runEntry(
        "000:53",
        { port: String(server.port) },
        "你好, gbk\n",
        ["--encoding", "gbk"],
      );
      assert.equal(out.code, 0, out.stderr);
      await server.until(/你好, gbk\n/);
    }
  },
));
