/**
 * {@linkcode ServedConnection}: the connection `serveTcp` hands a handler.
 *
 * @module
 */

import type { ByteStream } from "./framed_connection.ts";
import { recv, sendall } from "./recv.ts";

/**
 * One accepted TCP connection, as a handler of {@linkcode serveTcp} sees it:
 * Python's `self.request` with `self.client_address` beside it. It reads and
 * writes like a `Deno.Conn` (so {@linkcode FramedConnection} and
 * {@linkcode readExactly} accept it) and adds what a server needs:
 *
 * - `idleTimeout`: a `read()` or `write()` that waits longer than this many
 *   milliseconds (with no other read or write making progress meanwhile)
 *   closes the connection and rejects with `Deno.errors.TimedOut` (Python's
 *   `socket.settimeout` for every call), so a silent or slow client cannot
 *   hold a slot forever. Time the handler spends between calls is not
 *   counted. The drop may come up to one timer tick late, never early.
 * - `requestTimeout`: once the first byte of a request arrived, the whole
 *   request must arrive within this many milliseconds, however the client
 *   paces it. A slowloris client dripping one byte at a time satisfies
 *   `idleTimeout` but not this: it is dropped and the read rejects with
 *   `Deno.errors.TimedOut`. A request ends at {@linkcode ServedConnection.progress}:
 *   {@linkcode FramedConnection} calls it for every frame it receives; a
 *   handler that reads raw bytes calls it after each whole request.
 * - `signal`: aborts when the server starts shutting down; a long-running
 *   handler should finish its current exchange and return.
 *
 * The server closes the connection when the handler returns or throws;
 * `close()` is idempotent.
 *
 * @example A raw echo handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveTcp, type ServedConnection } from "@weft/weft/net";
 *
 * await using server = await serveTcp({
 *   port: 0,
 *   handler: async (conn: ServedConnection) => {
 *     const buf = new Uint8Array(16);
 *     const n = await conn.read(buf);
 *     if (n) await conn.write(buf.subarray(0, n));
 *   },
 * });
 * using client = await Deno.connect(server.addr);
 * await client.write(new TextEncoder().encode("ping"));
 * const reply = new Uint8Array(16);
 * const n = await client.read(reply);
 * assert.equal(new TextDecoder().decode(reply.subarray(0, n ?? 0)), "ping");
 * ```
 */
export class ServedConnection implements ByteStream, Disposable {
  /** The underlying Deno connection (reads on it bypass `idleTimeout`). */
  readonly raw: Deno.TcpConn;
  /** The client's address (Python's `client_address`). */
  readonly remoteAddr: Deno.NetAddr;
  /** The server's side of the connection. */
  readonly localAddr: Deno.NetAddr;
  /** Aborts when the server starts shutting down. */
  readonly signal: AbortSignal;
  /** Milliseconds one read or write may wait, or `undefined` for no limit. */
  readonly idleTimeout: number | undefined;
  /** Milliseconds a request may take from its first byte to its end (`progress()`), or `undefined`. */
  readonly requestTimeout: number | undefined;
  #closed = false;
  #timedOut = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = 0;
  #lastProgress = 0;
  #timeoutKind: "idle" | "request" = "idle";
  #requestStart = -1;
  #requestTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal Built by the server; not meant to be constructed by users. */
  constructor(
    raw: Deno.TcpConn,
    signal: AbortSignal,
    idleTimeout: number | undefined,
    requestTimeout?: number,
  ) {
    this.raw = raw;
    this.remoteAddr = raw.remoteAddr;
    this.localAddr = raw.localAddr;
    this.signal = signal;
    this.idleTimeout = idleTimeout;
    this.requestTimeout = requestTimeout;
  }

  /** Whether the connection was closed (by the handler, the server or an idle timeout). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Reads up to `p.length` bytes; `null` when the client closed its side. */
  read(p: Uint8Array): Promise<number | null> {
    const read = this.idleTimeout === undefined && !this.#closed
      ? this.raw.read(p).catch(this.#readFailed)
      : this.#io("read", () => this.raw.read(p));
    if (this.requestTimeout === undefined) return read;
    return read.then(this.#onRead);
  }

  /**
   * Marks the end of a request: the `requestTimeout` clock stops until the
   * next byte arrives. {@linkcode FramedConnection} calls it for every frame
   * it receives; call it yourself after each whole request when reading raw
   * bytes. Cheap, and a no-op without `requestTimeout`.
   */
  progress(): void {
    this.#requestStart = -1;
  }

  /** Starts the request clock when the first byte of a request arrives. */
  #onRead = (n: number | null): number | null => {
    if (n && this.#requestStart < 0 && !this.#closed) {
      this.#requestStart = performance.now();
      this.#requestTimer ??= setTimeout(
        this.#checkRequest,
        this.requestTimeout,
      );
    }
    return n;
  };

  /** Drops the connection if a request has been arriving for `requestTimeout` ms. */
  #checkRequest = (): void => {
    this.#requestTimer = undefined;
    if (this.#closed || this.#requestStart < 0) return; // next request re-arms
    const limit = this.requestTimeout!;
    const elapsed = performance.now() - this.#requestStart;
    if (elapsed >= limit - 1) {
      this.#timeoutKind = "request";
      this.#timedOut = true;
      this.close();
    } else {
      this.#requestTimer = setTimeout(this.#checkRequest, limit - elapsed);
    }
  };

  /** Writes some of `p`; resolves with the count written. */
  write(p: Uint8Array): Promise<number> {
    if (this.idleTimeout === undefined && !this.#closed) {
      return this.raw.write(p).catch(this.#writeFailed);
    }
    return this.#io("write", () => this.raw.write(p));
  }

  /**
   * Python's `self.request.recv(bufsize)`: what the client has sent, up to
   * `bufsize` bytes, or an empty array once it closed its side. See
   * {@linkcode recv} (the server's `idleTimeout` bounds the wait).
   */
  recv(bufsize: number): Promise<Uint8Array> {
    return recv(this, bufsize);
  }

  /** Python's `self.request.sendall(data)`: writes all of `data` (strings as UTF-8). */
  sendall(data: Uint8Array | string): Promise<void> {
    return sendall(this, data);
  }

  #readFailed = (error: unknown): never => this.#rethrow("read", error);
  #writeFailed = (error: unknown): never => this.#rethrow("write", error);

  #rethrow(action: string, error: unknown): never {
    if (this.#timedOut) throw this.#idleError(action, error);
    if (this.#closed) {
      throw new TypeError(`Cannot ${action}: the connection is closed`, {
        cause: error,
      });
    }
    throw error;
  }

  /** Half-closes: the client reads end-of-stream, this side can still read. */
  async closeWrite(): Promise<void> {
    if (this.#closed) return;
    await this.raw.closeWrite();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    try {
      this.raw.close();
    } catch {
      // already closed
    }
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #io<T>(action: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw this.#timedOut
        ? this.#idleError(action)
        : new TypeError(`Cannot ${action}: the connection is closed`);
    }
    const limit = this.idleTimeout;
    if (limit === undefined) return await op(); // closed: op() rejects
    this.#pending++;
    this.#lastProgress = performance.now();
    // One timer per connection, re-armed lazily (#checkIdle) rather than
    // created and cleared around every read and write.
    this.#timer ??= setTimeout(this.#checkIdle, limit);
    try {
      return await op();
    } catch (error) {
      if (this.#timedOut) throw this.#idleError(action, error);
      if (this.#closed) {
        throw new TypeError(`Cannot ${action}: the connection is closed`, {
          cause: error,
        });
      }
      throw error;
    } finally {
      this.#pending--;
      this.#lastProgress = performance.now();
    }
  }

  /** Drops the connection if an operation has waited `idleTimeout` ms without progress. */
  #checkIdle = (): void => {
    this.#timer = undefined;
    if (this.#closed || this.#pending === 0) return; // next operation re-arms
    const limit = this.idleTimeout!;
    const idle = performance.now() - this.#lastProgress;
    if (idle >= limit - 1) {
      this.#timedOut = true;
      this.close();
    } else {
      this.#timer = setTimeout(this.#checkIdle, limit - idle);
    }
  };

  #idleError(action: string, cause?: unknown): Error {
    if (this.#timeoutKind === "request") {
      return new Deno.errors.TimedOut(
        `Cannot ${action}: connection from ${this.remoteAddr.hostname}:${this.remoteAddr.port} took over ${this.requestTimeout} ms to send one request`,
        { cause },
      );
    }
    return new Deno.errors.TimedOut(
      `Cannot ${action}: connection from ${this.remoteAddr.hostname}:${this.remoteAddr.port} was idle for over ${this.idleTimeout} ms`,
      { cause },
    );
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#requestTimer !== undefined) {
      clearTimeout(this.#requestTimer);
      this.#requestTimer = undefined;
    }
  }
}
