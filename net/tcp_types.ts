/**
 * The contract of {@linkcode serveTcp}: its handlers, options, and the
 * server it returns (re-exported by `tcp_server.ts`; kept apart so that the
 * server implementations import these types without importing `serveTcp`).
 *
 * @module
 */

import type { ServedConnection } from "./served_connection.ts";

/**
 * A connection handler: Python's `BaseRequestHandler.handle()`.
 *
 * @example A handler that greets and returns
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall, serveTcp, type TcpHandler } from "@weft/weft/net";
 *
 * const greet: TcpHandler = (conn) => sendall(conn, "hello\n");
 * await using server = await serveTcp({ port: 0, handler: greet });
 * using client = await Deno.connect(server.addr);
 * assert.equal(new TextDecoder().decode(await recv(client, 64)), "hello\n");
 * ```
 */
export type TcpHandler = (conn: ServedConnection) => void | Promise<void>;

/**
 * A handler that lives in a module, for `threads`: functions cannot cross
 * to worker threads, so each worker imports `module` and calls its export
 * `fn` (default `"handler"`). `module` is named as for `Thread`, `Process`
 * and `Pool`: a `URL` (`new URL("./handler.ts", import.meta.url)`), an
 * absolute URL string (`file:`, `https:`, `data:`...), or a path relative
 * to the current directory, resolved when `serveTcp` is called.
 *
 * @example An echo handler run on a worker thread
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall, serveTcp, type TcpHandlerModule } from "@weft/weft/net";
 *
 * // In a real program: { module: new URL("./echo.ts", import.meta.url) }
 * const handler: TcpHandlerModule = {
 *   module: "data:text/javascript," + encodeURIComponent(`
 *     export async function echo(conn) {
 *       const buf = new Uint8Array(64);
 *       const n = await conn.read(buf);
 *       if (n) await conn.write(buf.subarray(0, n));
 *     }`),
 *   fn: "echo",
 * };
 * await using server = await serveTcp({ port: 0, threads: 1, handler });
 * using client = await Deno.connect(server.addr);
 * await sendall(client, "ping");
 * assert.equal(new TextDecoder().decode(await recv(client, 64, { timeout: 5000 })), "ping");
 * ```
 */
export interface TcpHandlerModule {
  /** Module that exports the handler: a URL, or a path relative to the current directory. */
  module: string | URL;
  /**
   * Name of the exported handler function.
   *
   * @default {"handler"}
   */
  fn?: string;
}

/**
 * Options of {@linkcode serveTcp}.
 *
 * @example A silent client is dropped after `idleTimeout`
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, serveTcp, type ServeTcpOptions } from "@weft/weft/net";
 *
 * const errors: unknown[] = [];
 * const options: ServeTcpOptions = {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   idleTimeout: 50,
 *   maxConnections: 10,
 *   handler: async (conn) => void await recv(conn, 64),
 *   onError: (error) => errors.push(error),
 * };
 * await using server = await serveTcp(options);
 * using client = await Deno.connect(server.addr);
 * assert.equal((await recv(client, 64, { timeout: 5000 })).length, 0); // the server closed it
 * assert.ok(errors[0] instanceof Deno.errors.TimedOut);
 * ```
 */
export interface ServeTcpOptions {
  /**
   * Address to listen on. Default `"127.0.0.1"` (loopback only): listening
   * on every interface is an explicit `"0.0.0.0"` (or `"::"`).
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port; `0` (default) picks a free one, read it back from `server.addr`.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Called once per accepted connection, concurrently for concurrent
   * clients. A function, or with `threads` a {@linkcode TcpHandlerModule}.
   * The connection is closed when it returns or throws.
   */
  handler: TcpHandler | TcpHandlerModule;
  /** Aborting starts `shutdown({ timeout: shutdownTimeout })`. */
  signal?: AbortSignal;
  /**
   * Most connections handled at once (per thread with `threads`). Extra
   * clients WAIT: the server stops accepting, so they sit in the kernel's
   * listen backlog (their `connect()` succeeds) until a handler returns.
   * Default: no limit.
   *
   * @default {Infinity}
   */
  maxConnections?: number;
  /** Milliseconds one read or write may wait before the connection is dropped. Default: no limit. */
  idleTimeout?: number;
  /**
   * Milliseconds a client may take to send one whole request, from its
   * first byte to its last, before the connection is dropped: the deadline
   * on progress that stops slowloris clients dripping a byte at a time
   * (which `idleTimeout` alone does not). A request ends with each frame a
   * {@linkcode FramedConnection} receives, or when a raw handler calls
   * {@linkcode ServedConnection.progress}. Default: no limit.
   */
  requestTimeout?: number;
  /**
   * Run `threads` worker threads, each listening on the same port
   * (`reusePort`; the kernel spreads connections over them) and running
   * the handler from {@linkcode TcpHandlerModule}: Python's
   * `ThreadingTCPServer` with real parallelism. Default: handle on the
   * calling thread.
   */
  threads?: number;
  /**
   * Grace period (ms) used when `signal` aborts.
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
  /**
   * Receives every error a handler threw (with threads: rebuilt from the
   * worker's name, message and stack). Default: `console.error`. Errors of
   * handlers whose connection shutdown closed at the deadline are not reported.
   */
  onError?: (error: unknown, remoteAddr: Deno.NetAddr) => void;
  /**
   * Let other sockets bind the same port (`SO_REUSEPORT`, needs unstable `net`).
   *
   * @default {false}
   */
  reusePort?: boolean;
}

/**
 * Options of {@linkcode TcpServer.shutdown}.
 *
 * @example Closing connections whose handlers do not return
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall, serveTcp, type ShutdownOptions } from "@weft/weft/net";
 *
 * const server = await serveTcp({
 *   port: 0,
 *   handler: async (conn) => {
 *     await sendall(conn, "hi");
 *     await recv(conn, 64); // the client never sends
 *   },
 * });
 * using client = await Deno.connect(server.addr);
 * await recv(client, 64); // connected and handled
 * const options: ShutdownOptions = { timeout: 50 };
 * await server.shutdown(options);
 * assert.equal((await recv(client, 64)).length, 0); // closed by the server
 * ```
 */
export interface ShutdownOptions {
  /**
   * Milliseconds handlers get to finish before their connections are closed.
   *
   * @default {5000}
   */
  timeout?: number;
}

/**
 * A running TCP server returned by {@linkcode serveTcp}. `await using` shuts
 * it down gracefully.
 *
 * @example Counting connections, then shutting down
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall, serveTcp, type TcpServer } from "@weft/weft/net";
 *
 * const server: TcpServer = await serveTcp({
 *   port: 0,
 *   handler: async (conn) => {
 *     await sendall(conn, "hi");
 *     await recv(conn, 64); // until the client closes
 *   },
 * });
 * const client = await Deno.connect(server.addr);
 * await recv(client, 64);
 * assert.equal(server.connections, 1);
 * client.close();
 * await server.shutdown();
 * assert.equal(server.closed, true);
 * assert.equal(server.connections, 0);
 * ```
 */
export interface TcpServer extends AsyncDisposable {
  /** The bound address, with the real port when `port: 0` was asked; pass it to `Deno.connect`. */
  readonly addr: TcpAddr;
  /** Resolves when the server stopped and every connection was closed. */
  readonly finished: Promise<void>;
  /** Connections being handled now (summed over threads; updated as threads report). */
  readonly connections: number;
  /** Whether shutdown has started. */
  readonly closed: boolean;
  /**
   * Graceful stop: stop accepting at once (the port is free again when this
   * resolves), abort every `conn.signal`, wait up to `timeout` ms for
   * handlers to return, then close the connections still open. Idempotent;
   * resolves with `finished`.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/**
 * A TCP address, as `Deno.connect` takes it.
 *
 * @example The address a server bound
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveTcp, type TcpAddr } from "@weft/weft/net";
 *
 * await using server = await serveTcp({ port: 0, handler: () => {} });
 * const addr: TcpAddr = server.addr;
 * assert.equal(addr.transport, "tcp");
 * assert.equal(addr.hostname, "127.0.0.1");
 * assert.ok(addr.port > 0);
 * ```
 */
export type TcpAddr = Deno.NetAddr & { transport: "tcp" };
