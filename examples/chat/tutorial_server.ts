// The tutorial's python-socketio server (seeds/003, "socket.io" section), in
// weft: on connect everyone gets "addChat" with the new client's sid;
// "message" answers everyone with "reply" {message: "hello", sid};
// "sendMessage" {content, destId} sends "reply" with the content to that
// one sid (every sid is its own room). Any Socket.IO client works with it:
// the official JavaScript client, python-socketio, weft's connectEvents.
//
//   deno run --allow-net=127.0.0.1 examples/chat/tutorial_server.ts [--port 8000]
//
// Python original:                      weft:
//   sio = socketio.Server()               const sio = serveEvents({ port })
//   @sio.on('connect')                    sio.on("connect", (sid, environ) => ...)
//   sio.emit('addChat', sid)              sio.emit("addChat", sid)
//   sio.emit('reply', x, room=destId)     sio.emit("reply", x, { room: destId })
//
// Partner program: any Socket.IO client, e.g. with python-socketio:
//   sio = socketio.Client(); sio.connect("http://127.0.0.1:8000")
//   sio.emit("sendMessage", {"content": "hi", "destId": other_sid})
// Prints "tutorial server listening on http://127.0.0.1:PORT" once ready,
// then one line per event as the Python program does. Ctrl-C stops it.

import { parseArgs } from "node:util";
import { type EventServer, serveEvents } from "../../net/mod.ts";

/** Starts the tutorial's server; `log` gets the lines Python prints. */
export function startTutorialServer(
  options: {
    port?: number;
    signal?: AbortSignal;
    log?: (line: string) => void;
  } = {},
): EventServer {
  const log = options.log ?? console.log;
  const sio = serveEvents({
    port: options.port ?? 8000,
    signal: options.signal,
  });

  sio.on("connect", (sid, _environ) => {
    log(`connect  ${sid}`);
    sio.emit("addChat", sid);
  });

  sio.on("message", (sid, data) => {
    log(`message  ${JSON.stringify(data)}`);
    sio.emit("reply", { message: "hello", sid });
  });

  sio.on("sendMessage", (_sid, data) => {
    // data = { content: "chat text", destId: "<a sid>" }
    log(JSON.stringify(data));
    const { content, destId } = (data ?? {}) as Record<string, unknown>;
    if (typeof destId !== "string" || destId === "") return;
    sio.emit("reply", content, { room: destId });
  });

  sio.on("disconnect", (sid) => {
    log(`disconnect  ${sid}`);
  });
  return sio;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "8000" } },
  });
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const sio = startTutorialServer({
    port: Number(values.port),
    signal: controller.signal,
  });
  console.log(`tutorial server listening on ${sio.url}`);
  await sio.finished;
}
