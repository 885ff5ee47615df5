// One node of a chat that runs on several processes: a weft event server
// whose rooms span every node on the same Redis (redisAdapter joins
// Socket.IO's own Redis bus, so Node socket.io servers with
// @socket.io/redis-adapter could join this chat too).
//
//   deno run --allow-net=127.0.0.1 --allow-env examples/chat_cluster/node.ts \
//     --redis redis://127.0.0.1:6379 [--port 0] [--name n1]
//
// Clients (any Socket.IO client, e.g. weft's connectEvents) connect to any
// node with `auth: { name, room }`; "say" (text) sends
// `{ from, node, text }` as "message" to everyone else in the room, on every
// node, and acknowledges with how many sockets the room has fleet-wide.
// Prints "chat node NAME listening on http://127.0.0.1:PORT" when ready;
// stops on SIGTERM / SIGINT or when stdin closes.
import { parseArgs } from "node:util";
import { serveEvents } from "../../net/mod.ts";
import { type RedisAdapter, redisAdapter } from "../../cluster/mod.ts";

const MAX_TEXT = 500;

const args = parseArgs({
  args: Deno.args,
  options: {
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
    port: { type: "string", default: "0" },
    name: { type: "string", default: "node" },
  },
});
const node = args.values.name;

const server = serveEvents({
  port: Number(args.values.port),
  adapter: redisAdapter({ url: args.values.redis, requestsTimeout: 2000 }),
});
server.on("connect", (sid, _environ, auth) => {
  const { name, room } = (auth ?? {}) as { name?: unknown; room?: unknown };
  if (typeof room !== "string" || room === "" || room.length > 64) {
    return false; // refused: a room is required
  }
  server.saveSession(sid, { name: String(name ?? sid).slice(0, 32), room });
  server.enterRoom(sid, room);
});
server.on("say", async (sid, text) => {
  const { name, room } = server.getSession(sid) as {
    name: string;
    room: string;
  };
  const message = { from: name, node, text: String(text).slice(0, MAX_TEXT) };
  server.emit("message", message, { room, skip: sid });
  return (await server.fetchSockets({ room })).length;
});
await (server.of("/").adapter as RedisAdapter).ready;
console.log(`chat node ${node} listening on ${server.url}`);

const stop = () => void server.shutdown();
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
(async () => {
  for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
  stop();
})();
await server.finished;
Deno.removeSignalListener("SIGTERM", stop);
Deno.removeSignalListener("SIGINT", stop);
Deno.exit(0);
