/**
 * Private: the worker thread behind `serveTcp({ threads })`. Protocol in
 * `_tcp_wire.ts`.
 *
 * @module
 */

import { errorToWire } from "../_internal/run_export.ts";
import {
  importHandler,
  type WorkerReply,
  type WorkerRequest,
} from "./_tcp_wire.ts";
import { LocalServer } from "./_tcp_local.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
let server: LocalServer | undefined;

function post(message: WorkerReply): void {
  scope.postMessage(message);
}

function reportStray(error: unknown): void {
  const wire = errorToWire(
    error instanceof Error ? error : new Error(String(error)),
  );
  if ("error" in wire) {
    wire.error.message =
      `Uncaught in a serveTcp worker thread: ${wire.error.message}`;
  }
  post({
    t: "handlerError",
    error: wire,
    remoteAddr: server?.addr ?? { transport: "tcp", hostname: "", port: 0 },
  });
}

// A handler module's stray rejection or error must not kill this thread
// (and with it every connection it serves): report it and keep serving.
scope.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  reportStray(event.reason);
});
scope.addEventListener("error", (event: ErrorEvent) => {
  event.preventDefault();
  reportStray(event.error ?? event.message);
});

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.t === "start") {
    try {
      const handler = await importHandler({
        module: request.module,
        fn: request.fn,
      });
      let live = 0;
      server = LocalServer.listen({
        hostname: request.hostname,
        port: request.port,
        reusePort: true,
        maxConnections: request.maxConnections,
        idleTimeout: request.idleTimeout,
        requestTimeout: request.requestTimeout,
        onError: (error, remoteAddr) => {
          post({ t: "handlerError", error: errorToWire(error), remoteAddr });
        },
      }, async (conn) => {
        post({ t: "count", connections: ++live });
        try {
          await handler(conn);
        } finally {
          post({ t: "count", connections: --live });
        }
      });
      post({ t: "listening", addr: server.addr });
    } catch (error) {
      post({
        t: "failed",
        message: error instanceof Error ? error.message : String(error),
      });
    }
  } else if (request.t === "shutdown") {
    await server?.shutdown({ timeout: request.timeout });
    post({ t: "finished" });
  }
};
