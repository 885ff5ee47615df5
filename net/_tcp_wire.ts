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
 * Every message carries its tag in the field `t` (`TAG` of
 * `_internal/run_export.ts`, like the other runner protocols); errors cross
 * as that kernel's `WireError`.
 *
 * @module
 */

import {
  loadExport,
  resolveModule,
  type WireError,
} from "../_internal/run_export.ts";
import type { TcpHandler } from "./tcp_types.ts";

/** Main thread to worker. */
export type WorkerRequest =
  | {
    t: "start";
    module: string;
    fn: string;
    hostname: string;
    port: number;
    maxConnections: number | undefined;
    idleTimeout: number | undefined;
    requestTimeout: number | undefined;
  }
  | { t: "shutdown"; timeout: number };

/** Worker to main thread. */
export type WorkerReply =
  | { t: "listening"; addr: Deno.NetAddr }
  | { t: "failed"; message: string }
  | { t: "count"; connections: number }
  | {
    t: "handlerError";
    error: WireError;
    remoteAddr: Deno.NetAddr;
  }
  | { t: "finished" };

/** Imports the handler named by a `TcpHandlerModule` (`module` URL, export `fn`). */
export async function importHandler(
  ref: { module: string | URL; fn?: string },
): Promise<TcpHandler> {
  const url = resolveModule(ref.module, "serve TCP");
  return await loadExport(url, ref.fn ?? "handler") as TcpHandler;
}
