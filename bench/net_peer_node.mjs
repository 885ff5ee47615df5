// Peer for bench/net_compare.ts: Node's `net` (and `dgram`) doing the same
// work as weft in one process: a server and clients on 127.0.0.1.
//   node net_peer_node.mjs rr CONNS MS     100 B length-prefixed request/response
//   node net_peer_node.mjs udp CLIENTS MS  UDP echo ping-pong
// Prints one JSON line: {"ops": N, "seconds": S, "cpu": CPU seconds used}.
import net from "node:net";
import dgram from "node:dgram";

const [mode, countArg, msArg] = process.argv.slice(2);
const count = Number(countArg);
const ms = Number(msArg);

function framer(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      onFrame(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
  };
}

function frame(payload) {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/**
 * Runs `count` clients until `ms` passed and prints the JSON line. Each is
 * started by `client(next, done)`: it calls `next()` after each round trip
 * (false once the time is up) and `done` when it has stopped.
 */
async function measure(count, client) {
  let ops = 0;
  const deadline = Date.now() + ms;
  const next = () => (ops++, Date.now() < deadline);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from(
      { length: count },
      () => new Promise((resolve) => client(next, resolve)),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  console.log(JSON.stringify({ ops, seconds, cpu }));
}

async function rr() {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on("data", framer((f) => sock.write(frame(f))));
    sock.on("error", () => {});
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  const payload = Buffer.alloc(100, 97);
  await measure(count, (next, done) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.setNoDelay(true);
    sock.on(
      "data",
      framer(() => {
        if (next()) sock.write(frame(payload));
        else sock.end(done);
      }),
    );
    sock.on("connect", () => sock.write(frame(payload)));
  });
  server.close();
}

async function udp() {
  const server = dgram.createSocket("udp4");
  server.on(
    "message",
    (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address),
  );
  await new Promise((r) => server.bind(0, "127.0.0.1", r));
  const port = server.address().port;
  const payload = Buffer.alloc(100, 97);
  await measure(count, (next, done) => {
    const sock = dgram.createSocket("udp4");
    sock.on("message", () => {
      if (next()) sock.send(payload, port, "127.0.0.1");
      else sock.close(done);
    });
    sock.bind(0, "127.0.0.1", () => sock.send(payload, port, "127.0.0.1"));
  });
  server.close();
}

await (mode === "udp" ? udp() : rr());
