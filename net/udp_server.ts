/**
 * {@linkcode serveUdp}: Python's `socketserver.UDPServer` on
 * `Deno.listenDatagram`.
 *
 * @module
 */

import { DatagramSocket } from "./datagram_socket.ts";

/**
 * What a UDP handler gets beside the datagram (Python's `self.client_address`, `self.request[1]`).
 *
 * @example Replying with the sender's port
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, serveUdp, type UdpRequest } from "@weft/weft/net";
 *
 * await using server = serveUdp({
 *   port: 0,
 *   handler: (_data, request: UdpRequest) => String(request.addr.port),
 * });
 * using client = DatagramSocket.bind();
 * const reply = await client.request(server.addr, "who am I?", { timeout: 1000 });
 * assert.equal(new TextDecoder().decode(reply), String(client.addr.port));
 * ```
 */
export interface UdpRequest {
  /** The sender. */
  readonly addr: Deno.NetAddr;
  /** The server's socket, e.g. to send several replies. */
  readonly socket: DatagramSocket;
}

/**
 * Handles one datagram. A returned `Uint8Array` or string is sent back to
 * the sender as the reply; `undefined` sends nothing.
 *
 * @example A string return value is the reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, serveUdp, type UdpHandler } from "@weft/weft/net";
 *
 * const reverse: UdpHandler = (data) => data.toReversed();
 * await using server = serveUdp({ port: 0, handler: reverse });
 * using client = DatagramSocket.bind();
 * const reply = await client.request(server.addr, new Uint8Array([1, 2, 3]), { timeout: 1000 });
 * assert.deepEqual(reply, new Uint8Array([3, 2, 1]));
 * ```
 */
export type UdpHandler = (
  data: Uint8Array,
  request: UdpRequest,
) =>
  | Uint8Array
  | string
  | void
  | undefined
  | Promise<Uint8Array | string | void | undefined>;

/**
 * Options of {@linkcode serveUdp}.
 *
 * @example An oversize datagram goes to `onError`, the server goes on
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, serveUdp, type ServeUdpOptions } from "@weft/weft/net";
 *
 * const errors: unknown[] = [];
 * const options: ServeUdpOptions = {
 *   port: 0,
 *   maxDatagramSize: 8,
 *   handler: (data) => data,
 *   onError: (error) => errors.push(error),
 * };
 * await using server = serveUdp(options);
 * using client = DatagramSocket.bind();
 * await client.sendTo("far too long", server.addr);
 * assert.equal(new TextDecoder().decode(await client.request(server.addr, "ok", { timeout: 1000 })), "ok");
 * assert.ok(errors[0] instanceof RangeError);
 * ```
 */
export interface ServeUdpOptions {
  /**
   * Address to bind. Default `"127.0.0.1"`; every interface is an explicit `"0.0.0.0"`.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port; `0` (default) picks a free one, read it from `server.addr`.
   *
   * @default {0}
   */
  port?: number;
  /** Called for every datagram; async handlers run concurrently, up to `maxHandlers`. */
  handler: UdpHandler;
  /**
   * Most async handlers running at once. A datagram that arrives while this
   * many are still running is dropped (as the network may drop any
   * datagram: a client retries) and counted in `server.dropped`, so a flood
   * costs bounded memory.
   *
   * @default {1024}
   */
  maxHandlers?: number;
  /** Aborting shuts the server down. */
  signal?: AbortSignal;
  /**
   * Larger datagrams are reported to `onError` (`RangeError`) and dropped.
   *
   * @default {65507}
   */
  maxDatagramSize?: number;
  /** Receives handler errors and oversize-datagram errors. Default: `console.error`. */
  onError?: (error: unknown, addr: Deno.NetAddr | undefined) => void;
}

/**
 * A running UDP server returned by {@linkcode serveUdp}.
 *
 * @example Shutting down
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveUdp, type UdpServer } from "@weft/weft/net";
 *
 * const server: UdpServer = serveUdp({ port: 0, handler: () => {} });
 * assert.equal(server.closed, false);
 * await server.shutdown();
 * assert.equal(server.closed, true);
 * assert.equal(server.running, 0);
 * ```
 */
export interface UdpServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** The server's socket. */
  readonly socket: DatagramSocket;
  /** Resolves once the socket is closed and every running handler settled. */
  readonly finished: Promise<void>;
  /** Whether shutdown has started. */
  readonly closed: boolean;
  /** Async handlers running now (at most `maxHandlers`). */
  readonly running: number;
  /** Datagrams dropped unhandled because `maxHandlers` handlers were running. */
  readonly dropped: number;
  /** Stops receiving, closes the socket, waits for running handlers. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Serves UDP datagrams: Python's `socketserver.UDPServer`. Each datagram
 * calls `handler(data, { addr, socket })`; whatever it returns is sent
 * back. A handler error, or a datagram over `maxDatagramSize`, is reported
 * to `onError` and the server goes on with the next datagram.
 *
 * ## Limits
 * At most `maxHandlers` async handlers run at once (default 1024); what
 * arrives meanwhile is dropped and counted in `server.dropped` rather than
 * queued, so a flood of datagrams costs bounded memory and CPU per
 * datagram, never a handler each.
 *
 * ## Platform
 * Needs `--allow-net` and `--unstable-net` (or `"unstable": ["net"]` in
 * deno.json).
 *
 * @example An upper-casing UDP server
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, serveUdp } from "@weft/weft/net";
 *
 * const server = serveUdp({
 *   port: 0,
 *   maxHandlers: 100, // a flood costs at most 100 running handlers
 *   handler: (data) => new TextDecoder().decode(data).toUpperCase(),
 * });
 * using client = DatagramSocket.bind();
 * const reply = await client.request(server.addr, "hello", { timeout: 1000 });
 * assert.equal(new TextDecoder().decode(reply), "HELLO");
 * assert.equal(server.dropped, 0); // nothing arrived while 100 handlers ran
 * await server.shutdown();
 * ```
 */
export function serveUdp(options: ServeUdpOptions): UdpServer {
  if (options === null || typeof options !== "object") {
    throw new TypeError("Cannot serve UDP: options must be an object");
  }
  if (typeof options.handler !== "function") {
    throw new TypeError("Cannot serve UDP: handler must be a function");
  }
  const max = options.maxHandlers;
  if (
    max !== undefined &&
    (typeof max !== "number" || !Number.isSafeInteger(max) || max < 1)
  ) {
    throw new TypeError(
      `Cannot serve UDP: maxHandlers must be an integer >= 1, got ${
        String(max)
      }`,
    );
  }
  if (options.signal?.aborted) throw options.signal.reason;
  return new LocalUdpServer(options);
}

function reportDefault(error: unknown, addr: Deno.NetAddr | undefined): void {
  console.error(
    `serveUdp: datagram from ${
      addr ? `${addr.hostname}:${addr.port}` : "unknown sender"
    } failed:`,
    error,
  );
}

const DEFAULT_MAX_HANDLERS = 1024;

class LocalUdpServer implements UdpServer {
  readonly socket: DatagramSocket;
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  #options: ServeUdpOptions;
  #closed = false;
  #tasks = new Set<Promise<void>>();
  #max: number;
  #dropped = 0;
  #loop: Promise<void>;
  #shutdownPromise: Promise<void> | undefined;
  #resolveFinished!: () => void;
  #signalCleanup: () => void = () => {};

  constructor(options: ServeUdpOptions) {
    this.#options = options;
    this.#max = options.maxHandlers ?? DEFAULT_MAX_HANDLERS;
    this.socket = DatagramSocket.bind({
      hostname: options.hostname,
      port: options.port,
      maxDatagramSize: options.maxDatagramSize,
    });
    this.addr = this.socket.addr;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => this.shutdown();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#signalCleanup = () => signal.removeEventListener("abort", onAbort);
    }
    this.#loop = this.#receive();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): number {
    return this.#tasks.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  async #receive(): Promise<void> {
    while (!this.#closed) {
      let got: [Uint8Array, Deno.NetAddr] | null;
      try {
        got = await this.socket.recvFrom();
      } catch (error) {
        if (this.#closed) return;
        this.#report(error, undefined);
        continue;
      }
      if (got === null) continue;
      if (this.#tasks.size >= this.#max) {
        this.#dropped++;
        continue;
      }
      const [data, addr] = got;
      let result;
      try {
        result = this.#options.handler(data, { addr, socket: this.socket });
      } catch (error) {
        this.#report(error, addr);
        continue;
      }
      if (result instanceof Promise) {
        const task = this.#finish(result, addr);
        this.#tasks.add(task);
        task.then(() => this.#tasks.delete(task));
      } else if (result !== undefined) {
        try {
          await this.#reply(result, addr);
        } catch (error) {
          if (!this.#closed) this.#report(error, addr);
        }
      }
    }
  }

  async #finish(
    pending: Promise<Uint8Array | string | void | undefined>,
    addr: Deno.NetAddr,
  ): Promise<void> {
    try {
      const result = await pending;
      if (result !== undefined && !this.#closed) {
        await this.#reply(result, addr);
      }
    } catch (error) {
      if (!this.#closed) this.#report(error, addr);
    }
  }

  async #reply(data: Uint8Array | string | void, addr: Deno.NetAddr) {
    if (typeof data === "string" || data instanceof Uint8Array) {
      await this.socket.sendTo(data, addr);
    }
  }

  #report(error: unknown, addr: Deno.NetAddr | undefined): void {
    try {
      (this.#options.onError ?? reportDefault)(error, addr);
    } catch {
      // an error reporter that throws must not stop the server
    }
  }

  shutdown(): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise;
    this.#closed = true;
    this.#signalCleanup();
    this.#shutdownPromise = (async () => {
      await Promise.all(this.#tasks);
      this.socket.close();
      await this.#loop;
      this.#resolveFinished();
    })();
    return this.#shutdownPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
