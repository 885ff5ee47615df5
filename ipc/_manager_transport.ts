/**
 * How manager frames move (private): a {@linkcode Channel} is an ordered,
 * reliable pipe of `(call id, body)` frames. Two implementations:
 *
 * - {@linkcode memoryChannelPair}: two in-process ends (tests, and the
 *   serving process talking to its own server).
 * - {@linkcode SocketChannel}: a TCP or Unix socket with length-prefixed
 *   frames.
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
 * runs before any protocol frame: `auth`'s `deliverChallenge` and
 * `answerChallenge` both ways (each side proves it knows the authkey,
 * HMAC-SHA256), over Python's framing (u32 big-endian length + bytes), with
 * a deadline. A failure closes the socket and rejects with
 * `AuthenticationError`.
 *
 * The manager keeps its own framing (a call id in every frame, oversize
 * frames skipped rather than fatal) instead of `ipc`'s `Connection`, so one
 * socket multiplexes many concurrent calls.
 *
 * @module
 */

import { AuthenticationError } from "../auth/authentication_error.ts";
import {
  answerChallenge,
  deliverChallenge,
  HANDSHAKE_MAX_MESSAGE,
  type MessageConnection,
} from "../auth/handshake.ts";
import { DEFAULT_MAX_FRAME, type Frame } from "./_manager_protocol.ts";

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
    this.peer.deliver(
      size > this.peer.maxFrame
        ? { id, oversize: size }
        : { id, body: body.slice() },
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

const READ_CHUNK = 64 * 1024;

/** Frames over a `Deno.Conn` (TCP or Unix). */
export class SocketChannel implements Channel {
  #conn: Deno.Conn;
  #maxFrame: number;
  #buffer = new Uint8Array(READ_CHUNK);
  #start = 0;
  #end = 0;
  #eof = false;
  #closed = false;
  /** An oversize frame being skipped: its id, size and bytes still to drop. */
  #skipping: { id: number; size: number; left: number } | undefined;
  #outbox: Uint8Array[] = [];
  #pumping = false;

  /** Wraps `conn`; frames over `maxFrame` bytes are skipped on receive. */
  constructor(conn: Deno.Conn, maxFrame: number = DEFAULT_MAX_FRAME) {
    this.#conn = conn;
    this.#maxFrame = maxFrame;
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // not a TCP socket
    }
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
    const frame = new Uint8Array(8 + body.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, body.length + 4);
    view.setUint32(4, id);
    frame.set(body, 8);
    this.#push(frame);
  }

  #push(bytes: Uint8Array): void {
    this.#outbox.push(bytes);
    if (!this.#pumping) {
      // Start writing after the current burst of work, so replies (or
      // requests) produced together leave in one write: the send syscall
      // is most of the cost of a small frame.
      this.#pumping = true;
      queueMicrotask(() => this.#pump());
    }
  }

  async #pump(): Promise<void> {
    try {
      while (this.#outbox.length > 0 && !this.#closed) {
        const batch = this.#outbox;
        this.#outbox = [];
        let bytes = batch[0];
        if (batch.length > 1) {
          bytes = new Uint8Array(batch.reduce((n, b) => n + b.length, 0));
          let at = 0;
          for (const b of batch) {
            bytes.set(b, at);
            at += b.length;
          }
        }
        let offset = 0;
        while (offset < bytes.length) {
          offset += await this.#conn.write(bytes.subarray(offset));
        }
      }
    } catch {
      this.close();
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * The next whole frame from the buffer, `undefined` if more bytes are
   * needed. Never reads from the socket.
   */
  #parse(): Frame | undefined {
    const skipping = this.#skipping;
    if (skipping !== undefined) {
      const n = Math.min(skipping.left, this.#end - this.#start);
      this.#start += n;
      skipping.left -= n;
      this.#compact();
      if (skipping.left > 0) return undefined;
      this.#skipping = undefined;
      return { id: skipping.id, oversize: skipping.size };
    }
    const available = this.#end - this.#start;
    if (available < 8) return undefined;
    const view = new DataView(
      this.#buffer.buffer,
      this.#buffer.byteOffset + this.#start,
      8,
    );
    const length = view.getUint32(0);
    const id = view.getUint32(4);
    if (length < 4) {
      this.close();
      throw new RangeError(
        `Cannot read frame: length ${length} is shorter than its header`,
      );
    }
    if (length > this.#maxFrame) {
      this.#start += 8;
      this.#skipping = { id, size: length, left: length - 4 };
      return this.#parse();
    }
    if (available < 4 + length) return undefined;
    const body = this.#buffer.slice(this.#start + 8, this.#start + 4 + length);
    this.#start += 4 + length;
    this.#compact();
    return { id, body };
  }

  #compact(): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Reads once more into the buffer (room for `atLeast` bytes); false at EOF. */
  async #readMore(atLeast: number): Promise<boolean> {
    if (this.#eof || this.#closed) return false;
    if (this.#buffer.length - this.#end < Math.min(atLeast, READ_CHUNK)) {
      const live = this.#end - this.#start;
      const size = Math.max(atLeast + live, READ_CHUNK);
      if (size <= this.#buffer.length) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(size);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    let read: number | null;
    try {
      read = await this.#conn.read(this.#buffer.subarray(this.#end));
    } catch (error) {
      if (this.#closed || isDisconnect(error)) read = null;
      else throw error;
    }
    if (read === null) {
      this.#eof = true;
      return false;
    }
    this.#end += read;
    return true;
  }

  /** Bytes still missing for the frame at the head of the buffer. */
  #missing(): number {
    if (this.#skipping !== undefined) return 1;
    const available = this.#end - this.#start;
    if (available < 8) return 8 - available;
    const length = new DataView(
      this.#buffer.buffer,
      this.#buffer.byteOffset + this.#start,
      4,
    ).getUint32(0);
    return Math.max(1, 4 + Math.min(length, this.#maxFrame) - available);
  }

  /**
   * A frame already buffered, or `undefined` (never reads). A malformed
   * header closes the channel here; the next `recv` then reports EOF.
   */
  tryRecv(): Frame | undefined {
    if (this.#closed) return undefined;
    try {
      return this.#parse();
    } catch {
      return undefined;
    }
  }

  recv(): Promise<Frame | null> {
    if (this.#closed) return Promise.resolve(null);
    try {
      const frame = this.#parse();
      if (frame !== undefined) return Promise.resolve(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#recvSlow();
  }

  async #recvSlow(): Promise<Frame | null> {
    while (true) {
      if (!await this.#readMore(this.#missing())) {
        this.close();
        return null;
      }
      const frame = this.#parse();
      if (frame !== undefined) return frame;
    }
  }

  /** Reads exactly `n` raw bytes during the handshake; null at EOF. */
  async readRaw(n: number): Promise<Uint8Array | null> {
    while (this.#end - this.#start < n) {
      if (!await this.#readMore(n - (this.#end - this.#start))) return null;
    }
    const out = this.#buffer.slice(this.#start, this.#start + n);
    this.#start += n;
    this.#compact();
    return out;
  }

  /** Writes raw bytes during the handshake (in order with frames). */
  writeRaw(bytes: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError("Cannot write: the channel is closed"),
      );
    }
    this.#push(bytes);
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
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
}

function isDisconnect(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.NotConnected;
}

// ---------------------------------------------------------------------------
// Handshake

/** Default handshake deadline in ms. */
export const HANDSHAKE_TIMEOUT = 10_000;

/**
 * The socket as `auth`'s `MessageConnection`, framed like Python's
 * `multiprocessing.connection` (u32 big-endian length, then the bytes).
 * Used only before the manager's own framing starts.
 */
function handshakeView(channel: SocketChannel): MessageConnection {
  return {
    async sendBytes(bytes: Uint8Array): Promise<void> {
      const frame = new Uint8Array(4 + bytes.length);
      new DataView(frame.buffer).setUint32(0, bytes.length);
      frame.set(bytes, 4);
      await channel.writeRaw(frame);
    },
    async recvBytes(maxLength = HANDSHAKE_MAX_MESSAGE): Promise<Uint8Array> {
      const header = await channel.readRaw(4);
      if (header === null) throw new TypeError("Cannot read: the peer hung up");
      const length = new DataView(header.buffer, header.byteOffset).getUint32(
        0,
      );
      if (length > maxLength) {
        throw new RangeError(
          `Cannot read handshake message: ${length} bytes exceeds ${maxLength}`,
        );
      }
      const body = await channel.readRaw(length);
      if (body === null) throw new TypeError("Cannot read: the peer hung up");
      return body;
    },
  };
}

async function withDeadline(
  channel: SocketChannel,
  ms: number,
  work: (conn: MessageConnection) => Promise<void>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new AuthenticationError(`Cannot authenticate: no answer in ${ms} ms`),
      );
    }, ms);
  });
  const steps = work(handshakeView(channel));
  try {
    await Promise.race([steps, deadline]);
  } catch (error) {
    channel.close();
    steps.catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Server side: `auth`'s `deliverChallenge` then `answerChallenge` (as
 * Python's `Listener.accept`), HMAC-SHA256, within `timeout` ms. Closes the
 * channel and rejects with `AuthenticationError` on failure.
 */
export function acceptHandshake(
  channel: SocketChannel,
  authkey: Uint8Array,
  timeout: number = HANDSHAKE_TIMEOUT,
): Promise<void> {
  return withDeadline(channel, timeout, async (conn) => {
    await deliverChallenge(conn, authkey, { allowLegacyMd5: false });
    await answerChallenge(conn, authkey, { allowLegacyMd5: false });
  });
}

/**
 * Client side: `answerChallenge` then `deliverChallenge` (as Python's
 * `Client`), so both ends prove they know the authkey.
 */
export function offerHandshake(
  channel: SocketChannel,
  authkey: Uint8Array,
  timeout: number = HANDSHAKE_TIMEOUT,
): Promise<void> {
  return withDeadline(channel, timeout, async (conn) => {
    await answerChallenge(conn, authkey, { allowLegacyMd5: false });
    await deliverChallenge(conn, authkey, { allowLegacyMd5: false });
  });
}
