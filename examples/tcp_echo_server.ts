// TCP echo server that upper-cases every line (the tutorials' first
// socket program), on weft's serveTcp: one handler per connection, many
// clients at once, an idle timeout so a silent client cannot hold a slot,
// and newline framing (DelimiterCodec) so TCP's "sticky packets" never
// split or merge two lines.
//
//   deno run --allow-net=127.0.0.1 examples/tcp_echo_server.ts [--port 9000]
//
// Partner program: examples/tcp_echo_client.ts. Prints
// "echo server listening on 127.0.0.1:PORT" once ready (--port 0 picks a
// free port). Ctrl-C shuts it down gracefully.

import { parseArgs } from "node:util";
import { DelimiterCodec, FramedConnection, serveTcp } from "../net/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9000" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});

const codec = new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 * 1024 });
const decoder = new TextDecoder();

const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  idleTimeout: 60_000,
  maxConnections: 100,
  handler: async (conn) => {
    const peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    console.log(`${peer} connected`);
    const framed = new FramedConnection(conn, codec);
    let lines = 0;
    for await (const line of framed) {
      await framed.send(decoder.decode(line).toUpperCase());
      lines++;
    }
    console.log(`${peer} disconnected after ${lines} lines`);
  },
  onError: (error, addr) =>
    console.error(`${addr.hostname}:${addr.port}: ${error}`),
});
console.log(
  `echo server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
