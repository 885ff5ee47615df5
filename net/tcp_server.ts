/**
 * {@linkcode serveTcp}: Python's `socketserver.TCPServer` family on
 * `Deno.listen`.
 *
 * @module
 */

import { errorFromWire } from "../_internal/run_export.ts";
import { ServedConnection } from "./served_connection.ts";
import {
  importHandler,
  type WorkerReply,
  type WorkerRequest,
} from "./_tcp_wire.ts";

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
 * `fn` (default `"handler"`). `module` is an absolute URL (use
 * `new URL("./handler.ts", import.meta.url)`) or a `data:` URL.
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
  /** Module that exports the handler. */
  module: string | URL;
  /** Name of the exported handler function. Default `"handler"`. */
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
   */
  hostname?: string;
  /** Port; `0` (default) picks a free one, read it back from `server.addr`. */
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
  /** Grace period (ms) used when `signal` aborts. Default 5000. */
  shutdownTimeout?: number;
  /**
   * Receives every error a handler threw (with threads: rebuilt from the
   * worker's name, message and stack). Default: `console.error`. Errors of
   * handlers whose connection shutdown closed at the deadline are not reported.
   */
  onError?: (error: unknown, remoteAddr: Deno.NetAddr) => void;
  /** Let other sockets bind the same port (`SO_REUSEPORT`, needs unstable `net`). Default `false`. */
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
  /** Milliseconds handlers get to finish before their connections are closed. Default 5000. */
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

const DEFAULT_GRACE = 5000;
/** How long shutdown waits for handlers after closing their connections. */
const FORCED_GRACE = 1000;

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
  if (isHandlerModule(handler) && !URL.canParse(String(handler.module))) {
    throw new TypeError(
      `Cannot serve TCP: handler.module must be an absolute URL, got "${
        String(handler.module)
      }" (use new URL("./handler.ts", import.meta.url))`,
    );
  }
}

function isHandlerModule(value: unknown): value is TcpHandlerModule {
  return typeof value === "object" && value !== null &&
    (typeof (value as TcpHandlerModule).module === "string" ||
      (value as TcpHandlerModule).module instanceof URL);
}

function reportDefault(error: unknown, remote: Deno.NetAddr): void {
  console.error(
    `serveTcp: handler failed for ${remote.hostname}:${remote.port}:`,
    error,
  );
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
  if (options.threads !== undefined) return await ThreadedServer.start(options);
  const handler = typeof options.handler === "function"
    ? options.handler
    : await importHandler(options.handler);
  return new LocalServer(options, handler);
}

/** The single-thread server: an accept loop on the calling thread. */
class LocalServer implements TcpServer {
  readonly addr: TcpAddr;
  readonly finished: Promise<void>;
  #listener: Deno.TcpListener;
  #handler: TcpHandler;
  #options: ServeTcpOptions;
  #live = new Set<ServedConnection>();
  #tasks = new Set<Promise<void>>();
  #shutdownController = new AbortController();
  #closed = false;
  #forced = new WeakSet<ServedConnection>();
  #slotFreed: (() => void) | undefined;
  #shutdownStarted: (() => void) | undefined;
  #shutdownPromise: Promise<void> | undefined;
  #acceptLoop: Promise<void>;
  #resolveFinished!: () => void;
  #signalCleanup: () => void = () => {};

  constructor(options: ServeTcpOptions, handler: TcpHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      transport: "tcp",
      ...(options.reusePort ? { reusePort: true } : {}),
    });
    this.addr = this.#listener.addr as TcpAddr;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        this.shutdown({ timeout: options.shutdownTimeout ?? DEFAULT_GRACE });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#signalCleanup = () => signal.removeEventListener("abort", onAbort);
    }
    this.#acceptLoop = this.#accept();
  }

  get connections(): number {
    return this.#live.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #accept(): Promise<void> {
    const max = this.#options.maxConnections ?? Infinity;
    const stopped = new Promise<void>((resolve) =>
      this.#shutdownStarted = resolve
    );
    while (!this.#closed) {
      if (this.#live.size >= max) {
        await Promise.race([
          new Promise<void>((resolve) => this.#slotFreed = resolve),
          stopped,
        ]);
        this.#slotFreed = undefined;
        continue;
      }
      let raw: Deno.TcpConn;
      try {
        raw = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        // Transient accept failures (EMFILE, ECONNABORTED): report, back off, go on.
        this.#report(error, this.addr);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (this.#closed) {
        raw.close();
        return;
      }
      this.#serve(raw);
    }
  }

  #serve(raw: Deno.TcpConn): void {
    const conn = new ServedConnection(
      raw,
      this.#shutdownController.signal,
      this.#options.idleTimeout,
      this.#options.requestTimeout,
    );
    this.#live.add(conn);
    const task = this.#run(conn);
    this.#tasks.add(task);
    task.then(() => this.#tasks.delete(task));
  }

  /** Runs the handler for one connection; never rejects. */
  async #run(conn: ServedConnection): Promise<void> {
    try {
      await this.#handler(conn);
    } catch (error) {
      if (!this.#forced.has(conn)) this.#report(error, conn.remoteAddr);
    } finally {
      conn.close();
      this.#live.delete(conn);
      this.#slotFreed?.();
    }
  }

  #report(error: unknown, remote: Deno.NetAddr): void {
    try {
      (this.#options.onError ?? reportDefault)(error, remote);
    } catch {
      // an error reporter that throws must not stop the server
    }
  }

  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise;
    this.#closed = true;
    this.#signalCleanup();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    this.#shutdownStarted?.();
    this.#shutdownController.abort(
      new DOMException("The server is shutting down", "AbortError"),
    );
    const grace = options.timeout ?? DEFAULT_GRACE;
    this.#shutdownPromise = (async () => {
      await this.#acceptLoop;
      await this.#settleWithin(grace);
      for (const conn of this.#live) {
        this.#forced.add(conn);
        conn.close();
      }
      // A closed connection wakes every handler blocked on it; one waiting
      // on something else is not waited for past this second deadline.
      await this.#settleWithin(FORCED_GRACE);
      this.#resolveFinished();
    })();
    return this.#shutdownPromise;
  }

  async #settleWithin(ms: number): Promise<void> {
    if (this.#tasks.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.all(this.#tasks), deadline]);
    clearTimeout(timer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/** `threads: n`: n workers, each running a LocalServer with reusePort. */
class ThreadedServer implements TcpServer {
  readonly addr: TcpAddr;
  readonly finished: Promise<void>;
  #workers: Worker[];
  #counts: number[];
  #closed = false;
  #shutdownPromise: Promise<void> | undefined;
  #options: ServeTcpOptions;
  #signalCleanup: () => void = () => {};
  #resolveFinished!: () => void;

  private constructor(
    options: ServeTcpOptions,
    addr: TcpAddr,
    workers: Worker[],
  ) {
    this.#options = options;
    this.addr = addr;
    this.#workers = workers;
    this.#counts = workers.map(() => 0);
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    workers.forEach((worker, index) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) =>
        this.#onMessage(index, event.data);
      // An error escaping the handler module (say, a rejected promise it
      // forgot) must not crash this thread: report it like a handler error.
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.#report(event.error ?? new Error(event.message), addr);
      };
    });
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        this.shutdown({ timeout: options.shutdownTimeout ?? DEFAULT_GRACE });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#signalCleanup = () => signal.removeEventListener("abort", onAbort);
    }
  }

  static async start(options: ServeTcpOptions): Promise<ThreadedServer> {
    const ref = options.handler as TcpHandlerModule;
    const workers: Worker[] = [];
    let port = options.port ?? 0;
    let addr: TcpAddr | undefined;
    try {
      for (let i = 0; i < options.threads!; i++) {
        const worker = new Worker(
          new URL("./_tcp_worker.ts", import.meta.url),
          { type: "module", name: `weft-serveTcp-${i}` },
        );
        workers.push(worker);
        const request: WorkerRequest = {
          t: "start",
          module: String(ref.module),
          fn: ref.fn ?? "handler",
          hostname: options.hostname ?? "127.0.0.1",
          port,
          maxConnections: options.maxConnections,
          idleTimeout: options.idleTimeout,
          requestTimeout: options.requestTimeout,
        };
        const reply = await new Promise<WorkerReply>((resolve) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => {
            event.preventDefault();
            resolve({ t: "failed", message: event.message });
          };
          worker.postMessage(request);
        });
        worker.onerror = null;
        if (reply.t !== "listening") {
          throw new TypeError(
            `Cannot serve TCP: worker thread ${i} failed to start: ${
              reply.t === "failed" ? reply.message : reply.t
            }`,
          );
        }
        addr ??= reply.addr as TcpAddr;
        port = reply.addr.port;
      }
    } catch (error) {
      for (const worker of workers) worker.terminate();
      throw error;
    }
    return new ThreadedServer(options, addr!, workers);
  }

  get connections(): number {
    return this.#counts.reduce((a, b) => a + b, 0);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #finishedWorkers = new Map<number, () => void>();

  #onMessage(index: number, message: WorkerReply): void {
    if (message.t === "count") {
      this.#counts[index] = message.connections;
    } else if (message.t === "handlerError") {
      this.#report(errorFromWire(message.error), message.remoteAddr);
    } else if (message.t === "finished") {
      this.#finishedWorkers.get(index)?.();
    }
  }

  #report(error: unknown, remote: Deno.NetAddr): void {
    try {
      (this.#options.onError ?? reportDefault)(error, remote);
    } catch {
      // an error reporter that throws must not stop the server
    }
  }

  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise;
    this.#closed = true;
    this.#signalCleanup();
    const grace = options.timeout ?? DEFAULT_GRACE;
    this.#shutdownPromise = (async () => {
      const done = this.#workers.map((worker, index) =>
        new Promise<void>((resolve) => {
          this.#finishedWorkers.set(index, resolve);
          worker.postMessage({ t: "shutdown", timeout: grace });
        })
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        // Workers close everything at `grace`; this is the backstop.
        timer = setTimeout(resolve, grace + 2000);
      });
      await Promise.race([Promise.all(done), deadline]);
      clearTimeout(timer);
      for (const worker of this.#workers) worker.terminate();
      this.#counts.fill(0);
      this.#resolveFinished();
    })();
    return this.#shutdownPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
