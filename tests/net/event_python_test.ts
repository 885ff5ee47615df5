// Debian's python3-socketio client (for /usr/bin/python3; .ci/setup-socketio
// installs it) against serveEvents, over both transports and the upgrade:
// namespaces, rooms with skip, acks with several values, binary in nested
// arguments, server-initiated calls, connect_error with data.

import assert from "node:assert/strict";
import { connectEvents, ConnectionRefusedError, tuple } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { nextEvent, peerTest, startServer } from "./_event_helpers.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./_event_python_client.py", import.meta.url).pathname;

function missingPeer(): string | undefined {
  try {
    const r = new Deno.Command(PYTHON, {
      args: ["-c", "import socketio, requests, websocket"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success
      ? undefined
      : "python3-socketio (with python3-requests, python3-websocket) is not installed";
  } catch {
    return `${PYTHON} not found`;
  }
}
const MISSING = missingPeer();

/** Runs the Python client; resolves with its JSON lines once it exits. */
function runPython(url: string, transports: string, scenario: string) {
  const child = new Deno.Command(PYTHON, {
    args: [SCRIPT, url, transports, scenario],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const lines: Record<string, unknown>[] = [];
  let ready!: () => void;
  const readyP = new Promise<void>((r) => ready = r);
  const done = (async () => {
    let buffered = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        if (line.step === "ready") ready();
      }
    }
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    clearTimeout(timer);
    ready();
    return { status, stderr, lines };
  })();
  return { ready: readyP, done };
}

for (const transports of ["polling", "websocket", "polling,websocket"]) {
  Deno.test(
    peerTest(
      `python-socketio client (${transports}): rooms, acks, binary, namespaces`,
      MISSING,
      async () => {
        await using server = startServer({ namespaces: ["/chat"] });
        const auths: unknown[] = [];
        server.on("connect", (_sid, _environ, auth) => void auths.push(auth));
        server.on("join", (sid, room) => {
          server.enterRoom(sid, room);
          return tuple("joined", room);
        });
        server.on(
          "bin",
          (_sid, nested) => tuple(nested, new Uint8Array([0xab])),
        );
        server.on(
          "say",
          (sid, text, extra) =>
            server.emit("said", tuple(text, extra), { room: "r", skip: sid }),
        );
        server.on(
          "ask-me",
          async (sid) =>
            await server.call("question", "life", {
              to: sid,
              namespace: "/chat",
            }),
          {
            namespace: "/chat",
          },
        );
        await using weft = await connectEvents(server.url);
        await weft.call("join", "r");
        const py = await runPython(server.url, transports, "main");
        await withTimeout(py.ready, 20_000, "python client ready");
        const atWeft = nextEvent(weft, "said", { ms: 10_000 });
        weft.emit("say", tuple("from weft", { bytes: new Uint8Array([1, 2]) }));
        const [text, extra] = await atWeft;
        const { status, stderr, lines } = await withTimeout(
          py.done,
          30_000,
          "python client exit",
        );
        assert.equal(status.code, 0, stderr);
        const step = (name: string) => lines.find((l) => l.step === name)!;
        if (transports === "polling,websocket") {
          assert.equal(step("connected").transport, "websocket");
        } else assert.equal(step("connected").transport, transports);
        assert.deepEqual(step("join").ack, ["joined", "r"]);
        assert.deepEqual(step("bin"), {
          step: "bin",
          first: "01",
          nested: "0203",
          tail: "ab",
        });
        assert.deepEqual(step("said").said, ["from weft", "0102"]);
        assert.deepEqual(step("asked").answered, ["answer to life", 42]);
        assert.equal(text, "from python");
        assert.deepEqual(extra, { bytes: new Uint8Array([0xff]) });
        assert.deepEqual(auths.slice(1), [{ token: "py" }]); // "/" only: "/chat" has no connect handler
      },
    ),
  );
}

Deno.test(
  peerTest(
    "python-socketio client: connect_error with data",
    MISSING,
    async () => {
      await using server = startServer();
      server.on("connect", () => {
        throw new ConnectionRefusedError("Not authorized", { code: 4001 });
      });
      const py = await runPython(server.url, "polling", "refused");
      const { status, stderr, lines } = await withTimeout(
        py.done,
        30_000,
        "python client exit",
      );
      assert.equal(status.code, 0, stderr);
      assert.equal(lines[0].connected, false);
      assert.deepEqual(lines[0].data, [{
        message: "Not authorized",
        data: { code: 4001 },
      }]);
    },
  ),
);

Deno.test(
  peerTest(
    "python-socketio client: the authkey proof computed in Python",
    MISSING,
    async () => {
      await using server = startServer({ authkey: "py secret" });
      const auths: unknown[] = [];
      server.on("connect", (_sid, _environ, auth) => void auths.push(auth));
      server.on("echo", (_sid, x) => x);
      const py = await runPython(
        server.url,
        "polling,websocket",
        "authkey:py secret",
      );
      const { status, stderr, lines } = await withTimeout(
        py.done,
        30_000,
        "python client exit",
      );
      assert.equal(status.code, 0, stderr);
      assert.deepEqual(lines, [{ step: "authkey", echoed: "proved" }]);
      assert.deepEqual(auths, [{ user: "py" }]);
      // the same client with the wrong key is refused
      const wrong = await runPython(server.url, "polling", "authkey:wrong");
      const refused = await withTimeout(
        wrong.done,
        30_000,
        "python client exit",
      );
      assert.notEqual(refused.status.code, 0);
      assert.match(refused.stderr, /Authentication failed|ConnectionError/);
    },
  ),
);
