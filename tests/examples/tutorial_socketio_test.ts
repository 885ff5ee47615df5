// The tutorial's python-socketio server (document 003, entry 003:212 of
// examples/tutorials.json, run as its `run` line says) rebuilt as
// examples/chat/tutorial_server.ts (helper E's), driven by the official
// python-socketio Client (Debian's python3-socketio under /usr/bin/python3)
// in tests/examples/peers/socketio_client.py. The tutorial shows only the
// server, so only that role exists.
import assert from "node:assert/strict";
import { runCommand } from "../_helpers.ts";
import { peer, startEntry } from "./_peers.ts";

const SYSTEM_PYTHON = "/usr/bin/python3";

function hasSocketio(): boolean {
  try {
    return new Deno.Command(SYSTEM_PYTHON, {
      args: ["-c", "import socketio, requests, websocket"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

const available = hasSocketio();
const ci = Deno.env.get("CI") === "true";

Deno.test({
  name: available
    ? "examples/chat/tutorial_server.ts answers the official python-socketio client as the tutorial's server does"
    : "examples/chat/tutorial_server.ts with python-socketio (ignored: /usr/bin/python3 lacks python3-socketio)",
  ignore: !available && !ci,
  fn: async () => {
    if (!available) throw new Error("python3-socketio is required under CI");
    const server = await startEntry("003:212", {}, {
      ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    });
    try {
      const out = await runCommand(
        SYSTEM_PYTHON,
        [peer("socketio_client.py"), server.port],
        { timeout: 30_000 },
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(
        out.stdout,
        /B addChat: 1 replies: \[\{'message': 'hello', 'sid': '[^']+'\}, '私聊'[,\]]/,
      );
      assert.match(out.stdout, /\nok\n$/);
    } finally {
      const log = (await server.program.stop()).stdout;
      assert.match(log, /connect {2}\S+/);
      assert.match(log, /message {2}"?hi"?/);
      assert.match(log, /私聊/);
    }
  },
});
