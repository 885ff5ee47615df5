// Remote command runner over TCP: the tutorials' "sticky packet" lesson
// (a remote shell whose replies can be any size). It speaks the lesson's
// two wire formats byte for byte, so the tutorial's unchanged Python
// clients work against it, plus weft's own:
//
//   --protocol struct (default)  method 2: client sends the command text in
//       one send; server answers struct.pack('i', n) (4-byte little-endian
//       signed length) then n bytes of output (weft's LengthPrefixCodec
//       with struct: "i")
//   --protocol ready             method 1: server sends str(n) in ASCII,
//       waits for the client's b'ready', then sends the n bytes
//   --protocol weft              hardened variant, one connection per
//       command: frame 1 JSON {"argv": [...]} (exact argv, no splitting);
//       reply frames: JSON {"exitCode", "signal", "timedOut", "error"?},
//       stdout bytes, stderr bytes (4-byte big-endian lengths)
//
// The tutorial's formats are the default because they are what its
// clients speak; "output" there is stderr if the command wrote any, else
// stdout, else b'excute success' (the lesson's spelling), exactly as in
// the lesson. weft's format keeps exit codes and both streams apart.
//
// Unlike the tutorial's `subprocess.Popen(cmd, shell=True)`, in every mode
// this server
//   - runs only commands on an allowlist (--allow, default below),
//   - runs them WITHOUT a shell (the command text is split on whitespace;
//     "$(id)" or "; rm" are just text),
//   - kills them after --timeout ms (SIGKILL) and says so,
//   - caps each output stream at 1 MiB, reads at most 1024 bytes of
//     command, and drops a client idle for longer than --timeout + 10 s.
// Deno's own --allow-run list is a second fence: keep the two lists equal.
//
//   deno run --allow-net=127.0.0.1 --allow-run=echo,date,uname,sleep,false,ls,pwd,seq \
//     examples/remote_command_server.ts [--port 8080] [--protocol struct|ready|weft] \
//     [--timeout 5000] [--allow echo,date,uname,sleep,false,ls,pwd,seq]
//
// Partner program: examples/remote_command_client.ts (same --protocol), or
// the tutorial's clients. Prints "command server listening on
// 127.0.0.1:PORT" once ready.

import {
  FramedConnection,
  LengthPrefixCodec,
  type ServedConnection,
  serveTcp,
} from "../net/mod.ts";
import { choiceOption, netArgs } from "./_tutorial.ts";

const { values } = netArgs(8080, {
  protocol: { type: "string", default: "struct" },
  timeout: { type: "string", default: "5000" },
  allow: {
    type: "string",
    default: "echo,date,uname,sleep,false,ls,pwd,seq",
  },
});
const protocol = choiceOption("protocol", values.protocol, [
  "struct",
  "ready",
  "weft",
]);
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

const encoder = new TextEncoder();

/**
 * The lesson's reply for one command line: stderr if any, else stdout,
 * else "excute success" (sic); refusals and timeouts read like stderr.
 */
async function lessonOutput(command: string): Promise<Uint8Array> {
  const argv = command.trim().split(/\s+/).filter(Boolean);
  if (argv.length === 0) return encoder.encode("excute success");
  if (!allowed.has(argv[0])) {
    return encoder.encode(
      `Command refused: "${argv[0]}" is not on the allowlist (${
        [...allowed].join(", ")
      })\n`,
    );
  }
  let result: Result, out: Uint8Array, err: Uint8Array;
  try {
    [result, out, err] = await run(argv);
  } catch (error) {
    return encoder.encode(
      `Cannot run "${argv[0]}": ${(error as Error).message}\n`,
    );
  }
  console.log(
    `ran ${JSON.stringify(argv)}: ${
      result.timedOut ? "timed out" : `exit ${result.exitCode}`
    }`,
  );
  if (result.timedOut) {
    return encoder.encode(`Command timed out after ${timeout} ms, killed\n`);
  }
  if (err.length) return err;
  if (out.length) return out;
  return encoder.encode("excute success");
}

/** Methods 1 and 2 of the lesson: many commands per connection. */
async function serveLesson(conn: ServedConnection): Promise<void> {
  const framed = new FramedConnection(conn, lessonCodec);
  while (true) {
    const cmd = await conn.recv(1024);
    if (cmd.length === 0) return; // the client left
    const output = await lessonOutput(new TextDecoder().decode(cmd));
    if (protocol === "struct") {
      await framed.send(output); // struct.pack('i', n) + output
    } else {
      await conn.sendall(String(output.length));
      const ready = await conn.recv(1024);
      if (new TextDecoder().decode(ready) !== "ready") return;
      await conn.sendall(output);
    }
  }
}
const lessonCodec = new LengthPrefixCodec({
  struct: "i",
  maxFrameSize: MAX_OUTPUT,
});

const empty = new Uint8Array(0);
const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  idleTimeout: timeout + 10_000,
  handler: async (conn) => {
    if (protocol !== "weft") return await serveLesson(conn);
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
