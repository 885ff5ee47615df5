// Interactive client of the upper-casing TCP echo server: reads lines from
// stdin, sends each one, prints the reply; `quit` (or end of input) exits.
// Uses weft's FramedConnection with newline framing, so each reply is
// exactly one line however TCP chunks the bytes.
//
//   deno run --allow-net=127.0.0.1 examples/tcp_echo_client.ts [--port 9000]
//
// Partner program: examples/tcp_echo_server.ts.

import { parseArgs } from "node:util";
import { DelimiterCodec, FramedConnection } from "../net/mod.ts";
import { readLines } from "./_lines.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9000" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});

const codec = new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 * 1024 });
const framed = new FramedConnection(
  await Deno.connect({ hostname: values.hostname, port: Number(values.port) }),
  codec,
);
const interactive = Deno.stdin.isTerminal();
function prompt(): void {
  if (interactive) Deno.stdout.writeSync(new TextEncoder().encode("> "));
}
try {
  prompt();
  for await (const line of readLines(Deno.stdin.readable)) {
    if (line.trim() === "quit") break;
    if (line === "") {
      prompt();
      continue;
    }
    await framed.send(line);
    const reply = await framed.receive();
    if (reply === null) {
      console.log("server closed the connection");
      break;
    }
    console.log(new TextDecoder().decode(reply));
    prompt();
  }
} finally {
  framed.close();
}
