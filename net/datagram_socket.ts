/**
 * {@linkcode DatagramSocket}: Python's UDP `socket` on `Deno.listenDatagram`.
 *
 * @module
 */

/**
 * Largest UDP payload over IPv4: 65 535 − 8 (UDP header) − 20 (IP header).
 *
 * @example The default limit of a socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, MAX_DATAGRAM_SIZE } from "@weft/weft/net";
 *
 * using socket = DatagramSocket.bind();
 * assert.equal(socket.maxDatagramSize, MAX_DATAGRAM_SIZE);
 * assert.equal(MAX_DATAGRAM_SIZE, 65_507);
 * ```
 */
export const MAX_DATAGRAM_SIZE = 65_507;

/** Receive buffer: larger than any IPv4 datagram, so a full buffer means "cut". */
const RECEIVE_BUFFER = 65_536;

const encoder = new TextEncoder();

/**
 * Where a datagram goes or came from.
 *
 * @example Sending to a plain address object
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DatagramAddr, DatagramSocket } from "@weft/weft/net";
 *
 * using server = DatagramSocket.bind();
 * using client = DatagramSocket.bind();
 * const to: DatagramAddr = { hostname: "127.0.0.1", port: server.addr.port };
 * await client.sendTo("hi", to);
 * const [data] = (await server.recvFrom({ timeout: 5000 }))!;
 * assert.equal(new TextDecoder().decode(data), "hi");
 * ```
 */
export interface DatagramAddr {
  /** IP address, e.g. `"127.0.0.1"`. */
  hostname: string;
  /** UDP port. */
  port: number;
}

/**
 * Options of {@linkcode DatagramSocket.bind}.
 *
 * @example A socket that refuses datagrams over 4 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, type DatagramSocketOptions } from "@weft/weft/net";
 *
 * const options: DatagramSocketOptions = { hostname: "127.0.0.1", port: 0, maxDatagramSize: 4 };
 * using small = DatagramSocket.bind(options);
 * using client = DatagramSocket.bind();
 * await client.sendTo("too long", small.addr);
 * await assert.rejects(small.recvFrom({ timeout: 5000 }), RangeError);
 * ```
 */
export interface DatagramSocketOptions {
  /**
   * Local address. Default `"127.0.0.1"`; every interface is an explicit `"0.0.0.0"`.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Local port; `0` (default) picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Largest datagram accepted by `recvFrom`, at most 65 507. A larger one is
   * reported with a `RangeError`, never silently cut.
   *
   * @default {65507}
   */
  maxDatagramSize?: number;
}

/**
 * Options of {@linkcode DatagramSocket.recvFrom}.
 *
 * @example Nothing arrives within the timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, type RecvOptions } from "@weft/weft/net";
 *
 * using socket = DatagramSocket.bind();
 * const options: RecvOptions = { timeout: 20 };
 * assert.equal(await socket.recvFrom(options), null);
 * ```
 */
export interface RecvOptions {
  /** Give up after this many ms: resolves `null`. Default: wait forever. */
  timeout?: number;
  /** Rejects with `signal.reason` on abort. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode DatagramSocket.request}.
 *
 * @example Giving up on a peer that never answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket, type RequestOptions } from "@weft/weft/net";
 *
 * using silent = DatagramSocket.bind();
 * using client = DatagramSocket.bind();
 * const options: RequestOptions = { timeout: 20, retries: 1 }; // two attempts
 * await assert.rejects(client.request(silent.addr, "anyone?", options), Deno.errors.TimedOut);
 * ```
 */
export interface RequestOptions {
  /**
   * Ms to wait for a reply to each attempt.
   *
   * @default {1000}
   */
  timeout?: number;
  /**
   * Extra attempts after the first times out.
   *
   * @default {2}
   */
  retries?: number;
  /** Rejects with `signal.reason` on abort. */
  signal?: AbortSignal;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function describe(addr: DatagramAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/**
 * A bound UDP socket: Python's `socket(AF_INET, SOCK_DGRAM)` with `sendto`,
 * `recvfrom`, and a `request()` that does the send/wait/retry loop UDP
 * clients always need.
 *
 * ## Size limits
 * `sendTo` refuses payloads over 65 507 bytes with a `RangeError` (the OS
 * would fail with "Message too long"). `recvFrom` always receives into a
 * 64 KiB buffer, so a datagram is never silently truncated: one over
 * `maxDatagramSize` rejects with a `RangeError` naming its size and sender,
 * and the next call receives the next datagram.
 *
 * ## Cancellation
 * A `recvFrom` that times out or is aborted leaves its receive pending; the
 * next `recvFrom` takes it over, so no datagram is lost between calls.
 *
 * ## Platform
 * Needs `--allow-net` and `--unstable-net` (or `"unstable": ["net"]` in
 * deno.json): `Deno.listenDatagram` is unstable.
 *
 * @example One datagram between two sockets
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket } from "@weft/weft/net";
 *
 * using a = DatagramSocket.bind();
 * using b = DatagramSocket.bind();
 * await a.sendTo("ping", b.addr);
 * const [data, from] = (await b.recvFrom({ timeout: 5000 }))!;
 * assert.equal(new TextDecoder().decode(data), "ping");
 * assert.equal(from.port, a.addr.port);
 * ```
 */
export class DatagramSocket implements Disposable {
  /** The underlying Deno socket. */
  readonly raw: Deno.DatagramConn;
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Largest datagram `recvFrom` accepts. */
  readonly maxDatagramSize: number;
  #closed = false;
  #buffer = new Uint8Array(RECEIVE_BUFFER);
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  #waiting = false;
  #timer: number | undefined;
  #timerAt = 0;
  #deadline = 0;
  #onDeadline: (() => void) | undefined;

  /** Wraps an existing `Deno.DatagramConn` (UDP); prefer {@linkcode DatagramSocket.bind}. */
  constructor(raw: Deno.DatagramConn, maxDatagramSize = MAX_DATAGRAM_SIZE) {
    if (
      !Number.isSafeInteger(maxDatagramSize) || maxDatagramSize < 0 ||
      maxDatagramSize > MAX_DATAGRAM_SIZE
    ) {
      throw new TypeError(
        `Cannot create DatagramSocket: maxDatagramSize must be an integer in [0, ${MAX_DATAGRAM_SIZE}], got ${maxDatagramSize}`,
      );
    }
    this.raw = raw;
    this.addr = raw.addr as Deno.NetAddr;
    this.maxDatagramSize = maxDatagramSize;
  }

  /** Binds a UDP socket (default 127.0.0.1, a free port). */
  static bind(options: DatagramSocketOptions = {}): DatagramSocket {
    if (typeof Deno.listenDatagram !== "function") {
      throw new TypeError(
        'Cannot bind UDP socket: Deno.listenDatagram needs --unstable-net (or "unstable": ["net"] in deno.json)',
      );
    }
    const raw = Deno.listenDatagram({
      transport: "udp",
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
    });
    try {
      return new DatagramSocket(raw, options.maxDatagramSize);
    } catch (error) {
      raw.close();
      throw error;
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one datagram (strings are UTF-8) to `addr`: Python's `sendto`.
   * Throws a `RangeError` over 65 507 bytes.
   */
  async sendTo(data: Uint8Array | string, addr: DatagramAddr): Promise<void> {
    const bytes = toBytes(data);
    if (bytes.length > MAX_DATAGRAM_SIZE) {
      throw new RangeError(
        `Cannot send datagram: ${bytes.length} bytes exceeds the UDP limit of ${MAX_DATAGRAM_SIZE}`,
      );
    }
    if (this.#closed) {
      throw new TypeError("Cannot send datagram: the socket is closed");
    }
    await this.raw.send(bytes, {
      transport: "udp",
      hostname: addr.hostname,
      port: addr.port,
    });
  }

  /**
   * Receives one datagram: `[data, sender]` (Python's `recvfrom`), or
   * `null` if `timeout` passed first. `data` is a fresh copy. Rejects with a
   * `RangeError` for a datagram over `maxDatagramSize`.
   */
  async recvFrom(
    options: RecvOptions = {},
  ): Promise<[Uint8Array, Deno.NetAddr] | null> {
    const { signal, timeout } = options;
    signal?.throwIfAborted();
    if (this.#closed) {
      throw new TypeError("Cannot receive datagram: the socket is closed");
    }
    if (this.#waiting) {
      throw new TypeError(
        "Cannot receive datagram: another recvFrom() on this socket is pending",
      );
    }
    this.#pending ??= this.raw.receive(this.#buffer);
    const pending = this.#pending;
    let result: [Uint8Array, Deno.Addr] | null;
    this.#waiting = true;
    try {
      if (signal === undefined && timeout === undefined) {
        result = await this.#settle(pending);
      } else {
        result = await this.#waitFor(pending, timeout, signal);
      }
    } finally {
      this.#waiting = false;
    }
    if (result === null) return null;
    this.#pending = undefined;
    const [view, from] = result;
    const sender = from as Deno.NetAddr;
    if (view.length > this.maxDatagramSize || view.length >= RECEIVE_BUFFER) {
      throw new RangeError(
        `Cannot receive datagram: ${
          view.length >= RECEIVE_BUFFER ? "at least " : ""
        }${view.length} bytes from ${
          describe(sender)
        } exceeds maxDatagramSize ${this.maxDatagramSize}`,
      );
    }
    return [view.slice(), sender];
  }

  /**
   * Sends `data` to `addr` and resolves with the first reply from that
   * address, resending up to `retries` times when `timeout` ms pass without
   * one (datagrams from other senders are dropped meanwhile). Throws
   * `Deno.errors.TimedOut` when every attempt went unanswered.
   *
   * @example Asking an echo server, with retries
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket, serveUdp } from "@weft/weft/net";
   *
   * await using server = serveUdp({ port: 0, handler: (data) => data });
   * using client = DatagramSocket.bind();
   * const reply = await client.request(server.addr, "hi", { timeout: 1000, retries: 3 });
   * assert.equal(new TextDecoder().decode(reply), "hi");
   * ```
   */
  async request(
    addr: DatagramAddr,
    data: Uint8Array | string,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    const timeout = options.timeout ?? 1000;
    const retries = options.retries ?? 2;
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw new TypeError(
        `Cannot send request: retries must be a non-negative integer, got ${retries}`,
      );
    }
    const bytes = toBytes(data);
    for (let attempt = 0; attempt <= retries; attempt++) {
      await this.sendTo(bytes, addr);
      const deadline = Date.now() + timeout;
      while (true) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const got = await this.recvFrom({
          timeout: left,
          signal: options.signal,
        });
        if (got === null) break;
        const [reply, from] = got;
        if (from.port === addr.port && sameHost(from.hostname, addr.hostname)) {
          return reply;
        }
      }
    }
    throw new Deno.errors.TimedOut(
      `Cannot complete request: no reply from ${describe(addr)} after ${
        retries + 1
      } attempts of ${timeout} ms`,
    );
  }

  /** Closes the socket (idempotent); a pending `recvFrom` rejects with a `TypeError`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.raw.close();
    } catch {
      // already closed
    }
  }

  /** Same as `close()`: `DatagramConn` has no `Symbol.dispose`, this does. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `pending`, or `null` after `timeout` ms, or `signal.reason` on abort; `pending` itself stays for the next call. */
  #waitFor(
    pending: Promise<[Uint8Array, Deno.Addr]>,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<[Uint8Array, Deno.Addr] | null> {
    return new Promise((resolve, reject) => {
      let done = false;
      let onAbort: (() => void) | undefined;
      const finish = () => {
        done = true;
        if (timeout !== undefined) {
          this.#onDeadline = undefined;
          // Keep the timer for the next wait, without holding the process.
          if (this.#timer !== undefined) Deno.unrefTimer(this.#timer);
        }
        if (onAbort) signal!.removeEventListener("abort", onAbort);
      };
      if (timeout !== undefined) {
        this.#armDeadline(Math.max(0, timeout), () => {
          if (!done) {
            finish();
            resolve(null);
          }
        });
      }
      if (signal) {
        onAbort = () => {
          if (!done) {
            finish();
            reject(signal.reason);
          }
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#settle(pending).then((value) => {
        if (!done) {
          finish();
          resolve(value);
        }
      }, (error) => {
        if (!done) {
          finish();
          reject(error);
        }
      });
    });
  }

  /**
   * Timed waits share one timer that is re-armed lazily: a wait that ends
   * early leaves it running unref'd, and the next wait reuses it, so a
   * request costs no timer create/clear (about a tenth of a UDP round trip).
   */
  #armDeadline(ms: number, onDeadline: () => void): void {
    const now = performance.now();
    this.#deadline = now + ms;
    this.#onDeadline = onDeadline;
    if (this.#timer !== undefined && this.#timerAt <= this.#deadline) {
      Deno.refTimer(this.#timer);
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = this.#deadline;
    this.#timer = setTimeout(this.#tick, ms) as unknown as number;
  }

  #tick = (): void => {
    this.#timer = undefined;
    const onDeadline = this.#onDeadline;
    if (onDeadline === undefined) return;
    const left = this.#deadline - performance.now();
    if (left <= 1) {
      this.#onDeadline = undefined;
      onDeadline();
    } else {
      this.#timerAt = this.#deadline;
      this.#timer = setTimeout(this.#tick, left) as unknown as number;
    }
  };

  async #settle(
    pending: Promise<[Uint8Array, Deno.Addr]>,
  ): Promise<[Uint8Array, Deno.Addr]> {
    try {
      return await pending;
    } catch (error) {
      if (this.#closed) {
        throw new TypeError("Cannot receive datagram: the socket is closed", {
          cause: error,
        });
      }
      if (this.#pending === pending) this.#pending = undefined;
      throw error;
    }
  }
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const local = (h: string) => h === "localhost" || h === "127.0.0.1";
  return local(a) && local(b);
}
