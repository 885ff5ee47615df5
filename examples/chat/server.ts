// A chat with rooms in the browser, on weft's Socket.IO server: pick a name
// and a room, talk to everyone in that room. Shows python-socketio's server
// model (handlers get the sid; rooms, sessions, broadcasts that skip the
// sender, acknowledgements) and two browser clients on the same server: the
// official socket.io-client build (the page's default) and weft's own
// client (net/event_client.ts, bundled for the page with `deno bundle`;
// open the page with ?client=weft).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-run --allow-env examples/chat/server.ts [--port 8000]
//
// Then open http://127.0.0.1:8000/ in two browser tabs. Partner programs:
// the page itself (examples/chat/index.html + page.js); any Socket.IO
// client (python-socketio: socketio.Client().connect("http://127.0.0.1:8000"))
// can join too. Prints "chat listening on http://127.0.0.1:PORT/" once
// ready (--port 0 picks a free port). Ctrl-C shuts it down. Permissions:
// --allow-net to serve on loopback, --allow-read for the page files and the
// socket.io-client package in Deno's npm cache, --allow-run to run `deno
// info` (to find that package) and `deno bundle` (weft's client),
// --allow-env for Deno's cache location.

import { parseArgs } from "node:util";
import { type EventServer, serveEvents } from "../../net/mod.ts";

/** A running chat: the event server and the page's address. */
export interface Chat {
  server: EventServer;
  pageUrl: string;
}

/** The official client's version, served at /socket.io/socket.io.min.js. */
export const SOCKET_IO_CLIENT = "socket.io-client@4.8.1";

const MAX_TEXT = 500;
const MAX_NAME = 32;

function clean(value: unknown, max: number): string {
  return String(value ?? "").replace(/\s+/g, " ").trim().slice(0, max);
}

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot run deno ${args[0]}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** The official socket.io-client browser build, from Deno's npm cache. */
async function officialClient(): Promise<string> {
  const info = JSON.parse(
    await run(["info", "--json", `npm:${SOCKET_IO_CLIENT}`]),
  );
  const pkg = info.npmPackages?.[SOCKET_IO_CLIENT];
  if (!pkg?.localPath) {
    throw new Error(`Cannot find ${SOCKET_IO_CLIENT} in Deno's npm cache`);
  }
  return await Deno.readTextFile(`${pkg.localPath}/dist/socket.io.min.js`);
}

/** weft's client bundled for browsers (TypeScript → one ES module). */
function weftClient(): Promise<string> {
  const entry = new URL("../../net/event_client.ts", import.meta.url);
  return run([
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    decodeURIComponent(entry.pathname),
  ]);
}

/** Starts the chat on `hostname:port` (port 0: a free one). */
export async function startChat(
  options: { hostname?: string; port?: number; signal?: AbortSignal } = {},
): Promise<Chat> {
  const read = (name: string) =>
    Deno.readTextFile(new URL(name, import.meta.url));
  const js = "text/javascript; charset=utf-8";
  const [page, script, official, weft] = await Promise.all([
    read("./index.html"),
    read("./page.js"),
    officialClient(),
    weftClient(),
  ]);
  const files: Record<string, [string, string]> = {
    "/": [page, "text/html; charset=utf-8"],
    "/page.js": [script, js],
    "/socket.io/socket.io.min.js": [official, js],
    "/weft_client.js": [weft, js],
  };
  const server = serveEvents({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    signal: options.signal,
    maxHttpBufferSize: 16 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    // Browsers: only pages served by this chat (the default: same origin).
    handler(request) {
      const file = files[new URL(request.url).pathname];
      if (!file) return new Response("Not found", { status: 404 });
      return new Response(file[0], {
        headers: { "content-type": file[1], "cache-control": "no-store" },
      });
    },
  });

  const names = async (room: string) =>
    (await server.fetchSockets({ room })).map((s) => String(s.data.name));
  const leave = async (sid: string) => {
    const session = server.getSession(sid);
    const room = session.room as string | undefined;
    if (!room) return;
    server.leaveRoom(sid, room);
    session.room = undefined;
    server.emit("system", `${session.name} left ${room}`, { room });
    server.emit("members", await names(room), { room });
  };

  // join {name, room} -> { room, members } (the acknowledgement)
  server.on("join", async (sid, data) => {
    const { name, room } = (data ?? {}) as Record<string, unknown>;
    const newName = clean(name, MAX_NAME) || "anonymous";
    const newRoom = clean(room, MAX_NAME) || "lobby";
    await leave(sid);
    const session = server.getSession(sid);
    session.name = newName;
    session.room = newRoom;
    server.enterRoom(sid, newRoom);
    const members = await names(newRoom);
    server.emit("system", `${newName} joined ${newRoom}`, {
      room: newRoom,
      skip: sid,
    });
    server.emit("members", members, { room: newRoom, skip: sid });
    return { room: newRoom, members };
  });
  // say text -> everyone else in the room gets "message"; the ack returns
  // the message as the others see it (or { error })
  server.on("say", (sid, text) => {
    const session = server.getSession(sid);
    const room = session.room as string | undefined;
    if (!room) return { error: "join a room first" };
    const message = {
      room,
      name: session.name,
      text: clean(text, MAX_TEXT),
      at: new Date().toISOString(),
    };
    server.emit("message", message, { room, skip: sid });
    return message;
  });
  server.on("disconnect", (sid) => leave(sid));
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
