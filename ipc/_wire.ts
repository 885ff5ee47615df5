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
import { FrameWriter } from "../_internal/frame_writer.ts";

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
  /**
   * Optional: reads a frame and returns `use(frame)` where `frame` is valid
   * only during the call (no copy); see `StreamTransport.readWith`.
   */
  readWith?<T>(
    maxSize: number,
    use: (frame: Uint8Array) => T,
  ): Promise<T | null>;
  writeFrame(frame: Uint8Array): Promise<void>;
  /**
   * Optional: like `writeFrame`, but `frame` is copied before this returns
   * (the caller may reuse it at once).
   */
  writeCopy?(frame: Uint8Array): Promise<void>;
  /** True once a frame (or EOF) can be read without waiting. */
  poll(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** `t.readWith(maxSize, use)`, or a read then `use` if `t` has none. */
export function readWith<T>(
  t: Transport,
  maxSize: number,
  use: (frame: Uint8Array) => T,
): Promise<T | null> {
  if (t.readWith !== undefined) return t.readWith(maxSize, use);
  return t.readFrame(maxSize).then((frame) =>
    frame === null ? null : use(frame)
  );
}

/** `t.writeCopy(frame)`, or `t.writeFrame` of a copy if `t` has none. */
export function writeCopy(t: Transport, frame: Uint8Array): Promise<void> {
  return t.writeCopy !== undefined
    ? t.writeCopy(frame)
    : t.writeFrame(frame.slice());
}

/** Largest length that fits the 4-byte header. */
export const SMALL_FRAME_LIMIT = 0x7fffffff;

/** The header for a frame of `size` bytes (4 bytes, or 12 with the escape). */
export function encodeHeader(size: number): Uint8Array {
  if (size <= SMALL_FRAME_LIMIT) {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setInt32(0, size);
    return header;
  }
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setInt32(0, -1);
  view.setBigUint64(4, BigInt(size));
  return header;
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
/** Frames at least this long are written from the caller's array, not copied. */
const DIRECT_WRITE = 64 * 1024;
/** Frames at least this long are read straight into their own array. */
const DIRECT_READ = 256 * 1024;
/** Largest frame size for which an array is allocated ahead (`#fill`). */
const SPARE_LIMIT = 1024;
/**
 * Length-prefixed frames over a Deno socket (TCP or Unix): the one framed
 * transport of ipc. Python's `multiprocessing.connection` framing by
 * default (a 4-byte big-endian signed length, then the bytes; for a frame
 * of 2 GiB or more the length is -1 followed by an 8-byte big-endian
 * unsigned length), or a plain u32 length (the manager's framing, whose
 * payload starts with a call id).
 *
 * Reads go through one growable buffer: one `read` per burst of frames,
 * frames handed to a function while they are in the buffer (`readWith`),
 * handed out as views (`tryReadView`/`readViewOrSkip`, valid until the
 * next read) or copied once (`readFrame`, into an array allocated while
 * waiting for the peer when the size repeats); large frames are read
 * straight into their own array. Writes (`_internal/frame_writer.ts`): header and
 * payload in one `write` from a reused buffer; frames written while a
 * write is in flight leave together in the next one.
 */
export class StreamTransport implements Transport {
  #conn: Deno.Conn;
  #unsigned: boolean;
  #buf = new Uint8Array(INITIAL_BUFFER);
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;
  /** Header length of the frame parsed last by `#size`. */
  #hlen = 4;
  #eof = false;
  #closed = false;
  #filling: Promise<void> | undefined;
  #direct: Promise<Uint8Array> | undefined;
  /** An array for the next frame, allocated while waiting (see `#fill`). */
  #spare: Uint8Array | undefined;
  #lastSize = SPARE_LIMIT + 1;
  #writer: FrameWriter;

  constructor(conn: Deno.Conn, options: StreamOptions = {}) {
    this.#conn = conn;
    this.#unsigned = options.unsignedLength ?? false;
    this.#writer = new FrameWriter(conn, {
      fail: (error) => {
        if (!isPeerGone(error)) this.close();
        return this.#sendError();
      },
    });
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

  /**
   * One read into the buffer with room for `want` more bytes, shared by
   * every caller until it completes. Views handed out stay valid until
   * this runs (it may move or overwrite consumed bytes).
   */
  #fill(want: number): Promise<void> {
    if (this.#filling !== undefined) return this.#filling;
    // about to wait for the peer: allocate the next frame's array now, off
    // the path from its arrival to the caller (requests and replies of a
    // conversation tend to keep their sizes)
    if (this.#spare === undefined && this.#lastSize <= SPARE_LIMIT) {
      this.#spare = new Uint8Array(this.#lastSize);
    }
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
        this.#view = new DataView(grown.buffer);
      }
      this.#start = 0;
      this.#end = live;
    }
    let read: Promise<number | null>;
    try {
      read = this.#conn.read(this.#buf.subarray(this.#end));
    } catch (error) {
      read = Promise.reject(error);
    }
    this.#filling = read.then(this.#onRead, this.#onReadError);
    return this.#filling;
  }

  #onRead = (n: number | null): void => {
    this.#filling = undefined;
    if (n === null) this.#eof = true;
    else this.#end += n;
  };

  #onReadError = (error: unknown): void => {
    this.#filling = undefined;
    if (this.#closed || isPeerGone(error)) this.#eof = true;
    else throw error;
  };

  /**
   * The size of the frame whose header is at the buffer's head (sets
   * `#hlen`), or -1 if more bytes are needed. Throws on an invalid length.
   */
  #size(): number {
    const available = this.#end - this.#start;
    if (available < 4) return -1;
    if (this.#unsigned) {
      this.#hlen = 4;
      return this.#view.getUint32(this.#start);
    }
    const size = this.#view.getInt32(this.#start);
    if (size >= 0) {
      this.#hlen = 4;
      return size;
    }
    if (size !== -1) {
      throw new RangeError(
        `Cannot receive message: invalid length ${size} in its header`,
      );
    }
    if (available < 12) return -1;
    this.#hlen = 12;
    const big = this.#view.getBigUint64(this.#start + 4);
    return big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
  }

  /** The whole frame at the head of the buffer as a view, if it is all there. */
  #take(maxSize: number): Uint8Array | undefined {
    const size = this.#size();
    if (size < 0) return undefined;
    if (size > maxSize) throw oversize(size, maxSize);
    const from = this.#start + this.#hlen;
    if (this.#end - from < size) return undefined;
    this.#start = from + size;
    return this.#buf.subarray(from, from + size);
  }

  /** An owned copy of `frame`: the spare array if it has the right size. */
  #own(frame: Uint8Array): Uint8Array {
    const size = frame.length;
    this.#lastSize = size;
    const spare = this.#spare;
    if (spare === undefined || spare.length !== size) return frame.slice();
    this.#spare = undefined;
    spare.set(frame);
    return spare;
  }

  /** A whole frame already buffered (a copy), or undefined (never reads). */
  tryReadFrame(maxSize: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    const frame = this.#take(maxSize);
    return frame && this.#own(frame);
  }

  /**
   * Like `tryReadFrame`, but a view into the read buffer: valid until the
   * next read on this transport (decode or copy it before that).
   */
  tryReadView(maxSize: number): Uint8Array | undefined {
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
      if (frame !== undefined) return Promise.resolve(this.#own(frame));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(maxSize, 0, false) as Promise<Uint8Array | null>;
  }

  /**
   * Reads a frame and returns `use(frame)`, calling `use` with a view of
   * the read buffer at once (no copy, no hop between the read and `use`);
   * the view is valid only during the call. `null` at a clean EOF.
   */
  readWith<T>(
    maxSize: number,
    use: (frame: Uint8Array) => T,
  ): Promise<T | null> {
    if (this.#closed) return Promise.resolve(null);
    try {
      const frame = this.#take(maxSize);
      if (frame !== undefined) return Promise.resolve(use(frame));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#readSlow(maxSize, 0, use) as Promise<T | null>;
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
    return this.#readOrSkip(maxSize, keep, false);
  }

  /**
   * Like `readFrameOrSkip`, but a frame is a view into the read buffer
   * (as `tryReadView`: valid until the next read; frames read straight into
   * their own array are owned).
   */
  readViewOrSkip(
    maxSize: number,
    keep: number,
  ): Promise<Uint8Array | SkippedFrame | null> {
    return this.#readOrSkip(maxSize, keep, true);
  }

  #readOrSkip(
    maxSize: number,
    keep: number,
    view: boolean,
  ): Promise<Uint8Array | SkippedFrame | null> {
    if (!this.#closed) {
      try {
        const frame = this.#take(maxSize);
        if (frame !== undefined) {
          return Promise.resolve(view ? frame : this.#own(frame));
        }
      } catch {
        // oversize (skipped below) or malformed (reported below)
      }
    }
    return this.#readSlow(maxSize, keep, view) as Promise<
      Uint8Array | SkippedFrame | null
    >;
  }

  /** `view`: true for a view, false for a copy, or a function to apply. */
  async #readSlow(
    maxSize: number,
    keep: number,
    view: boolean | ((frame: Uint8Array) => unknown),
  ): Promise<unknown> {
    while (true) {
      if (this.#closed) return null;
      const size = this.#size();
      if (size >= 0) {
        const hlen = this.#hlen;
        if (size > maxSize) {
          if (keep === 0) throw oversize(size, maxSize);
          return await this.#skip(hlen, size, keep);
        }
        const from = this.#start + hlen;
        if (this.#end - from >= size) {
          this.#start = from + size;
          const frame = this.#buf.subarray(from, from + size);
          if (typeof view === "function") return view(frame);
          return view ? frame : this.#own(frame);
        }
        if (this.#filling) {
          await this.#filling; // a poll's read is in flight
          continue;
        }
        if (size >= DIRECT_READ) {
          const direct = this.#readDirect(hlen, size);
          this.#direct = direct;
          try {
            const frame = await direct;
            return typeof view === "function" ? view(frame) : frame;
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
    if (this.#closed || this.#writer.error !== undefined) {
      return Promise.reject(this.#sendError());
    }
    const size = frame.length;
    if (size >= DIRECT_WRITE) {
      return this.#writer.sendParts(encodeHeader(size), frame);
    }
    const writer = this.#writer;
    const at = writer.claim(size + 4);
    writer.view.setInt32(at, size);
    writer.buf.set(frame, at + 4);
    return writer.send();
  }

  /** Small frames are copied into the write buffers at once. */
  writeCopy(frame: Uint8Array): Promise<void> {
    return this.writeFrame(
      frame.length < DIRECT_WRITE ? frame : frame.slice(),
    );
  }

  /**
   * Writes the frame `[u32 length][u32 tag][body]` (the manager's framing:
   * length counts the tag); no promise to await. `body` is copied before
   * this returns (the caller may reuse it at once). A failed write closes
   * the transport (the reader then sees EOF).
   */
  writeTagged(tag: number, body: Uint8Array): void {
    if (this.#closed || this.#writer.error !== undefined) {
      throw this.#sendError();
    }
    const writer = this.#writer;
    const n = body.length + 8;
    if (n >= DIRECT_WRITE) {
      const out = new Uint8Array(n);
      const view = new DataView(out.buffer);
      view.setUint32(0, body.length + 4);
      view.setUint32(4, tag);
      out.set(body, 8);
      writer.sendParts(out).catch(() => {});
      return;
    }
    const at = writer.claim(n);
    writer.view.setUint32(at, body.length + 4);
    writer.view.setUint32(at + 4, tag);
    writer.buf.set(body, at + 8);
    writer.send().catch(() => {});
  }

  #sendError(): Error {
    return this.#writer.error !== undefined && !this.#closed
      ? new EOFError("Cannot send: the peer closed the connection", {
        cause: this.#writer.error,
      })
      : new EOFError("Cannot send: the connection is closed");
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
