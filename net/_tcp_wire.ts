/**
 * Private: messages between `serveTcp({ threads })` and its worker threads,
 * and the import of a handler module.
 *
 * | step | main thread                         | worker thread                               |
 * | ---- | ----------------------------------- | ------------------------------------------- |
 * | 1    | `start` (module, fn, address, ...)  | imports the handler, listens with reusePort |
 * | 2    |                                     | `listening` (bound address) or `failed`     |
 * | 3    | starts the next worker on that port |                                             |
 * | 4    |                                     | `count` on every connection change          |
 * | 5    |                                     | `handlerError` for each failed handler      |
 * | 6    | `shutdown` (grace ms)               | graceful shutdown, then `finished`          |
 * | 7    | terminates the worker               |                                             |
 *
 * @module
 */

import type { ServedConnection } from "./served_connection.ts";

/** A connection handler as `tcp_server.ts` defines `TcpHandler` (kept here so this file imports nothing of it). */
type Handler = (conn: ServedConnection) => void | Promise<void>;

/** Main thread to worker. */
export type WorkerRequest =
  | {
    type: "start";
    module: string;
    fn: string;
    hostname: string;
    port: number;
    maxConnections: number | undefined;
    idleTimeout: number | undefined;
    requestTimeout: number | undefined;
  }
  | { type: "shutdown"; timeout: number };

/** Worker to main thread. */
export type WorkerReply =
  | { type: "listening"; addr: Deno.NetAddr }
  | { type: "failed"; message: string }
  | { type: "count"; connections: number }
  | {
    type: "handlerError";
    name: string;
    message: string;
    stack: string | undefined;
    remoteAddr: Deno.NetAddr;
  }
  | { type: "finished" };

/** Imports the handler named by a `TcpHandlerModule` (`module` URL, export `fn`). */
export async function importHandler(
  ref: { module: string | URL; fn?: string },
): Promise<Handler> {
  const fn = ref.fn ?? "handler";
  const mod = await import(String(ref.module));
  const handler = mod[fn];
  if (typeof handler !== "function") {
    throw new TypeError(
      `Cannot serve TCP: module "${
        String(ref.module)
      }" has no exported function "${fn}"`,
    );
  }
  return handler as Handler;
}
