// Client of the remote command runner: sends one command (the arguments
// after `--`), prints the remote stdout and stderr, and exits with the
// remote exit code (124 if the server timed it out, 126 if refused, like
// the shell's conventions).
//
//   deno run --allow-net=127.0.0.1 examples/remote_command_client.ts \
//     [--port 9002] -- uname -a
//
// Partner program: examples/remote_command_server.ts (see it for the
// length-prefixed wire format).

import { parseArgs } from "node:util";
import { FramedConnection, LengthPrefixCodec } from "../net/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    port: { type: "string", default: "9002" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});
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
const header = await framed.receive();
const stdout = await framed.receive();
const stderr = await framed.receive();
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
