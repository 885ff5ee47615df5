/**
 * {@linkcode serveUdp}: Python's `socketserver.UDPServer` on
 * `Deno.listenDatagram`.
 *
 * @module
 */

import { DatagramSocket } from "./datagram_socket.ts";

/** What a UDP handler gets beside the datagram (Python's `self.client_address`, `self.request[1]`). */
export interface UdpRequest {
  /** The sender. */
  readonly addr: Deno.NetAddr;
  /** The server's socket, e.g. to send several replies. */
  readonly socket: DatagramSocket;
}

/**
 * Handles one datagram. A returned `Uint8Array` or string is sent back to
 * the sender as the reply; `undefined` sends nothing.
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

/** Options of {@linkcode serveUdp}. */
export interface ServeUdpOptions {
  /** Address to bind. Default `"127.0.0.1"`; every interface is an explicit `"0.0.0.0"`. */
  hostname?: string;
  /** Port; `0` (default) picks a free one, read it from `server.addr`. */
  port?: number;
  /** Called for every datagram; async handlers run concurrently. */
  handler: UdpHandler;
  /** Aborting shuts the server down. */
  signal?: AbortSignal;
  /** Larger datagrams are reported to `onError` (`RangeError`) and dropped. Default 65 507. */
  maxDatagramSize?: number;
  /** Receives handler errors and oversize-datagram errors. Default: `console.error`. */
  onError?: (error: unknown, addr: Deno.NetAddr | undefined) => void;
}

/** A running UDP server returned by {@linkcode serveUdp}. */
export interface UdpServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** The server's socket. */
  readonly socket: DatagramSocket;
  /** Resolves once the socket is closed and every running handler settled. */
  readonly finished: Promise<void>;
  /** Whether shutdown has started. */
  readonly closed: boolean;
  /** Stops receiving, closes the socket, waits for running handlers. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Serves UDP datagrams: Python's `socketserver.UDPServer`. Each datagram
 * calls `handler(data, { addr, socket })`; whatever it returns is sent
 * back. A handler error, or a datagram over `maxDatagramSize`, is reported
 * to `onError` and the server goes on with the next datagram.
 *
 * ## Platform
 * Needs `--allow-net` and `--unstable-net` (or `"unstable": ["net"]` in
 * deno.json).
 *
 * @example
 * ```ts
 * import { DatagramSocket, serveUdp } from "@weft/weft/net";
 *
 * const server = serveUdp({
 *   port: 0,
 *   handler: (data) => new TextDecoder().decode(data).toUpperCase(),
 * });
 * using client = DatagramSocket.bind();
 * const reply = await client.request(server.addr, "hello", { timeout: 1000 });
 * console.log(new TextDecoder().decode(reply)); // HELLO
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

class LocalUdpServer implements UdpServer {
  readonly socket: DatagramSocket;
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  #options: ServeUdpOptions;
  #closed = false;
  #tasks = new Set<Promise<void>>();
  #loop: Promise<void>;
  #shutdownPromise: Promise<void> | undefined;
  #resolveFinished!: () => void;
  #signalCleanup: () => void = () => {};

  constructor(options: ServeUdpOptions) {
    this.#options = options;
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
