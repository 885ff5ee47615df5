/**
 * Private: the one growable byte writer, under the manager codec, the
 * MessagePack encoder of the cluster's Redis bus, and the pickle writer.
 *
 * A buffer that doubles when full, a `DataView` over it, and a write
 * position. Fields are public so an encoder's hot path can write
 * `w.buf[w.pos++] = tag` after one {@linkcode ByteWriter.reserve}; the
 * helpers below cover the rest. Multi-byte numbers are big-endian unless
 * `le` is true (each user picks what its format says). A writer can be
 * reused: {@linkcode ByteWriter.reset} rewinds it and drops a buffer that
 * grew past `keep` bytes, so one large value does not pin its memory.
 *
 * @module
 */

const utf8 = new TextEncoder();

/** A buffer and a view over it, as a {@linkcode ByteWriter} holds them. */
export interface WriterBuffer {
  readonly buf: Uint8Array;
  readonly view: DataView;
}

/** A growable byte buffer with a write position; see the module doc. */
export class ByteWriter {
  /** The bytes; only `buf.subarray(0, pos)` is written. */
  buf: Uint8Array;
  /** A view over `buf.buffer` (replaced with it). */
  view: DataView;
  /** How many bytes have been written. */
  pos = 0;
  readonly #initial: number;

  /**
   * `initial`: the first buffer's size (also what `reset` shrinks to), or
   * a buffer and its view to write into from 0 (one kept from an earlier
   * writer, so a fresh writer per call needs no new buffer).
   */
  constructor(initial: number | WriterBuffer = 256) {
    if (typeof initial === "number") {
      this.#initial = initial;
      this.buf = new Uint8Array(initial);
      this.view = new DataView(this.buf.buffer);
    } else {
      this.#initial = 256;
      this.buf = initial.buf;
      this.view = initial.view;
    }
  }

  /** Makes room for `n` more bytes (the buffer at least doubles). */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.#grow(n);
  }

  #grow(n: number): void {
    const grown = new Uint8Array(Math.max(this.pos + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Rewinds to 0; a buffer grown past `keep` bytes is dropped. */
  reset(keep = Infinity): void {
    this.pos = 0;
    if (this.buf.length > keep) {
      this.buf = new Uint8Array(this.#initial);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** A copy of what was written. */
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** One byte. */
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  /** An unsigned 16-bit number. */
  u16(v: number, le = false): void {
    this.reserve(2);
    this.view.setUint16(this.pos, v, le);
    this.pos += 2;
  }

  /** An unsigned 32-bit number. */
  u32(v: number, le = false): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v, le);
    this.pos += 4;
  }

  /** A signed 32-bit number. */
  i32(v: number, le = false): void {
    this.reserve(4);
    this.view.setInt32(this.pos, v, le);
    this.pos += 4;
  }

  /** A 64-bit float. */
  f64(v: number, le = false): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, le);
    this.pos += 8;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes `text` as UTF-8 at `at` (room for `3 * text.length` bytes must
   * be reserved there) and returns the byte count; `pos` is not moved.
   */
  utf8At(text: string, at: number): number {
    return utf8.encodeInto(text, this.buf.subarray(at)).written;
  }
}
