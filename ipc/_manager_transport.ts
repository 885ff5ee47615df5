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

/** An ordered, reliable pipe of frames. */
export interface Channel {
  /**
   * Queues one frame (in order). Throws `TypeError` if the channel is
   * closed; a later write failure closes it (the reader sees EOF).
   */
  send(id: number, body: Uint8Array): void;
  /** The next frame, or `null` once the other side is gone. */
  recv(): Promise<Frame | null>;
  /** A frame available without waiting, or `undefined`. */
  tryRecv(): Frame | undefined;
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

class MemoryEnd implements Channel {
  #inbox: Frame[] = [];
  #waiter: ((frame: Frame | null) => void) | undefined;
  #closed = false;
  peer!: MemoryEnd;
  constructor(readonly maxFrame: number) {}

  get closed(): boolean {
    return this.#closed;
  }

  deliver(frame: Frame | null): void {
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(frame);
    } else if (frame !== null) {
      this.#inbox.push(frame);
    } else {
      this.#closed = true;
    }
  }

  send(id: number, body: Uint8Array): void {
    if (this.#closed || this.peer.#closed) {
      throw new TypeError("Cannot send frame: the channel is closed");
    }
    const size = body.length + 4;
    // Every caller hands over a freshly encoded body it never touches again,
    // so it is delivered as is (a copy costs an ArrayBuffer allocation).
    this.peer.deliver(
      size > this.peer.maxFrame ? { id, oversize: size } : { id, body },
    );
  }

  tryRecv(): Frame | undefined {
    return this.#inbox.shift();
  }

  recv(): Promise<Frame | null> {
    const next = this.#inbox.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#waiter = (frame) => {
        if (frame === null) this.#closed = true;
        resolve(frame);
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deliver(null);
    this.peer.deliver(null);
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

  #toFrame(payload: Uint8Array | SkippedFrame): Frame {
    if (payload instanceof Uint8Array) {
      if (payload.length < 4) {
        this.close();
        throw new RangeError(
          `Cannot read frame: length ${payload.length} is shorter than its header`,
        );
      }
      return { id: callId(payload), body: payload.subarray(4) };
    }
    if (payload.head.length < 4) {
      this.close();
      throw new RangeError("Cannot read frame: it is shorter than its header");
    }
    return { id: callId(payload.head), oversize: payload.size };
  }

  /**
   * A frame already buffered, or `undefined` (never reads). A malformed
   * header closes the channel here; the next `recv` then reports EOF.
   */
  tryRecv(): Frame | undefined {
    if (this.#closed) return undefined;
    try {
      const payload = this.#stream.tryReadFrame(this.#maxFrame);
      return payload === undefined ? undefined : this.#toFrame(payload);
    } catch {
      // oversize (recv skips it) or malformed (closed)
      return undefined;
    }
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
