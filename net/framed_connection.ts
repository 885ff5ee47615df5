/**
 * {@linkcode FramedConnection}: whole messages over a byte stream. Also
 * re-exports what `read_exactly.ts` defines ({@linkcode readExactly},
 * {@linkcode IncompleteReadError}, the byte-stream contracts), which
 * callers have always imported from here.
 *
 * @module
 */

import type { DecodeStep, FrameCodec } from "./codec.ts";
import { type ByteStream, IncompleteReadError } from "./read_exactly.ts";
import { FrameWriter } from "../_internal/frame_writer.ts";

export {
  type ByteReader,
  type ByteStream,
  IncompleteReadError,
  readExactly,
} from "./read_exactly.ts";

/**
 * Options of {@linkcode FramedConnection}.
 *
 * @example Aborting closes the connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { FramedConnection, type FramedConnectionOptions, LengthPrefixCodec } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using peer = await Deno.connect({ port: listener.addr.port });
 * const stop = new AbortController();
 * const options: FramedConnectionOptions = { signal: stop.signal, reuseBuffer: true };
 * using framed = new FramedConnection(await listener.accept(), new LengthPrefixCodec(), options);
 * const pending = framed.receive();
 * stop.abort(new Error("bye"));
 * await assert.rejects(pending, { message: "bye" });
 * await assert.rejects(framed.send("late"), { message: "bye" });
 * ```
 */
export interface FramedConnectionOptions {
  /** Aborting closes the connection; pending and later calls reject with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Return frames up to 1 MiB as views of the read buffer that are only
   * valid until the next `receive()` (copy what you keep): no copy and no
   * allocation per frame, like Go's `bufio.Scanner`. Default `false`: every
   * frame is yours to keep.
   *
   * @default {false}
   */
  reuseBuffer?: boolean;
}

/** Size of the reused read buffer; a length-prefixed frame larger than this gets its own buffer. */
const CHUNK = 64 * 1024;
/** With `reuseBuffer`, frames up to this size are read into the (grown) reused buffer too. */
const REUSE_MAX = 1024 * 1024;
/** Without it, frames over this size are read straight into a buffer of their own. */
const OWN_BUFFER = 256 * 1024;
/** Compact the read buffer when less than this much room is left after its data. */
const MIN_READ = 16 * 1024;

const encoder = new TextEncoder();
/** Frames up to this size are copied into the writer's buffers; larger ones are written uncopied. */
const COALESCE = 1024 * 1024;
/** Room claimed for a header written in place by `FrameCodec.headerInto`. */
const HEADER_ROOM = 16;

/**
 * Whole messages over a TCP connection: Python's "send the length, then the
 * data" recipe, done once and right. `send()` writes one frame;
 * `receive()` resolves with the next whole frame whatever way TCP cut or
 * glued the bytes ("sticky packets"), or `null` when the peer closed cleanly
 * between frames.
 *
 * ## Copies
 * Bytes are read into one reused buffer (64 KiB, grown to hold a few
 * frames when frames are larger) and decoded there, in place, however TCP
 * cut or glued them (never an O(n²) concatenation; a delimiter is searched
 * for once). A frame is copied out once, when it is handed to you, so it
 * stays valid forever. A length-prefixed frame over 256 KiB gets a buffer
 * of its exact size and the socket reads straight into it: no copy at all.
 * With `reuseBuffer: true`, frames up to 1 MiB are views of the reused
 * buffer instead: no copy and no allocation per frame. A frame already
 * buffered is returned without waiting a turn of the event loop.
 *
 * On the way out, a frame up to 1 MiB is assembled in a reused send buffer
 * and sent with one write (header and payload together), a larger one as
 * header, payload and trailer writes (no copy). Frames sent while a write
 * is in flight are coalesced: copied one after the other into one batch
 * that goes out in a single write when the socket is free, so many small
 * `send()`s made without awaiting cost one system call, not one each.
 *
 * ## Errors
 * A peer announcing a frame over `maxFrameSize`, or a malformed header, is a
 * `RangeError`; the stream ending inside a frame is an
 * {@linkcode IncompleteReadError}. Either closes this connection, and later
 * `receive()` calls throw the same error. Concurrent `send()`s are written
 * one after the other, never interleaved; concurrent `receive()`s are
 * answered in call order.
 *
 * @example Frames arrive whole, whatever the reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { FramedConnection, LengthPrefixCodec } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: 1 << 20 });
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = new FramedConnection(await Deno.connect({ port: listener.addr.port }), codec);
 * using server = new FramedConnection(await listener.accept(), codec);
 * await client.send("hello");
 * await client.send(new Uint8Array(3));
 * client.close();
 * const lengths: number[] = [];
 * for await (const frame of server) lengths.push(frame.length);
 * assert.deepEqual(lengths, [5, 3]);
 * ```
 */
export class FramedConnection implements AsyncIterable<Uint8Array>, Disposable {
  /** The underlying byte stream. */
  readonly conn: ByteStream;
  /** The wire format. */
  readonly codec: FrameCodec;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #scanFrom = 0;
  #need = 1;
  #reuse: boolean;
  #closed = false;
  #error: unknown = undefined;
  #writer: FrameWriter;
  #receiving: Promise<unknown> = Promise.resolve();
  #receivesPending = 0;
  #signal?: AbortSignal;
  #onAbort?: () => void;
  #progress: (() => void) | undefined;

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
    this.#writer = new FrameWriter(conn, {
      check: () => this.#check("send"),
      fail: (error) => this.#translate(error, "send"),
    });
    if (typeof conn.progress === "function") {
      this.#progress = conn.progress.bind(conn);
    }
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
    const codec = this.codec;
    const writer = this.#writer;
    const trailer = codec.trailer;
    try {
      this.#check("send");
      const room = HEADER_ROOM + payload.length + trailer.length;
      if (codec.headerInto && room <= COALESCE) {
        // header written in place: no allocation
        const at = writer.claim(room);
        const buf = writer.buf;
        let h: number;
        try {
          h = codec.headerInto(payload, buf, at);
        } catch (error) {
          writer.cancel();
          throw error;
        }
        if (h >= 0 && h <= HEADER_ROOM) {
          buf.set(payload, at + h);
          if (trailer.length) buf.set(trailer, at + h + payload.length);
          return writer.send(h + payload.length + trailer.length);
        }
        writer.cancel();
      }
      const header = codec.header(payload);
      const total = header.length + payload.length + trailer.length;
      if (total > COALESCE) {
        return trailer.length
          ? writer.sendParts(header, payload, trailer)
          : writer.sendParts(header, payload);
      }
      const at = writer.claim(total);
      const buf = writer.buf;
      buf.set(header, at);
      buf.set(payload, at + header.length);
      if (trailer.length) buf.set(trailer, at + header.length + payload.length);
      return writer.send();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Resolves with the next frame, or `null` when the peer closed the
   * connection between frames. The frame is yours to keep (with
   * `reuseBuffer`, frames up to 1 MiB are views valid until the next call).
   */
  receive(): Promise<Uint8Array | null> {
    if (this.#receivesPending > 0) {
      // Answered in call order, after the receive before it settles.
      this.#receivesPending++;
      const next = () => this.#receiveOne();
      const run = this.#receiving.then(next, next);
      this.#receiving = run;
      return run;
    }
    // A whole frame already buffered: no async step at all.
    if (this.#error === undefined && !this.#closed) {
      const pending = this.#end - this.#start;
      if (pending >= this.#need) {
        let step: DecodeStep;
        try {
          step = this.#decode(
            this.#buf.subarray(this.#start, this.#end),
            this.#scanFrom,
          );
        } catch (error) {
          return Promise.reject(error);
        }
        if ("consumed" in step) return Promise.resolve(this.#frame(step));
        this.#need = Math.max(step.need, 1);
        this.#scanFrom = step.scanFrom;
      }
    }
    this.#receivesPending++;
    const run = this.#receiveOne();
    this.#receiving = run;
    return run;
  }

  /** Hands out the frame `step` found at `#start` and moves past it. */
  #frame(step: { start: number; end: number; consumed: number }): Uint8Array {
    const frame = this.#buf.subarray(
      this.#start + step.start,
      this.#start + step.end,
    );
    this.#start += step.consumed;
    this.#scanFrom = 0;
    this.#need = 1;
    this.#progress?.();
    return this.#reuse ? frame : frame.slice();
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

  async #receiveOne(): Promise<Uint8Array | null> {
    try {
      this.#check("receive");
      while (true) {
        const pending = this.#end - this.#start;
        if (pending >= this.#need) {
          const step = this.#decode(
            this.#buf.subarray(this.#start, this.#end),
            this.#scanFrom,
          );
          if ("consumed" in step) return this.#frame(step);
          this.#need = Math.max(step.need, 1);
          this.#scanFrom = step.scanFrom;
          // A length header announced a big frame: read it into its own
          // buffer (no copy). Up to OWN_BUFFER (REUSE_MAX with reuseBuffer)
          // the read buffer grows instead: one copy out, but reads as large
          // as the socket gives rather than one extra read per frame.
          if (
            this.#need > (this.#reuse ? REUSE_MAX : OWN_BUFFER) &&
            this.#need - pending > 1
          ) {
            return await this.#receiveLarge(this.#need);
          }
        }
        this.#makeRoom(this.#need);
        let got: number | null;
        try {
          got = await this.conn.read(this.#buf.subarray(this.#end));
        } catch (error) {
          throw this.#translate(error, "receive");
        }
        if (got === null) {
          if (this.#end === this.#start) return null;
          throw this.#truncated(
            this.#buf.slice(this.#start, this.#end),
            Math.max(this.#need, pending + 1),
          );
        }
        this.#end += got;
      }
    } finally {
      this.#receivesPending--;
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
    this.#progress?.();
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
      const limit = this.#reuse ? 2 * REUSE_MAX : 4 * OWN_BUFFER;
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
      // Room for a few frames of this size, so compaction (a copy of the
      // next frame's first bytes) happens every few frames, not every one.
      const next = new Uint8Array(
        Math.max(need <= OWN_BUFFER ? need * 4 : need, buf.length * 2, CHUNK),
      );
      next.set(buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = pending;
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
