// UDP client speaking the tutorials' own bytes: each stdin line is sent as
// one datagram (encoded with --encoding) and the reply is printed, so it
// works against the tutorials' unchanged Python UDP servers and against
// examples/udp_echo_server.ts.
//
//   deno run --allow-net=127.0.0.1 examples/udp_echo_client.ts [--port 8080] \
//     [--encoding utf-8|gbk] [--no-reply] [--timeout 1000] [--retries 2]
//
//   --no-reply   only send (the "send data" lesson: one datagram, then close)
//
// UDP may lose datagrams, so unlike the tutorials' clients (whose recvfrom
// waits forever) each request waits --timeout ms and resends up to
// --retries times (weft's DatagramSocket.request) before reporting the line
// as unanswered (exit code 1). Empty lines are sent too: an empty datagram
// is still a datagram. `quit` (or end of input) exits.
//
// Partner program: examples/udp_echo_server.ts. Needs --unstable-net when
// run outside this repo (its deno.json enables it).

import { DatagramSocket } from "../net/mod.ts";
import { decode, encode, encodingOf, intOption, netArgs } from "./_tutorial.ts";
import { readLines } from "./_lines.ts";

const { values } = netArgs(8080, {
  encoding: { type: "string", default: "utf-8" },
  timeout: { type: "string", default: "1000" },
  retries: { type: "string", default: "2" },
  "no-reply": { type: "boolean", default: false },
});
const encoding = encodingOf(values.encoding);
const timeout = intOption("timeout", values.timeout);
const retries = intOption("retries", values.retries);
const server = { hostname: values.hostname, port: Number(values.port) };
using socket = DatagramSocket.bind();
let unanswered = 0;
for await (const line of readLines(Deno.stdin.readable)) {
  const msg = line.trim();
  if (msg === "quit") break;
  const data = encode(msg, encoding);
  if (values["no-reply"]) {
    await socket.sendTo(data, server);
    continue;
  }
  try {
    const reply = await socket.request(server, data, { timeout, retries });
    console.log(decode(reply, encoding));
  } catch (error) {
    if (!(error instanceof Deno.errors.TimedOut)) throw error;
    console.log(`no reply for "${msg}" after ${retries + 1} tries`);
    unanswered++;
  }
}
if (unanswered > 0) Deno.exitCode = 1;
