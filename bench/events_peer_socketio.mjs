// socket.io peer for bench/events_compare.ts (Node, not Deno): the same two
// measurements as weft's, with server and clients in one process, on the
// transport given (WebSocket by default). Run by the compare script from a temp folder
// where socket.io and socket.io-client are installed; prints one JSON line.
//
//   node events_peer_socketio.mjs <clients> <broadcasts> <roundTrips> [websocket|polling]
import { createServer } from "node:http";

// Loaded by name at run time from the temp folder's node_modules (a bare
// specifier in a static import would make `deno check .` look for it).
const load = (name) => import(name);
const { Server } = await load("socket.io");
const { io: connect } = await load("socket.io-client");

const [clients, broadcasts, roundTrips] = process.argv.slice(2, 5).map(Number);
const transport = process.argv[5] ?? "websocket";
const http = createServer();
const io = new Server(http, { transports: [transport], serveClient: false });
io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack(true);
  });
  socket.on("echo", (data, ack) => ack(data));
});
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${http.address().port}`;

const sockets = await Promise.all(
  Array.from({ length: clients }, () =>
    new Promise((resolve, reject) => {
      const s = connect(url, {
        transports: [transport],
        reconnection: false,
      });
      s.once("connect", () => resolve(s));
      s.once("connect_error", reject);
    })),
);
await Promise.all(sockets.map((s) => s.emitWithAck("join", "room")));

// fan-out
let received = 0;
const total = clients * broadcasts;
const done = new Promise((resolve) => {
  for (const s of sockets) {
    s.on("news", () => {
      if (++received === total) resolve();
    });
  }
});
let t0 = performance.now();
for (let i = 0; i < broadcasts; i++) {
  io.to("room").emit("news", { text: "hello", i });
}
await done;
const fanoutSeconds = (performance.now() - t0) / 1000;

// one-to-one round trips
t0 = performance.now();
for (let i = 0; i < roundTrips; i++) {
  await sockets[0].emitWithAck("echo", { i });
}
const rttSeconds = (performance.now() - t0) / 1000;

for (const s of sockets) s.close();
io.close();
console.log(JSON.stringify({
  deliveries: total / fanoutSeconds,
  broadcasts: broadcasts / fanoutSeconds,
  roundTrips: roundTrips / rttSeconds,
}));
process.exit(0);
