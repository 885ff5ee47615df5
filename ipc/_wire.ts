/**
 * Frame transports under `Connection` (private).
 *
 * A transport moves whole frames (byte strings). This file has the
 * interface, `EOFError` and the one socket transport; the others live in
 * their own files:
 *
 * - {@linkcode StreamTransport}: a byte stream (TCP or Unix socket) with
 *   Python's `multiprocessing.connection` framing: a 4-byte big-endian
 *   signed length, then the bytes; for a frame of 2 GiB or more the length
 *   is -1 followed by an 8-byte big-endian unsigned length.
 * - `PortTransport` (`_port_transport.ts`): a `MessagePort`. Each message
 *   is one frame (`Uint8Array`); `null` announces EOF.
 * - `RingTransport` (`_ring.ts`): shared-memory rings between workers.
 * - `PipeEnd` (`_pipe_transport.ts`): a `Pipe` end, rewired when it moves.
 *
 * @module
 */

/**
 * Thrown by `recv()`/`recvBytes()` when the peer has closed its end (or its
 * process died) and every message it sent was read; like Python's
 * `EOFError` from `Connection.recv()`.
 *
 * @example Reading from a pipe whose other end closed
 * ```ts
 * import assert from "node:assert/strict";
 * import { EOFError, Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * await a.send("last");
 * a.close();
 * assert.equal(await b.recv(), "last"); // what was sent is still read
 * await assert.rejects(b.recvBytes(), EOFError);
 * b.close();
 * ```
 */
export class EOFError extends Error {
  /** Creates the error. */
  constructor(
    message = "Cannot receive: the peer closed the connection",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EOFError";
  }
}

/** Moves whole frames. `readFrame` resolves `null` at a clean EOF. */
export interface Transport {
  readFrame(maxSize: number): Promise<Uint8Array | null>;
  writeFrame(frame: Uint8Array): Promise<void>;
  /** True once a frame (or EOF) can be read without waiting. */
  poll(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Largest length that fits the 4-byte header. */
export const SMALL_FRAME_LIMIT = 0x7fffffff;

/** The header for a frame of `size` bytes (4 bytes, or 12 with the escape). */
export function encodeHeader(size: number): Uint8Array {
  const header = new Uint8Array(size <= SMALL_FRAME_LIMIT ? 4 : 12);
  writeHeader(header, 0, size);
  return header;
}

/** Writes the header of a `size`-byte frame at `at`; returns its length. */
function writeHeader(into: Uint8Array, at: number, size: number): number {
  const view = new DataView(into.buffer, into.byteOffset);
  if (size <= SMALL_FRAME_LIMIT) {
    view.setInt32(at, size);
    return 4;
  }
  view.setInt32(at, -1);
  view.setBigUint64(at + 4, BigInt(size));
  return 12;
}

/** The error for a message longer than the reader's cap. */
export function oversize(size: number | bigint, maxSize: number): RangeError {
  return new RangeError(
    `Cannot receive message: its length ${size} exceeds the maximum of ${maxSize} bytes`,
  );
}

/**
 * The one rule for "the peer is gone" on an ipc socket: these errors from a
 * read or write mean EOF (reads) or `EOFError` (writes), never a crash.
 */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** A frame over the cap that was read and dropped (skip mode). */
export interface SkippedFrame {
  /** Its announced length. */
  size: number;
  /** Its first bytes (up to the `keep` asked for). */
  head: Uint8Array;
}

/** Options of {@linkcode StreamTransport}. */
export interface StreamOptions {
  /**
   * Read the 4-byte length as unsigned, without the `-1` escape (the
   * manager's framing). Default false: Python's signed length with escape.
   */
  unsignedLength?: boolean;
}

const INITIAL_BUFFER = 16 * 1024;
/** Frames at least this long are read straight into their own array. */
const DIRECT_READ = 256 * 1024;
/** Writes at least this long are not copied into a batch. */
const DIRECT_WRITE = 64 * 1024;

interface Pending {
  bytes: Uint8Array;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/**
 * Length-prefixed frames over a Deno socket (TCP or Unix): the one framed
 * transport of ipc. Python's `multiprocessing.connection` framing by
 * default (a 4-byte big-endian signed length, then the bytes; for a frame
 * of 2 GiB or more the length is -1 followed by an 8-byte big-endian
 * unsigned length), or a plain u32 length (the manager's framing, whose
 * payload starts with a call id).
 *
 * Reads go through one growable buffer; a frame is copied out once (or read
 * straight into its own array when large). Writes are one `write` of header
 * and payload; frames queued while a write is in flight leave together.
 */
export class StreamTransport implements Transport {
  #conn: Deno.Conn;
  #unsigned: boolean;
  #buf = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;
  #eof = false;
  #closed = false;
  #filling: Promise<void> | undefined;
  #direct: Promise<Uint8Array> | undefined;
  #queue: Pending[] = [];
  #writing = false;
  #wbuf = new Uint8Array(1024);
  #writeError: unknown;

  constructor(conn: Deno.Conn, options: StreamOptions = {}) {
    this.#conn = conn;
    this.#unsigned = options.unsignedLength ?? false;
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // not a TCP socket
    }
  }

  /** True once closed here. */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- reading

  /** One read into the buffer, room for `want` more bytes (shared by callers). */
  #fill(want: number): Promise<void> {
    this.#filling ??= this.#fillOnce(want);
    return this.#filling;
  }

  async #fillOnce(want: number): Promise<void> {
    try {
      if (this.#start === this.#end) this.#start = this.#end = 0;
      if (this.#buf.length - this.#end < want) {
        const live = this.#end - this.#start;
        if (live + want <= this.#buf.length) {
          this.#buf.copyWithin(0, this.#start, this.#end);
        } else {
          const grown = new Uint8Array(
            Math.max(live + want, this.#buf.length * 2),
          );
          grown.set(this.#buf.subarray(this.#start, this.#end));
          this.#buf = grown;
        }
        this.#start = 0;
        this.#end = live;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buf.subarray(this.#end));
      } catch (error) {
        if (this.#closed || isPeerGone(error)) n = null;
        else throw error;
      }
      if (n === null) this.#eof = true;
      else this.#end += n;
    } finally {
      this.#filling = undefined;
    }
  }

  /**
   * Parses the header at the buffer's head: `[headerLength, size]`, or
   * undefined if more bytes are needed. Throws on an invalid length.
   */
  #header(): [number, number] | undefined {
    const available = this.#end - this.#start;
    if (available < 4) return undefined;
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset);
    if (this.#unsigned) return [4, view.getUint32(this.#start)];
    const size = view.getInt32(this.#start);
    if (size >= 0) return [4, size];
    if (size !== -1) {
      throw new RangeError(
        `Cannot receive message: invalid length ${size} in its header`,
      );
    }
    if (available < 12) return undefined;
    const big = view.getBigUint64(this.#start + 4);
    return [12, big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big)];
  }

  /** The whole frame at the head of the buffer, if it is all there. */
  #take(maxSize: number): Uint8Array | undefined {
    const header = this.#header();
    if (header === undefined) return undefined;
    const [hlen, size] = header;
    if (size > maxSize) throw oversize(size, maxSize);
    const from = this.#start + hlen;
    if (this.#end - from < size) return undefined;
    const out = this.#buf.slice(from, from + size);
    this.#start = from + size;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }

  /** A whole frame already buffered, or undefined (never reads). */
  tryReadFrame(maxSize: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    return this.#take(maxSize);
  }

  #truncated(): EOFError {
    return new EOFError(
      "Cannot receive: the peer closed the connection in the middle of a message",
    );
  }

  readFrame(maxSize: number): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.resolve(null);
    try {
      const frame = this.#take(maxSize);
      if (frame !== undefined) return Promise.resolve(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(maxSize, 0) as Promise<Uint8Array | null>;
  }

  /**
   * Like `readFrame`, but a frame over `maxSize` is read and dropped and
   * reported as a {@linkcode SkippedFrame} with its first `keep` bytes, so
   * the stream stays usable.
   */
  readFrameOrSkip(
    maxSize: number,
    keep: number,
  ): Promise<Uint8Array | SkippedFrame | null> {
    if (!this.#closed) {
      try {
        const frame = this.#take(maxSize);
        if (frame !== undefined) return Promise.resolve(frame);
      } catch {
        // oversize (skipped below) or malformed (reported below)
      }
    }
    return this.#readSlow(maxSize, keep);
  }

  async #readSlow(
    maxSize: number,
    keep: number,
  ): Promise<Uint8Array | SkippedFrame | null> {
    while (true) {
      if (this.#closed) return null;
      const header = this.#header();
      if (header !== undefined) {
        const [hlen, size] = header;
        if (size > maxSize) {
          if (keep === 0) throw oversize(size, maxSize);
          return await this.#skip(hlen, size, keep);
        }
        const available = this.#end - this.#start - hlen;
        if (available >= size) return this.#take(maxSize)!;
        if (this.#filling) {
          await this.#filling; // a poll's read is in flight
          continue;
        }
        if (size >= DIRECT_READ) {
          const direct = this.#readDirect(hlen, size);
          this.#direct = direct;
          try {
            return await direct;
          } finally {
            this.#direct = undefined;
          }
        }
        if (this.#eof) throw this.#truncated();
        await this.#fill(hlen + size - (this.#end - this.#start));
        continue;
      }
      if (this.#eof) {
        if (this.#end === this.#start) return null;
        throw this.#truncated();
      }
      await this.#fill(12);
    }
  }

  /** Reads a large frame into its own array (no second copy). */
  async #readDirect(hlen: number, size: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    const from = this.#start + hlen;
    let filled = this.#end - from;
    out.set(this.#buf.subarray(from, this.#end));
    this.#start = this.#end = 0;
    while (filled < size) {
      let n: number | null;
      try {
        n = await this.#conn.read(out.subarray(filled));
      } catch (error) {
        if (this.#closed || isPeerGone(error)) n = null;
        else throw error;
      }
      if (n === null) {
        this.#eof = true;
        throw this.#truncated();
      }
      filled += n;
    }
    return out;
  }

  async #skip(hlen: number, size: number, keep: number): Promise<SkippedFrame> {
    this.#start += hlen;
    const head = new Uint8Array(Math.min(keep, size));
    let got = 0;
    let left = size;
    while (left > 0) {
      const n = Math.min(left, this.#end - this.#start);
      if (got < head.length) {
        const k = Math.min(head.length - got, n);
        head.set(this.#buf.subarray(this.#start, this.#start + k), got);
        got += k;
      }
      this.#start += n;
      left -= n;
      if (this.#start === this.#end) this.#start = this.#end = 0;
      if (left === 0) break;
      if (this.#eof || this.#closed) throw this.#truncated();
      await this.#fill(1);
    }
    return { size, head };
  }

  async poll(timeoutMs: number): Promise<boolean> {
    if (this.#end > this.#start || this.#eof || this.#closed) return true;
    // during a large read the frame is arriving: ready once it has
    const filled = (this.#direct ?? this.#fill(1)).then(() => true, () => true);
    if (!Number.isFinite(timeoutMs)) return await filled;
    // timeout 0 still lets one event-loop turn deliver bytes already sent
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([filled, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- writing

  writeFrame(frame: Uint8Array): Promise<void> {
    if (this.#closed || this.#writeError !== undefined) {
      return Promise.reject(this.#sendError());
    }
    const size = frame.length;
    if (!this.#writing && size < DIRECT_WRITE) {
      // nothing in flight: header and payload go out from the reusable
      // write buffer, no allocation and no queue entry (the common case)
      const out = this.#scratch(size + 4);
      writeHeader(out, 0, size);
      out.set(frame, 4);
      return this.#writeNow(out);
    }
    return new Promise<void>((resolve, reject) => {
      if (size < DIRECT_WRITE) {
        const whole = new Uint8Array(size + 4);
        writeHeader(whole, 0, size);
        whole.set(frame, 4);
        this.#queue.push({ bytes: whole, resolve, reject });
      } else {
        this.#queue.push({ bytes: encodeHeader(size) });
        this.#queue.push({ bytes: frame, resolve, reject });
      }
      if (!this.#writing) this.#pump();
    });
  }

  /**
   * The first `n` bytes of the reusable write buffer. Only used while no
   * write is in flight (the buffer is free until `#writing` clears).
   */
  #scratch(n: number): Uint8Array {
    if (this.#wbuf.length < n) {
      this.#wbuf = new Uint8Array(Math.max(n, this.#wbuf.length * 2));
    }
    return this.#wbuf.subarray(0, n);
  }

  /**
   * Queues the frame `[u32 length][u32 tag][body]` (the manager's framing:
   * length counts the tag); no promise to await. A failed write closes the
   * transport (the reader then sees EOF).
   */
  writeTagged(tag: number, body: Uint8Array): void {
    if (this.#closed || this.#writeError !== undefined) throw this.#sendError();
    const n = body.length + 8;
    const out = !this.#writing && n < DIRECT_WRITE
      ? this.#scratch(n)
      : new Uint8Array(n);
    const view = new DataView(out.buffer, out.byteOffset, 8);
    view.setUint32(0, body.length + 4);
    view.setUint32(4, tag);
    out.set(body, 8);
    if (!this.#writing) {
      this.#writeNow(out).catch(() => {});
      return;
    }
    this.#queue.push({ bytes: out });
  }

  /** One write with nothing in flight; the pump takes over if needed. */
  #writeNow(bytes: Uint8Array): Promise<void> {
    this.#writing = true;
    return this.#conn.write(bytes).then((n) => {
      if (n === bytes.length && this.#queue.length === 0) {
        this.#writing = false;
        return;
      }
      // a short write, or frames queued meanwhile: the pump finishes
      return new Promise<void>((resolve, reject) => {
        this.#queue.unshift({ bytes: bytes.subarray(n), resolve, reject });
        this.#pump();
      });
    }, (error) => {
      this.#writing = false;
      throw this.#failWrites(error);
    });
  }

  #sendError(): Error {
    return this.#writeError !== undefined && !this.#closed
      ? new EOFError("Cannot send: the peer closed the connection", {
        cause: this.#writeError,
      })
      : new EOFError("Cannot send: the connection is closed");
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    let batch: Pending[] = [];
    try {
      while (this.#queue.length > 0) {
        batch = this.#queue;
        this.#queue = [];
        let i = 0;
        while (i < batch.length) {
          // gather a run of small writes into one
          let j = i;
          let total = 0;
          while (
            j < batch.length && batch[j].bytes.length < DIRECT_WRITE &&
            total < DIRECT_READ
          ) total += batch[j++].bytes.length;
          if (j - i > 1) {
            const merged = new Uint8Array(total);
            let at = 0;
            for (let k = i; k < j; k++) {
              merged.set(batch[k].bytes, at);
              at += batch[k].bytes.length;
            }
            await this.#writeAll(merged);
          } else {
            if (j === i) j++;
            await this.#writeAll(batch[i].bytes);
          }
          for (let k = i; k < j; k++) batch[k].resolve?.();
          i = j;
        }
        batch = [];
      }
    } catch (error) {
      const failed = this.#failWrites(error);
      for (const p of batch) p.reject?.(failed);
    } finally {
      this.#writing = false;
    }
  }

  /** After a failed write: every queued write fails the same way. */
  #failWrites(error: unknown): Error {
    this.#writeError = error;
    const failed = this.#sendError();
    for (const p of this.#queue) p.reject?.(failed);
    this.#queue = [];
    if (!isPeerGone(error)) this.close();
    return failed;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  ref(): void {
    try {
      this.#conn.ref();
    } catch {
      // closed
    }
  }

  unref(): void {
    try {
      this.#conn.unref();
    } catch {
      // closed
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}
