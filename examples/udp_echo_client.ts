// Client of the upper-casing UDP echo server: sends each stdin line as one
// datagram and prints the reply. UDP may lose datagrams, so each request
// waits --timeout ms and resends up to --retries times (weft's
// DatagramSocket.request) before reporting the line as unanswered.
// `quit` (or end of input) exits.
//
//   deno run --allow-net=127.0.0.1 examples/udp_echo_client.ts [--port 9001] \
//     [--timeout 1000] [--retries 2]
//
// Partner program: examples/udp_echo_server.ts. Needs --unstable-net when
// run outside this repo (its deno.json enables it).

import { parseArgs } from "node:util";
import { DatagramSocket } from "../net/mod.ts";
import { readLines } from "./_lines.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9001" },
    hostname: { type: "string", default: "127.0.0.1" },
    timeout: { type: "string", default: "1000" },
    retries: { type: "string", default: "2" },
  },
});

const server = { hostname: values.hostname, port: Number(values.port) };
using socket = DatagramSocket.bind();
let unanswered = 0;
for await (const line of readLines(Deno.stdin.readable)) {
  if (line.trim() === "quit") break;
  if (line === "") continue;
  try {
    const reply = await socket.request(server, line, {
      timeout: Number(values.timeout),
      retries: Number(values.retries),
    });
    console.log(new TextDecoder().decode(reply));
  } catch (error) {
    if (!(error instanceof Deno.errors.TimedOut)) throw error;
    console.log(
      `no reply for "${line}" after ${Number(values.retries) + 1} tries`,
    );
    unanswered++;
  }
}
if (unanswered > 0) Deno.exitCode = 1;
