// A real Node socket.io 4 server with the official @socket.io/redis-adapter
// (classic pub/sub, node-redis client), run by Deno's npm support in a child
// process of the adapter tests. Usage:
//   deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-sys _adapter_peer.ts REDIS_URL NAME TIMEOUT_MS [socket.io | socket.io-streams]
// (socket.io-streams: @socket.io/redis-streams-adapter 0.3.1 instead)
// Prints `{"ready": port, "uid": ...}` once listening, then answers one JSON
// command per stdin line with one `{"id", "result" | "error"}` line.
//
// Sockets join the rooms listed in their handshake `auth.rooms`, carry
// `data.node = NAME`, answer the "ask" event's ack with "<their sid>", and
// the server answers the server-side event "hello" with "NAME says <arg>".
import { createServer } from "node:http";
import { Server } from "npm:socket.io@4.8.1";
import { createAdapter } from "npm:@socket.io/redis-adapter@8.3.0";
import { createAdapter as createStreamsAdapter } from "npm:@socket.io/redis-streams-adapter@0.3.1";
import { createClient } from "npm:redis@6.3.1";

const [url, name, timeout, protocol = "socket.io"] = Deno.args;
const pub = createClient({ url });
const sub = pub.duplicate();
pub.on("error", () => {});
sub.on("error", () => {});
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, {
  adapter: protocol === "socket.io-streams"
    ? createStreamsAdapter(pub)
    : createAdapter(pub, sub, { requestsTimeout: Number(timeout) }),
  cors: { origin: "*" },
});
io.on("connection", (socket) => {
  socket.data.node = name;
  const rooms = (socket.handshake.auth as { rooms?: string[] }).rooms ?? [];
  for (const room of rooms) socket.join(room);
});
// deno-lint-ignore no-explicit-any
(io as any).on("hello", (arg: string, cb: (answer: string) => void) => {
  cb(`${name} says ${arg}`);
});

await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
const port = (http.address() as { port: number }).port;
// deno-lint-ignore no-explicit-any
const adapter = io.of("/").adapter as any;
console.log(JSON.stringify({ ready: port, uid: adapter.uid }));

type Command = {
  id: number;
  op: string;
  room?: string;
  except?: string[];
  event?: string;
  args?: unknown[];
  rooms?: string[];
  timeout?: number;
};

function target(cmd: Command) {
  let op = cmd.room ? io.to(cmd.room) : io.of("/");
  // deno-lint-ignore no-explicit-any
  if (cmd.except?.length) op = (op as any).except(cmd.except);
  // deno-lint-ignore no-explicit-any
  return op as any;
}

async function run(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case "emit":
      target(cmd).emit(cmd.event!, ...(cmd.args ?? []));
      return true;
    case "emitBinary": // bytes from the command's numbers
      target(cmd).emit(cmd.event!, {
        bytes: new Uint8Array(cmd.args as number[]),
      });
      return true;
    case "fetch": {
      const sockets = await target(cmd).fetchSockets();
      // deno-lint-ignore no-explicit-any
      return sockets.map((s: any) => ({
        id: s.id,
        rooms: [...s.rooms],
        data: s.data,
      }));
    }
    case "count":
      return await adapter.serverCount();
    case "rooms":
      return [...await adapter.allRooms()];
    case "sse":
      return await io.serverSideEmitWithAck(
        cmd.event!,
        ...(cmd.args ?? []),
      );
    case "emitWithAck":
      return await target(cmd).timeout(cmd.timeout ?? 2000).emitWithAck(
        cmd.event!,
        ...(cmd.args ?? []),
      );
    case "join":
      target(cmd).socketsJoin(cmd.rooms!);
      return true;
    case "disconnect":
      target(cmd).disconnectSockets(true);
      return true;
  }
  throw new Error(`unknown op ${cmd.op}`);
}

let buf = "";
for await (
  const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
) {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const cmd = JSON.parse(buf.slice(0, i)) as Command;
    buf = buf.slice(i + 1);
    run(cmd).then(
      (result) => console.log(JSON.stringify({ id: cmd.id, result })),
      (e) =>
        console.log(
          JSON.stringify({ id: cmd.id, error: String(e?.message ?? e) }),
        ),
    );
  }
}
io.close();
await Promise.allSettled([pub.close(), sub.close()]);
Deno.exit(0);
