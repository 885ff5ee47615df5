// One event loop serving many sockets at once: the tutorials' `select` /
// `selectors` lesson, the Deno way.
//
// Python's lesson registers every socket with a selector (epoll, kqueue)
// and loops: "which sockets are ready? read from those, write to those".
// Deno already runs that loop for you. Every `await conn.read()` hands the
// socket to the runtime's poller (Tokio on epoll / kqueue / IOCP) and
// suspends only this handler; when the socket is readable the event loop
// resumes exactly that handler. So the server below is a plain async
// function per connection, yet there is ONE thread: no thread per client,
// no locks around the shared counters (only one piece of JavaScript runs at
// a time, and it is never interrupted between two `await`s). The flip side,
// as with selectors: a handler that computes for a long time without
// awaiting stalls every other client — move such work to a worker
// (weft's `serveTcp({ threads })`, `Pool`).
//
// Run the server, then the clients (its partner: the same file):
//
//   deno run --allow-net=127.0.0.1 examples/many_sockets.ts server [--port 9009]
//   deno run --allow-net=127.0.0.1 examples/many_sockets.ts clients [--port 9009] \
//     [--clients 100] [--messages 20]
//
// Or both in one process: `deno run --allow-net=127.0.0.1 examples/many_sockets.ts`
//
// Protocol: newline-terminated lines (weft's DelimiterCodec). The server
// echoes each line prefixed with its connection number; the line "stats"
// answers "open=N max=M served=K".

import { parseArgs } from "node:util";
import {
  DelimiterCodec,
  FramedConnection,
  serveTcp,
  type TcpServer,
} from "../net/mod.ts";

const codec = new DelimiterCodec({ delimiter: "\n", maxFrameSize: 4096 });
const decoder = new TextDecoder();

/** State shared by every connection: safe without a lock on one thread. */
const stats = { open: 0, max: 0, served: 0 };

async function startServer(port: number): Promise<TcpServer> {
  let next = 0;
  return await serveTcp({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 30_000,
    handler: async (conn) => {
      const id = ++next;
      stats.open++;
      stats.max = Math.max(stats.max, stats.open);
      try {
        const framed = new FramedConnection(conn, codec);
        for await (const frame of framed) {
          const line = decoder.decode(frame);
          if (line === "stats") {
            await framed.send(
              `open=${stats.open} max=${stats.max} served=${stats.served}`,
            );
          } else {
            await framed.send(`#${id}: ${line}`);
          }
        }
      } finally {
        stats.open--;
        stats.served++;
      }
    },
  });
}

/** Opens `clients` connections at once; each sends `messages` lines and checks the echoes. */
async function runClients(
  port: number,
  clients: number,
  messages: number,
): Promise<void> {
  const started = performance.now();
  const connections = await Promise.all(
    Array.from(
      { length: clients },
      async () =>
        new FramedConnection(
          await Deno.connect({ hostname: "127.0.0.1", port }),
          codec,
        ),
    ),
  );
  // All connections are open now; drive them all concurrently.
  let echoed = 0;
  await Promise.all(connections.map(async (framed, c) => {
    for (let m = 0; m < messages; m++) {
      const text = `client ${c} message ${m}`;
      await framed.send(text);
      const reply = await framed.receive();
      if (reply === null || !decoder.decode(reply).endsWith(`: ${text}`)) {
        throw new Error(`Client ${c} got a wrong echo for message ${m}`);
      }
      echoed++;
    }
  }));
  const ms = performance.now() - started;
  const statsConn = connections[0];
  await statsConn.send("stats");
  const serverStats = decoder.decode((await statsConn.receive())!);
  for (const framed of connections) framed.close();
  console.log(
    `${clients} clients, ${echoed} lines echoed in ${ms.toFixed(0)} ms ` +
      `by one server thread (server: ${serverStats})`,
  );
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "9009" },
      clients: { type: "string", default: "100" },
      messages: { type: "string", default: "20" },
    },
  });
  const mode = positionals[0] ?? "both";
  const clients = Number(values.clients);
  const messages = Number(values.messages);
  if (mode === "server") {
    const server = await startServer(Number(values.port));
    console.log(
      `serving on 127.0.0.1:${server.addr.port} (one thread, Ctrl-C to stop)`,
    );
    Deno.addSignalListener("SIGINT", () => server.shutdown());
    await server.finished;
  } else if (mode === "clients") {
    await runClients(Number(values.port), clients, messages);
  } else if (mode === "both") {
    await using server = await startServer(0);
    await runClients(server.addr.port, clients, messages);
  } else {
    console.error(`Unknown mode "${mode}": use server, clients or nothing`);
    Deno.exit(2);
  }
}
