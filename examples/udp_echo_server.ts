// UDP echo server speaking the tutorials' own bytes, on weft's serveUdp
// (Python's socketserver.UDPServer): every datagram is answered with
// `data.upper()` (ASCII letters only; gbk or utf-8 text passes intact) sent
// back to its sender, so the tutorials' unchanged Python UDP clients work
// against it. Flags reproduce the family:
//
//   default                        upper-case echo (the UDP server, the
//                                  ThreadingUDPServer, the one-line server)
//   --reply none --count 1 --encoding gbk
//                                  the "bind" lesson: receive one datagram on
//                                  a fixed port, print it as gbk text, exit
//
// Hardening that changes no byte: a datagram over --max-datagram bytes
// (default 1024, the tutorials' recvfrom(1024)) is dropped and reported
// instead of being silently cut, and handlers run with bounded concurrency.
//
//   deno run --allow-net=127.0.0.1 examples/udp_echo_server.ts [--port 8080] \
//     [--reply upper|none] [--count N] [--encoding utf-8|gbk] [--max-datagram 1024]
//
// Partner program: examples/udp_echo_client.ts (or a tutorial client).
// Prints "udp echo server listening on 127.0.0.1:PORT" once ready.
// UDP needs Deno's unstable net API: the repo's deno.json enables it; run
// from elsewhere with --unstable-net.

import { serveUdp } from "../net/mod.ts";
import {
  choiceOption,
  decode,
  encodingOf,
  intOption,
  netArgs,
  peerName,
  upper,
} from "./_tutorial.ts";

const { values } = netArgs(8080, {
  reply: { type: "string", default: "upper" },
  count: { type: "string" },
  encoding: { type: "string", default: "utf-8" },
  "max-datagram": { type: "string", default: "1024" },
});
const encoding = encodingOf(values.encoding);
const limit = intOption("count", values.count, Infinity);
choiceOption("reply", values.reply, ["upper", "none"]);

let received = 0;
const server = serveUdp({
  hostname: values.hostname,
  port: Number(values.port),
  maxDatagramSize: intOption("max-datagram", values["max-datagram"]),
  handler: (data, { addr }) => {
    if (received >= limit) return;
    if (++received >= limit) queueMicrotask(() => server.shutdown());
    console.log(`recvfrom[${peerName(addr)}]: ${decode(data, encoding)}`);
    return values.reply === "upper" ? upper(data, encoding) : undefined;
  },
  onError: (error) =>
    console.error(`dropped a datagram: ${(error as Error).message}`),
});
console.log(
  `udp echo server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
