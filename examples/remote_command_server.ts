// Remote command runner over TCP with length-prefixed framing: the
// tutorials' "sticky packet" lesson. A command's output can be any size
// and contain any bytes, so every message is a frame of weft's
// LengthPrefixCodec (4-byte big-endian length, then the payload) and the
// client always knows where one reply ends.
//
// Unlike the tutorial's `subprocess.Popen(cmd, shell=True)`, this server
//   - runs only commands on an allowlist (--allow, default below),
//   - runs them WITHOUT a shell (argv is passed as-is: "$(id)" or "; rm"
//     are just text),
//   - kills them after --timeout ms (SIGKILL) and says so,
//   - caps each output stream at 1 MiB.
// Deno's own --allow-run list is a second fence: keep the two lists equal.
//
//   deno run --allow-net=127.0.0.1 --allow-run=echo,date,uname,sleep,false \
//     examples/remote_command_server.ts [--port 9002] [--timeout 5000] \
//     [--allow echo,date,uname,sleep,false]
//
// Partner program: examples/remote_command_client.ts. Prints
// "command server listening on 127.0.0.1:PORT" once ready.
//
// Wire format, one connection per command:
//   client -> server  frame 1: JSON {"argv": ["echo", "hi"]}
//   server -> client  frame 1: JSON {"exitCode", "signal", "timedOut", "error"?}
//                     frame 2: stdout bytes     frame 3: stderr bytes

import { parseArgs } from "node:util";
import { FramedConnection, LengthPrefixCodec, serveTcp } from "../net/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9002" },
    hostname: { type: "string", default: "127.0.0.1" },
    timeout: { type: "string", default: "5000" },
    allow: { type: "string", default: "echo,date,uname,sleep,false" },
  },
});
const allowed = new Set(
  values.allow.split(",").map((s) => s.trim()).filter(Boolean),
);
const timeout = Number(values.timeout);
const MAX_OUTPUT = 1024 * 1024;
const codec = new LengthPrefixCodec({
  headerBytes: 4,
  maxFrameSize: MAX_OUTPUT,
});

interface Result {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  error?: string;
}

/** Validates a request; returns argv or an error text. */
function parseRequest(frame: Uint8Array): string[] | string {
  let request: unknown;
  try {
    request = JSON.parse(new TextDecoder().decode(frame));
  } catch {
    return "Invalid request: not JSON";
  }
  const argv = (request as { argv?: unknown })?.argv;
  if (
    !Array.isArray(argv) || argv.length === 0 || argv.length > 64 ||
    !argv.every((a) =>
      typeof a === "string" && a.length <= 4096 && !a.includes("\0")
    )
  ) {
    return "Invalid request: argv must be 1 to 64 strings";
  }
  if (!allowed.has(argv[0])) {
    return `Command refused: "${argv[0]}" is not on the allowlist (${
      [...allowed].join(", ")
    })`;
  }
  return argv;
}

async function run(argv: string[]): Promise<[Result, Uint8Array, Uint8Array]> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // it just exited
    }
  }, timeout);
  try {
    const out = await child.output();
    const cap = (b: Uint8Array) =>
      b.length > MAX_OUTPUT ? b.subarray(0, MAX_OUTPUT) : b;
    return [
      { exitCode: timedOut ? null : out.code, signal: out.signal, timedOut },
      cap(out.stdout),
      cap(out.stderr),
    ];
  } finally {
    clearTimeout(timer);
  }
}

const empty = new Uint8Array(0);
const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  idleTimeout: timeout + 10_000,
  handler: async (conn) => {
    const framed = new FramedConnection(conn, codec);
    const frame = await framed.receive();
    if (frame === null) return;
    const argv = parseRequest(frame);
    let reply: [Result, Uint8Array, Uint8Array];
    if (typeof argv === "string") {
      console.log(`refused: ${argv}`);
      reply = [
        { exitCode: null, signal: null, timedOut: false, error: argv },
        empty,
        empty,
      ];
    } else {
      try {
        reply = await run(argv);
        const r = reply[0];
        console.log(
          `ran ${JSON.stringify(argv)}: ${
            r.timedOut ? "timed out" : `exit ${r.exitCode}`
          }`,
        );
      } catch (error) {
        const text = `Cannot run "${argv[0]}": ${(error as Error).message}`;
        reply = [
          { exitCode: null, signal: null, timedOut: false, error: text },
          empty,
          empty,
        ];
      }
    }
    await framed.send(JSON.stringify(reply[0]));
    await framed.send(reply[1]);
    await framed.send(reply[2]);
  },
});
console.log(
  `command server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
