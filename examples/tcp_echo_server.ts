// TCP echo server speaking the tutorials' own bytes: every `conn.recv(1024)`
// is answered with `data.upper()` (ASCII letters only; other bytes such as
// gbk text pass through intact), so the tutorials' unchanged Python clients
// work against it. Flags reproduce each tutorial server of this family:
//
//   default                       upper-case echo, many clients at once
//                                 (socketserver / selectors / loop servers)
//   --clients 1 --messages 1      the "phone" server: one client, one reply, exit
//   --reply "ok!" --encoding gbk  a fixed answer (multi-process "ok!",
//                                 multi-thread "threadOK!", "thank you !")
//   --greet "welcome to socket" --reply none --messages 1
//                                 send first, then print what the client says
//   --reply none --messages 1     the non-blocking lesson: print it, close
//   --reply stdin                 the select lesson: answer each message with
//                                 the next line typed on stdin
//   --framing lines               weft's newline framing instead of raw reads
//                                 (each reply is one whole line, however TCP
//                                 cut the bytes: the "sticky packet" fix)
//
// Default: raw reads, because that is what the tutorials' clients speak.
// Hardening that changes no byte: an idle timeout (a silent client is
// dropped after --idle-timeout ms), at most --max-connections clients served
// at once (the rest wait), reads capped at --bufsize bytes, nothing decoded
// and re-encoded (logs decode with --encoding, replies are bytes).
//
//   deno run --allow-net=127.0.0.1 examples/tcp_echo_server.ts [--port 8080] \
//     [--reply upper|none|stdin|TEXT] [--greet TEXT] [--messages N] \
//     [--clients N] [--encoding utf-8|gbk] [--framing raw|lines]
//
// Partner program: examples/tcp_echo_client.ts (or any tutorial client).
// Prints "echo server listening on 127.0.0.1:PORT" once ready (--port 0
// picks a free port). Ctrl-C shuts it down gracefully.

import {
  DelimiterCodec,
  FramedConnection,
  type ServedConnection,
  serveTcp,
} from "../net/mod.ts";
import {
  choiceOption,
  decode,
  encode,
  encodingOf,
  intOption,
  netArgs,
  peerName,
  upper,
} from "./_tutorial.ts";
import { readLines } from "./_lines.ts";

const { values } = netArgs(8080, {
  reply: { type: "string", default: "upper" },
  greet: { type: "string" },
  messages: { type: "string" },
  clients: { type: "string" },
  encoding: { type: "string", default: "utf-8" },
  bufsize: { type: "string", default: "1024" },
  framing: { type: "string", default: "raw" },
  "idle-timeout": { type: "string", default: "60000" },
  "max-connections": { type: "string", default: "100" },
});
const encoding = encodingOf(values.encoding);
const bufsize = intOption("bufsize", values.bufsize);
const perConnection = intOption("messages", values.messages, Infinity);
const clientLimit = intOption("clients", values.clients, Infinity);
choiceOption("framing", values.framing, ["raw", "lines"]);

// --reply stdin: one shared queue of typed answers, handed out in order.
const answers = values.reply === "stdin"
  ? readLines(Deno.stdin.readable)
  : undefined;

/** The bytes that answer `data` from client number `id`. */
async function replyTo(
  data: Uint8Array,
  id: number,
): Promise<Uint8Array | null> {
  switch (values.reply) {
    case "upper":
      return upper(data, encoding);
    case "none":
      return null;
    case "stdin": {
      if (Deno.stdin.isTerminal()) {
        await Deno.stdout.write(encode(`回答[${id}]号客户端>>:`));
      }
      const next = await answers!.next();
      return next.done ? null : encode(next.value, encoding);
    }
    default:
      return encode(values.reply!, encoding);
  }
}

/** Raw mode: Python's `data = conn.recv(1024); conn.send(reply)` loop. */
async function serveRaw(conn: ServedConnection, id: number, peer: string) {
  if (values.greet !== undefined) {
    await conn.sendall(encode(values.greet, encoding));
  }
  let count = 0;
  while (count < perConnection) {
    const data = await conn.recv(bufsize);
    if (data.length === 0) break; // the client closed: Python's b''
    count++;
    console.log(`recv[${peer}]: ${decode(data, encoding)}`);
    const reply = await replyTo(data, id);
    if (reply === null) {
      if (values.reply === "stdin") break; // stdin ended
      continue;
    }
    if (reply.length) await conn.sendall(reply);
  }
  return count;
}

/** --framing lines: newline-framed lines, each answered by one line. */
async function serveLines(conn: ServedConnection, id: number, peer: string) {
  const framed = new FramedConnection(
    conn,
    new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 * 1024 }),
  );
  if (values.greet !== undefined) {
    await framed.send(encode(values.greet, encoding));
  }
  let count = 0;
  while (count < perConnection) {
    const line = await framed.receive();
    if (line === null) break;
    count++;
    console.log(`recv[${peer}]: ${decode(line, encoding)}`);
    const reply = await replyTo(line, id);
    if (reply !== null) await framed.send(reply);
  }
  return count;
}

let served = 0;
let next = 0;
const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  idleTimeout: intOption("idle-timeout", values["idle-timeout"]),
  maxConnections: clientLimit === Infinity
    ? intOption("max-connections", values["max-connections"])
    : 1,
  handler: async (conn) => {
    const id = ++next;
    if (id > clientLimit) return;
    const peer = peerName(conn.remoteAddr);
    console.log(`${peer} connected`);
    try {
      const count = values.framing === "lines"
        ? await serveLines(conn, id, peer)
        : await serveRaw(conn, id, peer);
      console.log(`${peer} closed after ${count} messages`);
    } finally {
      if (++served >= clientLimit) queueMicrotask(() => server.shutdown());
    }
  },
  onError: (error, addr) =>
    console.error(`${peerName(addr)}: ${(error as Error).message}`),
});
console.log(
  `echo server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
Deno.exit(0); // --reply stdin may still hold a pending stdin read
