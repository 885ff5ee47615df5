/**
 * {@linkcode FramedConnection}: whole messages over a byte stream, and
 * {@linkcode readExactly}.
 *
 * @module
 */

import type { DecodeStep, FrameCodec } from "./codec.ts";

/** Anything with Deno's `read` contract (`Deno.Conn`, `Deno.FsFile`, a served connection). */
export interface ByteReader {
  /** Reads up to `p.length` bytes into `p`; resolves with the count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/** A two-way byte stream: `Deno.Conn`, `Deno.TcpConn` or a {@linkcode ServedConnection}. */
export interface ByteStream extends ByteReader {
  /** Writes some of `p`; resolves with how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the stream. */
  close(): void;
}

/**
 * The stream ended before the bytes a caller asked for arrived: Python's
 * `asyncio.IncompleteReadError`. `partial` holds what did arrive.
 *
 * @example
 * ```ts
 * import { IncompleteReadError, readExactly } from "@weft/weft/net";
 *
 * const file = ReadableStream.from([new Uint8Array([1, 2])]).getReader();
 * const reader = {
 *   async read(p: Uint8Array) {
 *     const { value } = await file.read();
 *     if (!value) return null;
 *     p.set(value);
 *     return value.length;
 *   },
 * };
 * try {
 *   await readExactly(reader, 4);
 * } catch (error) {
 *   if (error instanceof IncompleteReadError) console.log(error.partial.length); // 2
 * }
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes that arrived before the end of the stream. */
  readonly partial: Uint8Array;
  /** How many bytes were expected. */
  readonly expected: number;

  /** Builds the error; `action` opens the message ("Cannot read 4 bytes"). */
  constructor(partial: Uint8Array, expected: number, action?: string) {
    super(
      `${
        action ?? `Cannot read ${expected} bytes`
      }: the stream ended after ${partial.length} of ${expected} bytes`,
    );
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * Reads exactly `n` bytes from `reader` (looping over short reads), like
 * Python's `asyncio.StreamReader.readexactly`. Throws
 * {@linkcode IncompleteReadError} if the stream ends first, a `RangeError`
 * if `n` is not a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { readExactly } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * await client.write(new Uint8Array([1, 2]));
 * await client.write(new Uint8Array([3]));
 * console.log(await readExactly(server, 3)); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export async function readExactly(
  reader: ByteReader,
  n: number,
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot read exactly ${n} bytes: the count must be a non-negative integer`,
    );
  }
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await reader.read(out.subarray(filled));
    if (got === null) {
      throw new IncompleteReadError(out.slice(0, filled), n);
    }
    filled += got;
  }
  return out;
}

/** Options of {@linkcode FramedConnection}. */
export interface FramedConnectionOptions {
  /** Aborting closes the connection; pending and later calls reject with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Return frames up to 1 MiB as views of the read buffer that are only
   * valid until the next `receive()` (copy what you keep): no copy and no
   * allocation per frame, like Go's `bufio.Scanner`. Default `false`: every
   * frame is yours to keep.
   */
  reuseBuffer?: boolean;
}

/** Size of the reused read buffer; a length-prefixed frame larger than this gets its own buffer. */
const CHUNK = 64 * 1024;
/** With `reuseBuffer`, frames up to this size are read into the (grown) reused buffer too. */
const REUSE_MAX = 1024 * 1024;
/** Compact the read buffer when less than this much room is left after its data. */
const MIN_READ = 16 * 1024;
/** Frames up to this size are assembled in a reused buffer and sent with one write. */
const COALESCE = 1024 * 1024;

const encoder = new TextEncoder();
const ignore = () => {};

/**
 * Whole messages over a TCP connection: Python's "send the length, then the
 * data" recipe, done once and right. `send()` writes one frame;
 * `receive()` resolves with the next whole frame whatever way TCP cut or
 * glued the bytes ("sticky packets"), or `null` when the peer closed cleanly
 * between frames.
 *
 * ## Copies
 * Bytes are read into one reused 64 KiB buffer and decoded there, in place,
 * however TCP cut or glued them (never an O(n²) concatenation; a delimiter
 * is searched for once). A frame that arrived there is copied out once, so
 * it stays valid forever. A larger length-prefixed frame gets a buffer of
 * its exact size and the socket reads straight into it: no copy at all. A
 * long delimited frame grows the reused buffer by doubling. With
 * `reuseBuffer: true`, frames up to 1 MiB are views of the (grown) reused
 * buffer instead: no copy and no allocation. On the way out, a frame up to
 * 1 MiB is assembled in a reused send buffer and sent with one write, a
 * larger one as header, payload and trailer writes (no copy).
 *
 * ## Errors
 * A peer announcing a frame over `maxFrameSize`, or a malformed header, is a
 * `RangeError`; the stream ending inside a frame is an
 * {@linkcode IncompleteReadError}. Either closes this connection, and later
 * `receive()` calls throw the same error. Concurrent `send()`s are written
 * one after the other, never interleaved; concurrent `receive()`s are
 * answered in call order.
 *
 * @example
 * ```ts
 * import { FramedConnection, LengthPrefixCodec } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: 1 << 20 });
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = new FramedConnection(await Deno.connect({ port: listener.addr.port }), codec);
 * using server = new FramedConnection(await listener.accept(), codec);
 * await client.send("hello");
 * await client.send(new Uint8Array(3));
 * client.close();
 * for await (const frame of server) console.log(frame.length); // 5, then 3
 * ```
 */
export class FramedConnection implements AsyncIterable<Uint8Array>, Disposable {
  /** The underlying byte stream. */
  readonly conn: ByteStream;
  /** The wire format. */
  readonly codec: FrameCodec;
  #buf = new Uint8Array(0);
  #sendBuf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #scanFrom = 0;
  #need = 1;
  #reuse: boolean;
  #closed = false;
  #error: unknown = undefined;
  #sending: Promise<unknown> = Promise.resolve();
  #sendsPending = 0;
  #receiving: Promise<unknown> = Promise.resolve();
  #receivesPending = 0;
  #signal?: AbortSignal;
  #onAbort?: () => void;

  /** Wraps `conn`; the connection now belongs to this object and `close()` closes it. */
  constructor(
    conn: ByteStream,
    codec: FrameCodec,
    options: FramedConnectionOptions = {},
  ) {
    if (typeof conn?.read !== "function" || typeof conn.write !== "function") {
      throw new TypeError(
        "Cannot create FramedConnection: conn must have read() and write()",
      );
    }
    if (typeof codec?.decode !== "function") {
      throw new TypeError(
        "Cannot create FramedConnection: codec must be a FrameCodec",
      );
    }
    this.conn = conn;
    this.codec = codec;
    this.#reuse = options.reuseBuffer ?? false;
    const signal = options.signal;
    if (signal) {
      this.#signal = signal;
      if (signal.aborted) {
        this.#fail(signal.reason);
      } else {
        this.#onAbort = () => this.#fail(signal.reason);
        signal.addEventListener("abort", this.#onAbort, { once: true });
      }
    }
  }

  /** Whether `close()` was called or the connection failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one frame (strings are UTF-8 encoded). Resolves once the whole
   * frame was handed to the socket; do not modify `data` before that (like
   * `Deno.Conn.write`). Rejects with a `RangeError` over `maxFrameSize`, a
   * `TypeError` after `close()`.
   */
  send(data: Uint8Array | string): Promise<void> {
    const payload = typeof data === "string" ? encoder.encode(data) : data;
    let header: Uint8Array;
    try {
      this.#check("send");
      header = this.codec.header(payload);
    } catch (error) {
      return Promise.reject(error);
    }
    // Sends run one after the other; the common case (none in flight)
    // starts at once instead of waiting a turn behind a resolved promise.
    const run = this.#sendsPending++ === 0
      ? this.#transmit(header, payload)
      : this.#sending.then(() => this.#transmit(header, payload));
    this.#sending = run.catch(ignore);
    return run;
  }

  async #transmit(header: Uint8Array, payload: Uint8Array): Promise<void> {
    try {
      this.#check("send");
      const trailer = this.codec.trailer;
      const total = header.length + payload.length + trailer.length;
      if (total <= COALESCE) {
        if (this.#sendBuf.length < total) {
          this.#sendBuf = new Uint8Array(Math.max(total, 4096));
        }
        const buf = this.#sendBuf;
        buf.set(header, 0);
        buf.set(payload, header.length);
        buf.set(trailer, header.length + payload.length);
        await this.#writeAll(buf.subarray(0, total));
      } else {
        await this.#writeAll(header);
        await this.#writeAll(payload);
        await this.#writeAll(trailer);
      }
    } catch (error) {
      throw this.#translate(error, "send");
    } finally {
      this.#sendsPending--;
    }
  }

  /**
   * Resolves with the next frame, or `null` when the peer closed the
   * connection between frames. The frame is yours to keep (with
   * `reuseBuffer`, frames up to 1 MiB are views valid until the next call).
   */
  receive(): Promise<Uint8Array | null> {
    const run = this.#receivesPending++ === 0
      ? this.#receiveNext()
      : this.#receiving.then(() => this.#receiveNext());
    this.#receiving = run.catch(ignore);
    return run;
  }

  /** Yields frames until the peer closes; the loop ending (or breaking out) closes the connection. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    // Hand-written rather than an async generator: one promise per frame.
    return {
      next: () =>
        this.receive().then(
          (frame): IteratorResult<Uint8Array> => {
            if (frame !== null) return { value: frame, done: false };
            this.close();
            return { value: undefined, done: true };
          },
          (error) => {
            this.close();
            throw error;
          },
        ),
      return: (): Promise<IteratorResult<Uint8Array>> => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Closes the connection (idempotent). Pending calls reject with a `TypeError`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    try {
      this.conn.close();
    } catch {
      // already closed by its owner
    }
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #receiveNext(): Promise<Uint8Array | null> {
    try {
      return await this.#receiveOne();
    } finally {
      this.#receivesPending--;
    }
  }

  async #receiveOne(): Promise<Uint8Array | null> {
    this.#check("receive");
    while (true) {
      const pending = this.#end - this.#start;
      if (pending >= this.#need) {
        const step = this.#decode(
          this.#buf.subarray(this.#start, this.#end),
          this.#scanFrom,
        );
        if ("consumed" in step) {
          const frame = this.#buf.subarray(
            this.#start + step.start,
            this.#start + step.end,
          );
          this.#start += step.consumed;
          this.#scanFrom = 0;
          this.#need = 1;
          return this.#reuse ? frame : frame.slice();
        }
        this.#need = Math.max(step.need, 1);
        this.#scanFrom = step.scanFrom;
        // A length header announced a big frame: read it into its own buffer.
        // (With reuseBuffer, up to REUSE_MAX, the shared buffer grows instead.)
        if (
          this.#need > CHUNK && this.#need - pending > 1 &&
          !(this.#reuse && this.#need <= REUSE_MAX)
        ) {
          return await this.#receiveLarge(this.#need);
        }
      }
      this.#makeRoom(this.#need);
      const got = await this.#read(this.#buf.subarray(this.#end));
      if (got === null) {
        if (this.#end === this.#start) return null;
        throw this.#truncated(
          this.#buf.slice(this.#start, this.#end),
          Math.max(this.#need, pending + 1),
        );
      }
      this.#end += got;
    }
  }

  /** Reads a frame of `need` bytes (header included) into a buffer of its own. */
  async #receiveLarge(need: number): Promise<Uint8Array> {
    const frame = new Uint8Array(need);
    frame.set(this.#buf.subarray(this.#start, this.#end));
    let filled = this.#end - this.#start;
    this.#start = this.#end = 0;
    this.#scanFrom = 0;
    this.#need = 1;
    while (filled < need) {
      const got = await this.#read(frame.subarray(filled));
      if (got === null) throw this.#truncated(frame.slice(0, filled), need);
      filled += got;
    }
    const step = this.#decode(frame, 0);
    if (!("consumed" in step) || step.consumed !== need) {
      const error = new RangeError(
        "Cannot receive frame: the codec did not decode the frame it announced",
      );
      this.#fail(error);
      throw error;
    }
    return frame.subarray(step.start, step.end);
  }

  #decode(buffer: Uint8Array, scanFrom: number): DecodeStep {
    try {
      return this.codec.decode(buffer, scanFrom);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  async #read(into: Uint8Array): Promise<number | null> {
    try {
      return await this.conn.read(into);
    } catch (error) {
      throw this.#translate(error, "receive");
    }
  }

  #truncated(partial: Uint8Array, expected: number): IncompleteReadError {
    const error = new IncompleteReadError(
      partial,
      expected,
      "Cannot receive frame",
    );
    this.#fail(error);
    return error;
  }

  /**
   * Makes room in the reused buffer for `need` bytes from `#start` plus a
   * useful read. Moving data is safe: frames handed out are copies, or (with
   * `reuseBuffer`) documented to expire at the next `receive()`.
   */
  #makeRoom(need: number): void {
    const pending = this.#end - this.#start;
    if (pending === 0) {
      this.#start = this.#end = 0;
      const limit = this.#reuse ? REUSE_MAX : CHUNK;
      if (
        this.#buf.length === 0 || (this.#buf.length > limit && need <= CHUNK)
      ) {
        this.#buf = new Uint8Array(CHUNK); // first read, or shrink after a long frame
      }
    }
    const buf = this.#buf;
    const room = buf.length - this.#end;
    if (
      this.#start > 0 && (room < MIN_READ || this.#start + need > buf.length)
    ) {
      buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = pending;
    }
    if (need > buf.length || this.#end === buf.length) {
      const next = new Uint8Array(Math.max(need, buf.length * 2, CHUNK));
      next.set(buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = pending;
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  #check(action: string): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#closed) {
      throw new TypeError(`Cannot ${action}: the connection is closed`);
    }
  }

  /** Errors from a socket we closed ourselves become the closing reason. */
  #translate(error: unknown, action: string): unknown {
    if (this.#error !== undefined) return this.#error;
    if (this.#closed) {
      return new TypeError(`Cannot ${action}: the connection is closed`);
    }
    return error;
  }

  #fail(error: unknown): void {
    if (this.#error === undefined) this.#error = error;
    this.close();
  }

  #detach(): void {
    if (this.#onAbort) {
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}
