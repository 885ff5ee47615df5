// A chat with rooms in the browser, on weft's event server (Socket.IO's
// model): pick a name and a room, talk to everyone in that room. Shows
// rooms (join/leave), broadcasts that skip the sender, acknowledgements,
// heartbeats and the browser client (net/event_client.ts, bundled for the
// page at start-up with `deno bundle`, so the page runs the very same
// module Deno programs import).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-run examples/chat/server.ts [--port 8000]
//
// Then open http://127.0.0.1:8000/ in two browser tabs. Partner program:
// the page itself (examples/chat/index.html + page.js); Deno programs can
// join too with connectEvents("ws://127.0.0.1:8000/events"). Prints
// "chat listening on http://127.0.0.1:PORT/" once ready (--port 0 picks a
// free port). Ctrl-C shuts it down. Permissions: --allow-net to serve on
// loopback, --allow-read for the page files, --allow-run to run
// `deno bundle` on the client module (it fetches esbuild from npm the first
// time).

import { parseArgs } from "node:util";
import { type EventServer, serveEvents } from "../../net/mod.ts";

/** A running chat: the event server and the page's address. */
export interface Chat {
  server: EventServer;
  pageUrl: string;
}

const MAX_TEXT = 500;
const MAX_NAME = 32;

function clean(value: unknown, max: number): string {
  return String(value ?? "").replace(/\s+/g, " ").trim().slice(0, max);
}

/** Bundles the browser client (TypeScript → one ES module) with `deno bundle`. */
async function bundleClient(): Promise<string> {
  const entry = new URL("../../net/event_client.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      decodeURIComponent(entry.pathname),
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot bundle the event client: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** Starts the chat on `hostname:port` (port 0: a free one). */
export async function startChat(
  options: { hostname?: string; port?: number; signal?: AbortSignal } = {},
): Promise<Chat> {
  const read = (name: string) =>
    Deno.readTextFile(new URL(name, import.meta.url));
  const files: Record<string, [string, string]> = {
    "/": [await read("./index.html"), "text/html; charset=utf-8"],
    "/page.js": [await read("./page.js"), "text/javascript; charset=utf-8"],
    "/event_client.js": [
      await bundleClient(),
      "text/javascript; charset=utf-8",
    ],
  };
  const server = serveEvents({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    signal: options.signal,
    maxMessageSize: 16 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    // Only pages served by this chat (and non-browser clients, which send
    // no Origin) may connect: any other web page could otherwise open a
    // WebSocket to a loopback server from the user's browser.
    allowOrigin: (origin, request) =>
      origin === null || new URL(origin).host === new URL(request.url).host,
    handler(request) {
      const file = files[new URL(request.url).pathname];
      if (!file) return new Response("Not found", { status: 404 });
      return new Response(file[0], {
        headers: { "content-type": file[1], "cache-control": "no-store" },
      });
    },
    onConnection(socket) {
      const names = (room: string) =>
        server.members(room).map((s) => s.data.name);
      const leave = () => {
        const room = socket.data.room as string | undefined;
        if (!room) return;
        socket.leave(room);
        server.emit("system", `${socket.data.name} left ${room}`, { room });
        server.emit("members", names(room), { room });
        socket.data.room = undefined;
      };
      // join {name, room} -> { room, members } (an acknowledgement)
      socket.on("join", (data) => {
        const { name, room } = (data ?? {}) as Record<string, unknown>;
        const newName = clean(name, MAX_NAME) || "anonymous";
        const newRoom = clean(room, MAX_NAME) || "lobby";
        leave();
        socket.data.name = newName;
        socket.data.room = newRoom;
        socket.join(newRoom);
        server.emit("system", `${newName} joined ${newRoom}`, {
          room: newRoom,
          skip: socket,
        });
        server.emit("members", names(newRoom), { room: newRoom, skip: socket });
        return { room: newRoom, members: names(newRoom) };
      });
      // say text -> everyone else in the room gets "message"; the ack
      // returns the message as the others see it
      socket.on("say", (text) => {
        const room = socket.data.room as string | undefined;
        if (!room) throw new Error("join a room first");
        const message = {
          room,
          name: socket.data.name,
          text: clean(text, MAX_TEXT),
          at: new Date().toISOString(),
        };
        server.emit("message", message, { room, skip: socket });
        return message;
      });
      socket.on("disconnect", leave);
    },
  });
  const { hostname, port } = server.addr;
  return { server, pageUrl: `http://${hostname}:${port}/` };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8000" },
      hostname: { type: "string", default: "127.0.0.1" },
    },
  });
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const chat = await startChat({
    hostname: values.hostname,
    port: Number(values.port),
    signal: controller.signal,
  });
  console.log(`chat listening on ${chat.pageUrl}`);
  await chat.server.finished;
  console.log("chat stopped");
  Deno.exit(0);
}
