/**
 * {@linkcode serveTcp}: Python's `socketserver.TCPServer` family on
 * `Deno.listen`. The accept loop is in `_tcp_local.ts`, `threads` in
 * `_tcp_threaded.ts` (+ `_tcp_worker.ts`), what both share in
 * `_tcp_lifecycle.ts`, the types in `tcp_types.ts`.
 *
 * @module
 */

import { resolveModule } from "../_internal/run_export.ts";
import { importHandler } from "./_tcp_wire.ts";
import { LocalServer } from "./_tcp_local.ts";
import { ThreadedServer } from "./_tcp_threaded.ts";
import type {
  ServeTcpOptions,
  TcpHandlerModule,
  TcpServer,
} from "./tcp_types.ts";

export type {
  ServeTcpOptions,
  ShutdownOptions,
  TcpAddr,
  TcpHandler,
  TcpHandlerModule,
  TcpServer,
} from "./tcp_types.ts";

function checkCount(name: string, value: unknown, min: number): void {
  if (
    value !== undefined &&
    (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
  ) {
    throw new TypeError(
      `Cannot serve TCP: ${name} must be an integer >= ${min}, got ${
        String(value)
      }`,
    );
  }
}

function checkOptions(options: ServeTcpOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError("Cannot serve TCP: options must be an object");
  }
  checkCount("port", options.port, 0);
  checkCount("maxConnections", options.maxConnections, 1);
  checkCount("threads", options.threads, 1);
  for (
    const name of ["idleTimeout", "requestTimeout", "shutdownTimeout"] as const
  ) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value))
    ) {
      throw new TypeError(
        `Cannot serve TCP: ${name} must be a non-negative number of ms, got ${
          String(value)
        }`,
      );
    }
  }
  const handler = options.handler;
  if (options.threads === undefined) {
    if (typeof handler !== "function" && !isHandlerModule(handler)) {
      throw new TypeError(
        "Cannot serve TCP: handler must be a function or { module, fn }",
      );
    }
  } else if (!isHandlerModule(handler)) {
    throw new TypeError(
      "Cannot serve TCP: with threads, handler must be { module, fn } (functions cannot cross to worker threads)",
    );
  }
  if (isHandlerModule(handler)) {
    resolveModule(handler.module, "serve TCP");
    if (
      handler.fn !== undefined &&
      (typeof handler.fn !== "string" || handler.fn === "")
    ) {
      throw new TypeError(
        `Cannot serve TCP: handler.fn must be a non-empty string, got ${
          String(handler.fn)
        }`,
      );
    }
  }
}

/** A `{ module, fn }` object (its fields are checked by `checkOptions`). */
function isHandlerModule(value: unknown): value is TcpHandlerModule {
  return typeof value === "object" && value !== null && "module" in value;
}

/**
 * Serves TCP connections: Python's `socketserver.ThreadingTCPServer`, one
 * handler call per connection, run concurrently. A handler that throws
 * affects only its own connection (the error goes to `onError`).
 *
 * ## Limits
 * `maxConnections` makes extra clients wait (not refused), `idleTimeout`
 * drops a client whose read or write stalls, `requestTimeout` one that
 * drips a request too slowly to finish it (slowloris), `shutdown()` is
 * graceful with a deadline. Every accepted connection is tracked and closed
 * by shutdown; a server can be restarted on the same port right after.
 *
 * ## Threads
 * With `threads: n` the handler must be a {@linkcode TcpHandlerModule}; n
 * workers each bind the port with `reusePort` and the kernel spreads
 * connections over them, so CPU-bound handlers use n cores.
 * `maxConnections` then applies per worker. Worker threads inherit this
 * program's permissions.
 *
 * ## Platform
 * Needs `--allow-net` for the address. `threads` and `reusePort` need
 * `--unstable-net` (or `"unstable": ["net"]` in deno.json); `reusePort` is
 * honoured on Linux (elsewhere Deno rejects or ignores it).
 *
 * @example An upper-casing server of length-prefixed frames
 * ```ts
 * import assert from "node:assert/strict";
 * import { FramedConnection, LengthPrefixCodec, serveTcp } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ maxFrameSize: 1024 });
 * const server = await serveTcp({
 *   port: 0,
 *   maxConnections: 100,
 *   idleTimeout: 10_000,
 *   handler: async (conn) => {
 *     const framed = new FramedConnection(conn, codec);
 *     for await (const frame of framed) {
 *       await framed.send(new TextDecoder().decode(frame).toUpperCase());
 *     }
 *   },
 * });
 * using client = new FramedConnection(await Deno.connect(server.addr), codec);
 * await client.send("hello");
 * assert.equal(new TextDecoder().decode((await client.receive())!), "HELLO");
 * client.close();
 * await server.shutdown();
 * ```
 *
 * @example A raw handler under `requestTimeout`: one line is one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveTcp } from "@weft/weft/net";
 *
 * await using server = await serveTcp({
 *   port: 0,
 *   idleTimeout: 5000,
 *   requestTimeout: 2000, // a client dripping a line slower than this is dropped
 *   handler: async (conn) => {
 *     const buf = new Uint8Array(256);
 *     let line = "";
 *     for (let n; (n = await conn.read(buf)) !== null;) {
 *       line += new TextDecoder().decode(buf.subarray(0, n));
 *       if (!line.endsWith("\n")) continue;
 *       conn.progress(); // the request is complete: stop its clock
 *       await conn.write(new TextEncoder().encode(line.toUpperCase()));
 *       line = "";
 *     }
 *   },
 * });
 * using client = await Deno.connect(server.addr);
 * await client.write(new TextEncoder().encode("ping\n"));
 * const reply = new Uint8Array(16);
 * const n = await client.read(reply);
 * assert.equal(new TextDecoder().decode(reply.subarray(0, n!)), "PING\n");
 * ```
 */
export async function serveTcp(options: ServeTcpOptions): Promise<TcpServer> {
  checkOptions(options);
  if (options.signal?.aborted) throw options.signal.reason;
  if (
    (options.threads !== undefined || options.reusePort) &&
    typeof Deno.listenDatagram !== "function"
  ) {
    // Without the flag Deno would exit the whole process on `reusePort`.
    throw new TypeError(
      'Cannot serve TCP: threads and reusePort need --unstable-net (or "unstable": ["net"] in deno.json)',
    );
  }
  const handler = options.handler;
  if (options.threads !== undefined) {
    const ref = handler as TcpHandlerModule;
    return await ThreadedServer.start(
      options,
      resolveModule(ref.module, "serve TCP"),
      ref.fn ?? "handler",
    );
  }
  return LocalServer.listen(
    options,
    typeof handler === "function" ? handler : await importHandler(handler),
  );
}
