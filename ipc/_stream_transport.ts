/**
 * The one framed socket transport of ipc (private): see
 * {@linkcode StreamTransport}.
 *
 * @module
 */
import { FrameWriter } from "../_internal/frame_writer.ts";
import {
  encodeHeader,
  EOFError,
  isPeerGone,
  oversize,
  type SkippedFrame,
  type Transport,
} from "./_wire.ts";

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
 * Reads go through one growable buffer: one `read` per burst of frames
 * (while exactly one answer is due, a read of the size of the peer's last
 * lone frame: see `#read`), frames handed to a function while they are in
 * the buffer (`readWith`), handed out as views (`tryReadView`,
 * `readViewOrSkip`, valid until the next read) or copied once
 * (`readFrame`, into an array allocated while waiting for the peer when
 * the size repeats); large frames are read straight into their own array.
 * Writes (`_internal/frame_writer.ts`): header and payload in one `write`
 * from a reused buffer; frames written while a write is in flight leave
 * together in the next one.
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
  /** Bytes the next read into an empty buffer asks for (0: all it can). */
  #guess = 0;
  /** Frames written minus frames read (1: one answer is due). */
  #outstanding = 0;
  /** Where the read in flight writes (`#end` when it started). */
  #readFrom = 0;
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
    this.#filling = this.#read(want).then(this.#onRead, this.#onReadError);
    return this.#filling;
  }

  /** Starts one read into the buffer, with room for `want` more bytes. */
  #read(want: number): Promise<number | null> {
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
    // Waiting for the one answer to the one message sent (a sequential
    // call), nothing buffered, and the peer's last message came alone:
    // read just that many bytes. If the answer has the same size the read
    // fills its buffer, so the runtime (tokio) keeps the socket marked
    // readable and the read after it is tried at once, like a plain
    // exact-size read; a short read marks it drained, and the next read
    // then waits for the event loop's poll even when the peer has already
    // answered (pinned to one core: +0.45 µs CPU per round trip for raw
    // Deno). With more in flight (or none: a serving side) reads take all
    // the room there is, so a backlog comes in one read.
    const guess = this.#outstanding === 1 ? this.#guess : 0;
    this.#readFrom = this.#end;
    const to = guess > 0 && this.#start === this.#end
      ? Math.min(this.#end + guess, this.#buf.length)
      : this.#buf.length;
    try {
      return this.#conn.read(this.#buf.subarray(this.#end, to));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #onRead = (n: number | null): void => {
    this.#filling = undefined;
    if (n === null) {
      this.#eof = true;
      return;
    }
    this.#end += n;
    // one whole frame, alone, read into an empty buffer: its size is the
    // next read's guess
    this.#guess = 0;
    if (this.#readFrom !== this.#start) return;
    let size = -1;
    try {
      size = this.#size();
    } catch {
      // an invalid length: reported by the reader that parses it
    }
    if (size >= 0 && this.#hlen + size === n) this.#guess = n;
  };

  #onReadError = (error: unknown): void => {
    this.#filling = undefined;
    if (this.#closed || isPeerGone(error)) this.#eof = true;
    else throw error;
  };

  /** How many bytes are buffered and not yet handed out. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * One read for a caller that takes whole frames with `tryReadView` and
   * is called back (no promise between the read and the caller): `then`
   * gets true once bytes arrived, false at EOF; `fail` a read error. Returns
   * false, starting nothing, when the frame at the head needs the general
   * path (`readViewOrSkip`): it is over `maxSize` or long enough to be read
   * into its own array, its length is invalid, a read is already in
   * flight, or the stream ended.
   */
  readMore(
    maxSize: number,
    then: (more: boolean) => void,
    fail: (error: unknown) => void,
  ): boolean {
    if (this.#closed || this.#eof || this.#filling !== undefined) {
      return false;
    }
    let size: number;
    try {
      size = this.#size();
    } catch {
      return false;
    }
    if (size > maxSize || size >= DIRECT_READ) return false;
    const want = size < 0 ? 12 : this.#hlen + size - this.buffered;
    this.#moreThen = then;
    this.#moreFail = fail;
    this.#filling = this.#read(want).then(this.#onMore, this.#onMoreError);
    return true;
  }

  #moreThen: (more: boolean) => void = () => {};
  #moreFail: (error: unknown) => void = () => {};

  #onMore = (n: number | null): void => {
    this.#onRead(n);
    this.#moreThen(n !== null);
  };

  #onMoreError = (error: unknown): void => {
    try {
      this.#onReadError(error);
    } catch (failure) {
      return this.#moreFail(failure);
    }
    this.#moreThen(false);
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
    this.#outstanding--;
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
          this.#outstanding--;
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
    this.#outstanding--;
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
    this.#outstanding--;
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
    this.#outstanding++;
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
    this.#outstanding++;
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
    writer.post();
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
