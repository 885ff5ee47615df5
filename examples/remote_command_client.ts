// Client of the remote command runner, in the sticky-packet lesson's two
// wire formats (the default, so it works against the tutorial's unchanged
// Python servers) or weft's own:
//
//   --protocol struct (default) / ready: reads commands from stdin, one per
//       line (`quit` or end of input exits), sends each as text and prints
//       the reply: a 4-byte little-endian `struct.pack('i', n)` length then
//       n bytes (struct), or ASCII str(n), our b'ready', then n bytes (ready)
//   --protocol weft: sends ONE command (the arguments after `--`), prints
//       the remote stdout and stderr, and exits with the remote exit code
//       (124 if the server timed it out, 126 if refused, like the shell)
//
//   deno run --allow-net=127.0.0.1 examples/remote_command_client.ts \
//     [--port 8080] [--protocol struct|ready] [--encoding utf-8|gbk] [--timeout 10000]
//   deno run --allow-net=127.0.0.1 examples/remote_command_client.ts \
//     --protocol weft [--port 8080] -- uname -a
//
// Unlike the tutorial's clients, a length over 16 MiB (or not a number) is
// refused instead of trusted, and every reply has a deadline (--timeout ms,
// then "no reply" and exit 1; in every mode). The tutorial prints output decoded as gbk
// (a Windows console); here --encoding says how (default utf-8).
//
// Partner program: examples/remote_command_server.ts (see it for the
// wire formats).

import {
  FramedConnection,
  LengthPrefixCodec,
  readExactly,
  recv,
  sendall,
} from "../net/mod.ts";
import {
  choiceOption,
  deadline,
  decode,
  encodingOf,
  intOption,
  netArgs,
} from "./_tutorial.ts";
import { readLines } from "./_lines.ts";

const { values, positionals } = netArgs(8080, {
  protocol: { type: "string", default: "struct" },
  encoding: { type: "string", default: "utf-8" },
  timeout: { type: "string", default: "10000" },
}, true);
const MAX_REPLY = 16 * 1024 * 1024;
const protocol = choiceOption("protocol", values.protocol, [
  "struct",
  "ready",
  "weft",
]);
if (protocol !== "weft") {
  await lessonClient(protocol);
  Deno.exit();
}

/** The lesson's interactive client: one reply per command line. */
async function lessonClient(protocol: "struct" | "ready"): Promise<void> {
  const encoding = encodingOf(values.encoding);
  const timeout = intOption("timeout", values.timeout);
  const conn = await Deno.connect({
    hostname: values.hostname,
    port: Number(values.port),
  });
  const framed = new FramedConnection(
    conn,
    new LengthPrefixCodec({ struct: "i", maxFrameSize: MAX_REPLY }),
  );
  const reply = async (): Promise<Uint8Array | null> => {
    if (protocol === "struct") return await framed.receive();
    const length = await recv(conn, 1024);
    if (length.length === 0) return null;
    const text = new TextDecoder().decode(length);
    if (!/^\d{1,9}$/.test(text) || Number(text) > MAX_REPLY) {
      throw new RangeError(
        `Cannot read reply: bad length ${JSON.stringify(text)}`,
      );
    }
    await sendall(conn, "ready");
    return await readExactly(conn, Number(text));
  };
  try {
    for await (const line of readLines(Deno.stdin.readable)) {
      const cmd = line.trim();
      if (!cmd) continue;
      if (cmd === "quit") break;
      await sendall(conn, cmd);
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        framed.close();
      }, timeout);
      let data: Uint8Array | null;
      try {
        data = await reply();
      } catch (error) {
        if (expired) {
          console.error(`no reply within ${timeout} ms`);
          Deno.exit(1);
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
      if (data === null) {
        console.error("the server closed the connection");
        return;
      }
      console.log(decode(data, encoding));
    }
  } finally {
    framed.close();
  }
}

if (positionals.length === 0) {
  console.error(
    "Usage: remote_command_client.ts [--port N] -- command [args...]",
  );
  Deno.exit(2);
}

const codec = new LengthPrefixCodec({
  headerBytes: 4,
  maxFrameSize: 1024 * 1024,
});
using framed = new FramedConnection(
  await Deno.connect({ hostname: values.hostname, port: Number(values.port) }),
  codec,
);
await framed.send(JSON.stringify({ argv: positionals }));
const replyTimeout = intOption("timeout", values.timeout);
let replies: (Uint8Array | null)[];
try {
  replies = await deadline(
    Promise.all([framed.receive(), framed.receive(), framed.receive()]),
    replyTimeout,
    () => framed.close(),
  );
} catch (error) {
  if (!(error instanceof Deno.errors.TimedOut)) throw error;
  console.error(`no reply within ${replyTimeout} ms`);
  Deno.exit(1);
}
const [header, stdout, stderr] = replies;
if (header === null || stdout === null || stderr === null) {
  console.error("The server closed the connection before replying");
  Deno.exit(1);
}
const result = JSON.parse(new TextDecoder().decode(header)) as {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  error?: string;
};
await Deno.stdout.write(stdout);
await Deno.stderr.write(stderr);
if (result.error) {
  console.error(result.error);
  Deno.exitCode = 126;
} else if (result.timedOut) {
  console.error("The remote command timed out and was killed");
  Deno.exitCode = 124;
} else {
  Deno.exitCode = result.exitCode ?? 1;
}
