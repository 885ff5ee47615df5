/**
 * How manager frames move (private): a {@linkcode Channel} is an ordered,
 * reliable pipe of `(call id, body)` frames. Two implementations:
 *
 * - {@linkcode memoryChannelPair}: two in-process ends (tests, and the
 *   serving process talking to its own server).
 * - {@linkcode SocketChannel}: a TCP or Unix socket with length-prefixed
 *   frames, on ipc's one framed transport (`_stream_transport.ts`,
 *   unsigned-length mode: a manager frame is a Python frame whose payload
 *   starts with the call id).
 *
 * Socket frame layout (all integers big-endian):
 *
 * | bytes | field                                  |
 * | ----- | -------------------------------------- |
 * | 4     | `n` = length of what follows (>= 4)    |
 * | 4     | call id                                |
 * | n - 4 | body (see `_manager_protocol.ts`)      |
 *
 * A frame with `n` over the receiver's cap is skipped (its bytes are read
 * and dropped) and handed up as `{ id, oversize: n }`, so one bad request
 * costs an error reply, not the connection. `n < 4` ends the connection.
 *
 * Two ways to receive: `recv()` hands out frames as owned bytes (the
 * Python protocol queues them); `drain(each)` — the weft protocol's hot
 * path on both sides — hands each frame to a callback as a view into the
 * transport's read buffer, decoded there and then: no copy, no promise per
 * frame, and frames that arrived together are handled in one go.
 *
 * A client drains with `expecting`: while it returns false (no call
 * pending) the socket is not read at all, and the next read starts when
 * `resume()` is called right after a request was written: the order of a
 * plain write-then-read. With the transport's exact-size reads (see
 * `StreamTransport`) that read is tried at once and finds the reply
 * whenever the server answered in between (on a busy or single core, most
 * of the time), with no trip through the event loop's poll; a read
 * registered before the write would only be retried after the poll. An
 * idle client has no read pending, so it never keeps the process alive.
 *
 * The handshake ({@linkcode acceptHandshake} / {@linkcode offerHandshake})
 * runs before any protocol frame: `auth`'s `serverHandshake` /
 * `clientHandshake` (each side proves it knows the authkey, HMAC-SHA256),
 * over the same stream and framing, with a deadline. A failure closes the socket and rejects with
 * `AuthenticationError`.
 *
 * The manager keeps its own framing (a call id in every frame, oversize
 * frames skipped rather than fatal) instead of `ipc`'s `Connection`, so one
 * socket multiplexes many concurrent calls.
 *
 * @module
 */

import {
  clientHandshake,
  HANDSHAKE_MAX_MESSAGE,
  serverHandshake,
} from "../auth/handshake.ts";
import { DEFAULT_MAX_FRAME, type Frame } from "./_manager_protocol.ts";
import { StreamTransport } from "./_stream_transport.ts";
import { EOFError, type SkippedFrame } from "./_wire.ts";

/** Receives one frame from {@linkcode Channel.drain}. */
export type FrameHandler = (
  id: number,
  body: Uint8Array | undefined,
  oversize: number,
) => void;

/** An ordered, reliable pipe of frames. */
export interface Channel {
  /**
   * Queues one frame (in order). Throws `TypeError` if the channel is
   * closed; a later write failure closes it (the reader sees EOF).
   */
  send(id: number, body: Uint8Array): void;
  /** The next frame (owned bytes), or `null` once the other side is gone. */
  recv(): Promise<Frame | null>;
  /**
   * Reads frames until the other side is gone, handing each to `each` as
   * soon as it is whole: `body` is a view that is valid only during the
   * call (decode it there), `undefined` for a frame skipped for being over
   * the cap (`oversize` is then its size). Resolves at EOF; rejects if a
   * frame is malformed (the channel is then closed).
   *
   * With `expecting`: before waiting for more bytes, reading pauses while
   * `expecting()` is false, until {@linkcode Channel.resume} (or close).
   */
  drain(each: FrameHandler, expecting?: () => boolean): Promise<void>;
  /** Restarts a `drain` paused by its `expecting`; cheap if none is. */
  resume(): void;
  /** Closes both directions; idempotent. */
  close(): void;
  /** True once {@linkcode Channel.close} ran or the peer went away. */
  readonly closed: boolean;
}

// ---------------------------------------------------------------------------
// In-memory channel

interface Queued {
  id: number;
  /** Where the body lies in the arena; -1 for a frame over the cap. */
  start: number;
  end: number;
  oversize: number;
}

/**
 * One in-process end. What the peer sends is copied into this end's arena
 * (a growable buffer reused once everything queued was read), so a frame
 * costs no allocation of its own; `drain` hands out views of the arena.
 */
class MemoryEnd implements Channel {
  #arena = new Uint8Array(1024);
  #tail = 0;
  #queue: Queued[] = [];
  #next = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  #peerGone = false;
  peer!: MemoryEnd;
  constructor(readonly maxFrame: number) {}

  get closed(): boolean {
    return this.#closed || this.#peerGone;
  }

  /** The peer's frame arrives (its body is copied here at once). */
  receive(id: number, body: Uint8Array): void {
    const size = body.length + 4;
    if (size > this.maxFrame) {
      this.#queue.push({ id, start: -1, end: -1, oversize: size });
    } else {
      const end = this.#tail + body.length;
      if (end > this.#arena.length) {
        const grown = new Uint8Array(Math.max(end, this.#arena.length * 2));
        grown.set(this.#arena.subarray(0, this.#tail));
        this.#arena = grown;
      }
      this.#arena.set(body, this.#tail);
      this.#queue.push({ id, start: this.#tail, end, oversize: 0 });
      this.#tail = end;
    }
    this.#wakeUp();
  }

  /** The peer closed. */
  hangUp(): void {
    this.#peerGone = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  send(id: number, body: Uint8Array): void {
    if (this.closed) {
      throw new TypeError("Cannot send frame: the channel is closed");
    }
    this.peer.receive(id, body);
  }

  /** The next queued frame, or undefined; resets the arena once all is read. */
  #take(): Queued | undefined {
    if (this.#next < this.#queue.length) return this.#queue[this.#next++];
    if (this.#next > 0) {
      this.#queue.length = 0;
      this.#next = 0;
      this.#tail = 0;
    }
    return undefined;
  }

  /** Resolves once a frame is queued or either side closed. */
  #ready(): Promise<void> | undefined {
    if (this.#next < this.#queue.length || this.closed) return undefined;
    return new Promise((resolve) => this.#wake = resolve);
  }

  async recv(): Promise<Frame | null> {
    await this.#ready();
    if (this.#closed) return null;
    const q = this.#take();
    if (q === undefined) return null; // the peer is gone
    return q.start < 0
      ? { id: q.id, oversize: q.oversize }
      : { id: q.id, body: this.#arena.slice(q.start, q.end) };
  }

  async drain(each: FrameHandler): Promise<void> {
    while (true) {
      await this.#ready();
      if (this.#closed) return;
      let q = this.#take();
      if (q === undefined) return; // the peer is gone
      for (; q !== undefined && !this.#closed; q = this.#take()) {
        if (q.start < 0) each(q.id, undefined, q.oversize);
        else each(q.id, this.#arena.subarray(q.start, q.end), 0);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeUp();
    this.peer.hangUp();
  }

  /** Nothing to restart: a memory end holds no read. */
  resume(): void {}
}

/** Two connected in-memory channel ends. */
export function memoryChannelPair(
  maxFrame: number = DEFAULT_MAX_FRAME,
): [Channel, Channel] {
  const a = new MemoryEnd(maxFrame);
  const b = new MemoryEnd(maxFrame);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

// ---------------------------------------------------------------------------
// Socket channel

/** A `SocketChannel.drain` in progress. */
interface Drain {
  each: FrameHandler;
  expecting: (() => boolean) | undefined;
  resolve(): void;
  reject(error: unknown): void;
  /** Waiting for `resume()`: nothing is expected and nothing is read. */
  parked: boolean;
}

/** Frames over a `Deno.Conn` (TCP or Unix), on ipc's one stream transport. */
export class SocketChannel implements Channel {
  #stream: StreamTransport;
  #maxFrame: number;
  #closed = false;
  /** The drain in progress, if any (see `#step`). */
  #drain: Drain | undefined;

  /** Wraps `conn`; frames over `maxFrame` bytes are skipped on receive. */
  constructor(conn: Deno.Conn, maxFrame: number = DEFAULT_MAX_FRAME) {
    this.#stream = new StreamTransport(conn, { unsignedLength: true });
    this.#maxFrame = maxFrame;
  }

  /** The underlying stream (for the handshake, which uses its framing). */
  get stream(): StreamTransport {
    return this.#stream;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues a frame. Writes happen in order; frames queued while a write is
   * in flight go out together. A failed write closes the channel, which the
   * reading side sees as EOF.
   */
  send(id: number, body: Uint8Array): void {
    if (this.#closed) {
      throw new TypeError("Cannot send frame: the channel is closed");
    }
    try {
      this.#stream.writeTagged(id, body);
    } catch {
      this.close();
      throw new TypeError("Cannot send frame: the channel is closed");
    }
  }

  /** `payload` (a frame or a skipped one) as an owned `Frame`. */
  #toFrame(payload: Uint8Array | SkippedFrame): Frame {
    let frame: Frame | undefined;
    this.#deliver(payload, (id, body, oversize) => {
      frame = body === undefined ? { id, oversize } : { id, body };
    });
    return frame!;
  }

  /** Hands `payload` (a frame or a skipped one) to `each`. */
  #deliver(payload: Uint8Array | SkippedFrame, each: FrameHandler): void {
    if (payload instanceof Uint8Array) {
      if (payload.length < 4) throw this.#short(payload.length);
      each(callId(payload), payload.subarray(4), 0);
    } else {
      if (payload.head.length < 4) throw this.#short(payload.head.length);
      each(callId(payload.head), undefined, payload.size);
    }
  }

  #short(length: number): RangeError {
    this.close();
    return new RangeError(
      `Cannot read frame: length ${length} is shorter than its header`,
    );
  }

  drain(each: FrameHandler, expecting?: () => boolean): Promise<void> {
    if (this.#drain !== undefined) {
      return Promise.reject(new TypeError("Cannot drain: already draining"));
    }
    return new Promise((resolve, reject) => {
      this.#drain = { each, expecting, resolve, reject, parked: false };
      this.#step();
    });
  }

  /**
   * The drain, driven by callbacks rather than an async loop, so a pause
   * costs no promise and `resume` starts the read at once: hands out every
   * whole frame buffered, then parks (nothing expected), starts one read
   * (`#afterRead` continues) or takes the general path (EOF, a frame over
   * the cap, a large frame).
   */
  #step = (): void => {
    const drain = this.#drain;
    if (drain === undefined) return;
    const stream = this.#stream;
    const max = this.#maxFrame;
    try {
      while (!this.#closed) {
        let frame: Uint8Array | undefined;
        try {
          frame = stream.tryReadView(max);
        } catch {
          frame = undefined; // oversize: readViewOrSkip skips it below
        }
        if (frame !== undefined) {
          this.#deliver(frame, drain.each);
          continue;
        }
        if (
          drain.expecting !== undefined && !drain.expecting() &&
          stream.buffered === 0
        ) {
          drain.parked = true;
          return;
        }
        if (stream.readMore(max, this.#afterRead, this.#failed)) return;
        stream.readViewOrSkip(max, 4).then(this.#afterSlow, this.#failed);
        return;
      }
    } catch (error) {
      return this.#failed(error);
    }
    this.#ended();
  };

  #afterRead = (more: boolean): void => {
    if (more) return this.#step();
    // EOF or a read error: the general path reports which
    this.#stream.readViewOrSkip(this.#maxFrame, 4).then(
      this.#afterSlow,
      this.#failed,
    );
  };

  #afterSlow = (payload: Uint8Array | SkippedFrame | null): void => {
    const drain = this.#drain;
    if (drain === undefined) return;
    if (payload === null || this.#closed) return this.#ended();
    try {
      this.#deliver(payload, drain.each);
    } catch (error) {
      return this.#failed(error);
    }
    this.#step();
  };

  /** The drain ends: cleanly at EOF (or close), else with `error`. */
  #failed = (error: unknown): void => {
    if (error instanceof EOFError) return this.#ended();
    this.close();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(error);
  };

  #ended(): void {
    this.close();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  recv(): Promise<Frame | null> {
    if (this.#closed) return Promise.resolve(null);
    return this.#stream.readFrameOrSkip(this.#maxFrame, 4).then(
      (payload) => {
        if (payload !== null) return this.#toFrame(payload);
        this.close();
        return null;
      },
      (error) => {
        this.close();
        if (error instanceof EOFError) return null;
        throw error;
      },
    );
  }

  resume(): void {
    const drain = this.#drain;
    if (drain === undefined || !drain.parked) return;
    drain.parked = false;
    this.#step();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
    this.resume(); // a parked drain ends
  }
}

/** The big-endian u32 call id at the start of a payload. */
function callId(bytes: Uint8Array): number {
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>>
    0;
}

// ---------------------------------------------------------------------------
// Handshake

/** Default handshake deadline in ms. */
export const HANDSHAKE_TIMEOUT = 10_000;

/** The channel's stream as `auth`'s `MessageConnection` (before any frame). */
function handshakeView(channel: SocketChannel) {
  const stream = channel.stream;
  return {
    sendBytes: (bytes: Uint8Array) => stream.writeFrame(bytes),
    async recvBytes(maxLength = HANDSHAKE_MAX_MESSAGE): Promise<Uint8Array> {
      const frame = await stream.readFrame(maxLength);
      if (frame === null) throw new EOFError();
      return frame;
    },
    close: () => channel.close(),
  };
}

/**
 * Server side: `auth`'s `serverHandshake` (as Python's `Listener.accept`),
 * HMAC-SHA256, within `timeout` ms. Closes the channel and rejects with
 * `AuthenticationError` on failure. A Python 3.11 client's legacy
 * HMAC-MD5 answer is accepted (as CPython 3.12+ servers do), so Python
 * managers clients of every version connect.
 */
export function acceptHandshake(
  channel: SocketChannel,
  authkey: Uint8Array,
  timeout: number = HANDSHAKE_TIMEOUT,
): Promise<void> {
  return serverHandshake(handshakeView(channel), authkey, {
    allowLegacyMd5: true,
    timeout,
  });
}

/**
 * Client side: `auth`'s `clientHandshake` (as Python's `Client`), so both
 * ends prove they know the authkey.
 */
export function offerHandshake(
  channel: SocketChannel,
  authkey: Uint8Array,
  timeout: number = HANDSHAKE_TIMEOUT,
): Promise<void> {
  return clientHandshake(handshakeView(channel), authkey, {
    allowLegacyMd5: false,
    timeout,
  });
}
