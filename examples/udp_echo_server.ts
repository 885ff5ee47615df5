// UDP echo server that upper-cases every datagram, on weft's serveUdp
// (Python's socketserver.UDPServer): no connections, each datagram is
// handled on its own and the returned string is sent back to its sender.
// Datagrams over 1 KiB are refused (reported, not answered).
//
//   deno run --allow-net=127.0.0.1 examples/udp_echo_server.ts [--port 9001]
//
// Partner program: examples/udp_echo_client.ts. Prints
// "udp echo server listening on 127.0.0.1:PORT" once ready.
// UDP needs Deno's unstable net API: the repo's deno.json enables it; run
// from elsewhere with --unstable-net.

import { parseArgs } from "node:util";
import { serveUdp } from "../net/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9001" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});

const decoder = new TextDecoder();
const server = serveUdp({
  hostname: values.hostname,
  port: Number(values.port),
  maxDatagramSize: 1024,
  handler: (data, { addr }) => {
    const text = decoder.decode(data);
    console.log(`${addr.hostname}:${addr.port} sent ${data.length} bytes`);
    return text.toUpperCase();
  },
  onError: (error) =>
    console.error(`dropped a datagram: ${(error as Error).message}`),
});
console.log(
  `udp echo server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
