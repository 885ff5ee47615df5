/**
 * How manager frames move (private): a {@linkcode Channel} is an ordered,
 * reliable pipe of `(call id, body)` frames. Two implementations:
 *
 * - {@linkcode memoryChannelPair}: two in-process ends (tests, and the
 *   serving process talking to its own server).
 * - {@linkcode SocketChannel}: a TCP or Unix socket with length-prefixed
 *   frames, on ipc's one framed transport (`_wire.ts` `StreamTransport`,
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
import { EOFError, type SkippedFrame, StreamTransport } from "./_wire.ts";

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
   */
  drain(each: FrameHandler): Promise<void>;
  /** Closes both directions; idempotent. */
  close(): void;
  /** True once {@linkcode Channel.close} ran or the peer went away. */
  readonly closed: boolean;
  /** Lets (or stops) a pending `recv` keep the event loop alive. */
  ref(): void;
  /** See {@linkcode Channel.ref}. */
  unref(): void;
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

  ref(): void {}
  unref(): void {}
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

/** Frames over a `Deno.Conn` (TCP or Unix), on ipc's one stream transport. */
export class SocketChannel implements Channel {
  #stream: StreamTransport;
  #maxFrame: number;
  #closed = false;

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

  async drain(each: FrameHandler): Promise<void> {
    const stream = this.#stream;
    const max = this.#maxFrame;
    try {
      while (!this.#closed) {
        const payload = await stream.readViewOrSkip(max, 4);
        if (payload === null) break;
        this.#deliver(payload, each);
        // everything already buffered, in one go (replies leave together)
        while (!this.#closed) {
          let more;
          try {
            more = stream.tryReadView(max);
          } catch {
            break; // oversize: the next readViewOrSkip skips it
          }
          if (more === undefined) break;
          this.#deliver(more, each);
        }
      }
    } catch (error) {
      if (!(error instanceof EOFError)) {
        this.close();
        throw error;
      }
    }
    this.close();
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
  }

  ref(): void {
    this.#stream.ref();
  }

  unref(): void {
    this.#stream.unref();
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
