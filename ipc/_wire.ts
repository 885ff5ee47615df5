/**
 * Frame transports under `Connection` (private).
 *
 * A transport moves whole frames (byte strings). This file has the
 * interface, `EOFError` and the helpers every transport shares; the
 * transports live in their own files:
 *
 * - `StreamTransport` (`_stream_transport.ts`): a byte stream (TCP or Unix
 *   socket) with Python's `multiprocessing.connection` framing: a 4-byte
 *   big-endian signed length, then the bytes; for a frame of 2 GiB or more
 *   the length is -1 followed by an 8-byte big-endian unsigned length.
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
