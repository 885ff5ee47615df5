/**
 * Private: the one write-coalescing frame writer, under net's
 * `FramedConnection` and ipc's `StreamTransport`. Byte runs go to a socket
 * one `write` at a time, without an allocation per frame.
 *
 * The caller claims room for a frame, writes it (header and payload) into
 * {@linkcode FrameWriter.buf} at the returned offset, then calls `send()`.
 * With nothing in flight the frame is in one reused buffer and leaves at
 * once (one `write`). Frames claimed while a write is in flight are
 * appended to a batch buffer (two, alternating: one being written, one
 * filling) and leave together in the next `write`, sharing one promise;
 * `sendParts` writes large payloads from the caller's arrays, in order.
 * Which frames are large is the caller's choice.
 *
 * @module
 */

/** What the writer needs of a socket. */
export interface WriteTarget {
  write(p: Uint8Array): Promise<number>;
}

/** How the writer reports errors; see {@linkcode FrameWriter}. */
export interface FrameWriterHooks {
  /**
   * Called with each write error (once for a write and everything queued
   * behind it); returns what they reject with.
   */
  fail(error: unknown): unknown;
  /** Optional: throws if queued frames must not be written any more. */
  check?(): void;
}

/** A batch of queued small frames is sealed at this size. */
const BATCH_LIMIT = 256 * 1024;

/** Settles every frame of one batch of queued writes. */
interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newBatch(): Batch {
  const batch = {} as Batch;
  batch.promise = new Promise<void>((resolve, reject) => {
    batch.resolve = resolve;
    batch.reject = reject;
  });
  // a batch nobody awaits (writeTagged) must not report an unhandled rejection
  batch.promise.catch(() => {});
  return batch;
}

/** See the module documentation. */
export class FrameWriter {
  #conn: WriteTarget;
  #fail: (error: unknown) => unknown;
  #check: (() => void) | undefined;
  #writing = false;
  /** The last write error, once a write failed. */
  error: unknown;
  // the buffer of a frame that leaves at once
  #wbuf = new Uint8Array(1024);
  #wview = new DataView(this.#wbuf.buffer);
  #inflight: Uint8Array | undefined;
  // the buffer `claim` handed out last, the claim's offset and length
  #claimed: Uint8Array = this.#wbuf;
  #claimedView: DataView = this.#wview;
  #claimedAt = 0;
  #claimedLength = 0;
  /** Sealed runs waiting for the next write, in order. */
  #segments: Uint8Array[] = [];
  /** The open batch buffer (small frames appended) and its fill. */
  #batch: Uint8Array | undefined;
  #batchView: DataView | undefined;
  #batchLen = 0;
  #batchSealed = 0;
  /** The other batch buffer, free once the pump's write of it is done. */
  #spare: Uint8Array | undefined;
  /** Settles with the write of everything queued so far. */
  #pending: Batch | undefined;

  constructor(conn: WriteTarget, hooks: FrameWriterHooks) {
    this.#conn = conn;
    this.#fail = hooks.fail;
    this.#check = hooks.check;
  }

  /**
   * Claims `n` bytes for the next frame; returns the offset in
   * {@linkcode FrameWriter.buf} to write them at. Then call `send()` (or
   * `cancel()`) before anything else is claimed or sent.
   */
  claim(n: number): number {
    this.#claimedLength = n;
    if (!this.#writing) {
      if (this.#wbuf.length < n) {
        this.#wbuf = new Uint8Array(Math.max(n, this.#wbuf.length * 2));
        this.#wview = new DataView(this.#wbuf.buffer);
      }
      this.#claimed = this.#wbuf;
      this.#claimedView = this.#wview;
      return this.#claimedAt = 0;
    }
    const at = this.#append(n);
    this.#claimed = this.#batch!;
    this.#claimedView = this.#batchView!;
    return this.#claimedAt = at;
  }

  /** The buffer of the last claim. */
  get buf(): Uint8Array {
    return this.#claimed;
  }

  /** A view of {@linkcode FrameWriter.buf}. */
  get view(): DataView {
    return this.#claimedView;
  }

  /** Gives back the last claim: nothing of it is sent. */
  cancel(): void {
    if (this.#claimed !== this.#wbuf) this.#batchLen = this.#claimedAt;
  }

  /**
   * Sends the claimed frame, or its first `length` bytes: now, or with the
   * batch after the write in flight.
   */
  send(length: number = this.#claimedLength): Promise<void> {
    if (this.#claimed === this.#wbuf) {
      return this.#writeNow(this.#wbuf.subarray(0, length));
    }
    this.#batchLen = this.#claimedAt + length;
    return this.#queued();
  }

  /**
   * Like `send()` for a caller that does not wait: no promise is made for
   * a frame that leaves at once (a failure still reaches `fail` and every
   * queued frame).
   */
  post(length: number = this.#claimedLength): void {
    if (this.#claimed === this.#wbuf) {
      this.#startWrite(this.#wbuf.subarray(0, length)).then(
        this.#onPosted,
        this.#onPostError,
      );
      return;
    }
    this.#batchLen = this.#claimedAt + length;
    this.#queued(); // its promise already ignores a rejection
  }

  /** `#onWritten` without its promise (a short write's is settled there). */
  #onPosted = (n: number): void => {
    this.#onWritten(n);
  };

  /** `#onWriteError` without the rejection (nobody awaits it). */
  #onPostError = (error: unknown): void => {
    this.#writeFailed(error);
  };

  /** Sends `parts` (written from these arrays, not copied) after the rest. */
  sendParts(...parts: Uint8Array[]): Promise<void> {
    if (!this.#writing && parts.length === 1) return this.#writeNow(parts[0]);
    this.#seal();
    this.#segments.push(...parts);
    return this.#queued();
  }

  /** Room for `n` bytes at the end of the open batch; returns its offset. */
  #append(n: number): number {
    let batch = this.#batch;
    if (batch === undefined || batch.length - this.#batchLen < n) {
      if (batch !== undefined && this.#batchLen + n <= BATCH_LIMIT) {
        // grow: the bytes not sealed yet move along
        const grown = new Uint8Array(
          Math.max(this.#batchLen + n, batch.length * 2),
        );
        grown.set(batch.subarray(this.#batchSealed, this.#batchLen));
        this.#batchLen -= this.#batchSealed;
        this.#batchSealed = 0;
        batch = grown;
      } else {
        this.#seal();
        const spare = this.#spare;
        this.#spare = undefined;
        batch = spare !== undefined && spare.length >= n
          ? spare
          : new Uint8Array(Math.max(n, 16 * 1024));
        this.#batchLen = this.#batchSealed = 0;
      }
      this.#batch = batch;
      this.#batchView = new DataView(batch.buffer);
    }
    const at = this.#batchLen;
    this.#batchLen += n;
    return at;
  }

  /** Moves the open batch's bytes to the segments (order kept). */
  #seal(): void {
    if (this.#batch !== undefined && this.#batchLen > this.#batchSealed) {
      this.#segments.push(
        this.#batch.subarray(this.#batchSealed, this.#batchLen),
      );
      this.#batchSealed = this.#batchLen;
    }
  }

  /** The promise of everything queued so far. */
  #queued(): Promise<void> {
    this.#pending ??= newBatch();
    const promise = this.#pending.promise;
    if (!this.#writing) this.#pump();
    return promise;
  }

  /** One write with nothing in flight; the pump takes over if needed. */
  #writeNow(bytes: Uint8Array): Promise<void> {
    return this.#startWrite(bytes).then(this.#onWritten, this.#onWriteError);
  }

  /** Starts the write of `bytes` with nothing in flight. */
  #startWrite(bytes: Uint8Array): Promise<number> {
    this.#writing = true;
    this.#inflight = bytes;
    try {
      return this.#conn.write(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #onWritten = (n: number): Promise<void> | void => {
    const bytes = this.#inflight!;
    this.#inflight = undefined;
    if (n === bytes.length) {
      if (this.#pending === undefined) this.#writing = false;
      else this.#pump(); // frames queued meanwhile
      return;
    }
    // a short write: the pump finishes it, then what was queued meanwhile
    const done = newBatch();
    this.#pump(bytes.subarray(n), done);
    return done.promise;
  };

  #onWriteError = (error: unknown): never => {
    throw this.#writeFailed(error);
  };

  /** The write in flight failed: so does everything queued. */
  #writeFailed(error: unknown): unknown {
    this.#inflight = undefined;
    this.#writing = false;
    return this.#failAll(error);
  }

  /**
   * Writes `first` (the rest of a short write, settling `done`), then each
   * batch queued meanwhile, until nothing is queued.
   */
  async #pump(first?: Uint8Array, done?: Batch): Promise<void> {
    this.#writing = true;
    let current: Batch | undefined = done;
    try {
      if (first !== undefined) await this.#writeAll(first);
      done?.resolve();
      while (this.#pending !== undefined) {
        current = this.#pending;
        this.#check?.();
        this.#pending = undefined;
        this.#seal();
        const segments = this.#segments;
        this.#segments = [];
        const batch = this.#batch;
        // new frames go to the spare buffer while this one is written
        this.#batch = this.#spare;
        this.#batchView = this.#batch && new DataView(this.#batch.buffer);
        this.#batchLen = this.#batchSealed = 0;
        this.#spare = undefined;
        for (const segment of segments) await this.#writeAll(segment);
        if (batch !== undefined && batch.length <= BATCH_LIMIT) {
          this.#spare = batch;
        }
        current.resolve();
      }
      current = undefined;
    } catch (error) {
      const failed = this.#failAll(error);
      current?.reject(failed);
      done?.reject(failed);
    } finally {
      this.#writing = false;
    }
  }

  /** After a failed write: every queued write fails the same way. */
  #failAll(error: unknown): unknown {
    this.error = error;
    const failed = this.#fail(error);
    this.#pending?.reject(failed);
    this.#pending = undefined;
    this.#segments = [];
    this.#batch = this.#spare = this.#batchView = undefined;
    this.#batchLen = this.#batchSealed = 0;
    return failed;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }
}
