// TCP client speaking the tutorials' own bytes: each stdin line is sent as
// it is (encoded with --encoding) and answered by ONE `recv(1024)`, as the
// tutorials' clients do, so it works against their unchanged Python servers
// (upper-case echo, "ok!", "threadOK!", "thank you !", the select server)
// and against examples/tcp_echo_server.ts.
//
//   deno run --allow-net=127.0.0.1 examples/tcp_echo_client.ts [--port 8080] \
//     [--encoding utf-8|gbk] [--greeting] [--no-reply] [--timeout 5000] \
//     [--framing raw|lines]
//
//   --greeting   read the server's first message before sending (the
//                "welcome to socket" lesson)
//   --no-reply   only send (the non-blocking lesson's client)
//   --framing lines  weft's newline framing (partner: the server's same flag)
//
// Empty lines are skipped (sending zero bytes sends nothing, and the reply
// would never come: the tutorials' "if not msg: continue"); `quit` or end of
// input exits. Differences from the tutorials' clients that change no byte:
// every wait has a deadline (--timeout ms, then "no reply" and exit 1), and
// a server that answers and closes (the one-shot servers) is reported as
// "the server closed the connection", not a crash.
//
// Partner program: examples/tcp_echo_server.ts (or any tutorial server).

import { DelimiterCodec, FramedConnection, recv, sendall } from "../net/mod.ts";
import { decode, encode, encodingOf, intOption, netArgs } from "./_tutorial.ts";
import { readLines } from "./_lines.ts";

const { values } = netArgs(8080, {
  encoding: { type: "string", default: "utf-8" },
  bufsize: { type: "string", default: "1024" },
  timeout: { type: "string", default: "5000" },
  greeting: { type: "boolean", default: false },
  "no-reply": { type: "boolean", default: false },
  framing: { type: "string", default: "raw" },
});
const encoding = encodingOf(values.encoding);
const bufsize = intOption("bufsize", values.bufsize);
const timeout = intOption("timeout", values.timeout);
const lines = values.framing === "lines";

let conn: Deno.TcpConn;
try {
  conn = await Deno.connect({
    hostname: values.hostname,
    port: Number(values.port),
  });
} catch (error) {
  console.error(
    `Cannot connect to ${values.hostname}:${values.port}: ${
      (error as Error).message
    }`,
  );
  Deno.exit(1);
}
const framed = lines
  ? new FramedConnection(
    conn,
    new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 * 1024 }),
  )
  : undefined;

/** One reply: a raw recv(bufsize), or one line; null once the server closed. */
async function receive(): Promise<Uint8Array | null> {
  if (framed) {
    const timer = setTimeout(() => framed.close(), timeout);
    try {
      return await framed.receive();
    } catch (error) {
      if (framed.closed) throw new Deno.errors.TimedOut("no reply");
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
  const data = await recv(conn, bufsize, { timeout });
  return data.length ? data : null;
}

/** Prints one reply; false when the server has closed the connection. */
async function show(): Promise<boolean> {
  let reply: Uint8Array | null;
  try {
    reply = await receive();
  } catch (error) {
    if (error instanceof Deno.errors.TimedOut) {
      console.error(`no reply within ${timeout} ms`);
      Deno.exit(1);
    }
    if (error instanceof Deno.errors.ConnectionReset) reply = null;
    else throw error;
  }
  if (reply === null) {
    console.error("the server closed the connection");
    return false;
  }
  console.log(decode(reply, encoding));
  return true;
}

let open = true;
if (values.greeting) open = await show();
for await (const line of readLines(Deno.stdin.readable)) {
  if (!open) break;
  const msg = line.trim();
  if (msg === "") continue;
  if (msg === "quit") break;
  try {
    if (framed) await framed.send(encode(msg, encoding));
    else await sendall(conn, encode(msg, encoding));
  } catch (error) {
    if (
      error instanceof Deno.errors.BrokenPipe ||
      error instanceof Deno.errors.ConnectionReset
    ) {
      console.error("the server closed the connection");
      break;
    }
    throw error;
  }
  if (!values["no-reply"]) open = await show();
}
try {
  conn.close();
} catch {
  // closed by a timeout or the server
}
