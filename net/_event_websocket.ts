/**
 * Server side of RFC 6455 WebSocket framing over an {@linkcode HttpConn}
 * (private).
 *
 * Why not `Deno.upgradeWebSocket`: it buffers a whole message (up to 64 MiB)
 * before the program sees it, so ten clients sending 60 MiB messages would
 * cost 600 MiB. Here a frame header announcing more than `maxPayload` (or
 * fragments adding up to more) closes the connection with 1009 before its
 * payload is read, and outgoing bytes the peer does not read are capped by
 * `maxBuffered` (a client that never reads is closed with 1008, its queue
 * dropped).
 *
 * | rule                                    | on violation            |
 * | --------------------------------------- | ----------------------- |
 * | client frames are masked                | close 1002              |
 * | control frames ≤ 125 bytes, not fragmented | close 1002           |
 * | message ≤ `maxPayload` (from the header) | close 1009 (payload unread) |
 * | text is valid UTF-8                      | close 1007              |
 * | unsent bytes ≤ `maxBuffered`             | close 1008, queue dropped |
 *
 * @module
 */

import type { HttpConn } from "./_event_http.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** `Sec-WebSocket-Accept` for a client key. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    encoder.encode(key + GUID),
  );
  let text = "";
  for (const b of new Uint8Array(digest)) text += String.fromCharCode(b);
  return btoa(text);
}

/** An unmasked (server) frame: text for strings, binary for bytes. */
export function encodeFrame(
  data: string | Uint8Array,
  opcode?: number,
): Uint8Array {
  const payload = typeof data === "string" ? encoder.encode(data) : data;
  const op = opcode ?? (typeof data === "string" ? 1 : 2);
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(headerLength + n);
  out[0] = 0x80 | op;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  out.set(payload, headerLength);
  return out;
}

/** Limits of one WebSocket. */
export interface WebSocketLimits {
  maxPayload: number;
  maxBuffered: number;
}

/** One accepted WebSocket. */
export class ServerWebSocket {
  #http: HttpConn;
  #limits: WebSocketLimits;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #pumping = false;
  #pumped: Promise<void> = Promise.resolve();
  #closed = false;
  /** A text or binary message. */
  onmessage: (data: string | Uint8Array) => void = () => {};
  /** Called once when the connection ends, with a code and reason. */
  onclose: (code: number, reason: string) => void = () => {};

  constructor(http: HttpConn, limits: WebSocketLimits) {
    this.#http = http;
    this.#limits = limits;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet written to the socket. */
  get bufferedAmount(): number {
    return this.#queued;
  }

  /** Sends a message (encodes a frame). */
  send(data: string | Uint8Array): void {
    this.sendFrame(encodeFrame(data));
  }

  /** Sends a frame built by {@linkcode encodeFrame} (shared by broadcasts). */
  sendFrame(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#queued += frame.length;
    if (this.#queued > this.#limits.maxBuffered) {
      this.#queue = [];
      this.#queued = 0;
      this.#finish(1008, "Send buffer full: the peer does not read");
      return;
    }
    this.#queue.push(frame);
    if (!this.#pumping) this.#pumped = this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#http.closed) {
        let chunk: Uint8Array;
        if (this.#queue.length === 1 || this.#queue[0].length >= 65536) {
          chunk = this.#queue.shift()!;
        } else {
          let size = 0, count = 0;
          while (
            count < this.#queue.length &&
            size + this.#queue[count].length <= 262144
          ) size += this.#queue[count++].length;
          if (count === 0) count = 1, size = this.#queue[0].length;
          chunk = new Uint8Array(size);
          let off = 0;
          for (const part of this.#queue.splice(0, count)) {
            chunk.set(part, off);
            off += part.length;
          }
        }
        let off = 0; // the pump is the only writer once upgraded
        while (off < chunk.length) {
          off += await this.#http.conn.write(chunk.subarray(off));
        }
        this.#queued -= chunk.length;
      }
    } catch {
      this.#finish(1006, "Connection lost");
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends a close frame and ends the connection. */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    const bytes = encoder.encode(reason).subarray(0, 123);
    const payload = new Uint8Array(2 + bytes.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(bytes, 2);
    this.#queue.push(encodeFrame(payload, 8));
    this.#queued += payload.length + 2;
    if (!this.#pumping) this.#pumped = this.#pump();
    const http = this.#http;
    // Give the close frame a moment to leave, then drop the socket.
    const timer = setTimeout(() => http.close(), 1000);
    void this.#pumped.then(() => {
      clearTimeout(timer);
      http.close();
    });
    this.#finish(code, reason, false);
  }

  #finish(code: number, reason: string, closeNow = true): void {
    if (this.#closed) return;
    this.#closed = true;
    if (closeNow) this.#http.close();
    try {
      this.onclose(code, reason);
    } catch {
      // the owner's callback
    }
  }

  /** Reads frames until the connection ends. */
  async run(): Promise<void> {
    const http = this.#http;
    const max = this.#limits.maxPayload;
    let fragments: Uint8Array[] = [];
    let fragmentsSize = 0;
    let fragmentOp = 0;
    // Fast path: whole frames already buffered are parsed without awaiting.
    const take = (n: number) => http.takeSync(n) ?? http.readExactly(n);
    try {
      while (!this.#closed) {
        const first = await take(2);
        if (!first) return this.#finish(1006, "Connection closed");
        const fin = (first[0] & 0x80) !== 0;
        const op = first[0] & 0x0f;
        const masked = (first[1] & 0x80) !== 0;
        let length = first[1] & 0x7f;
        if ((first[0] & 0x70) !== 0) {
          return this.#fail(1002, "Reserved bits set");
        }
        if (!masked) return this.#fail(1002, "Unmasked client frame");
        const extra = length === 126 ? 2 : length === 127 ? 8 : 0;
        const header = await take(extra + 4);
        if (!header) return this.#finish(1006, "Connection closed");
        if (length === 126) {
          length = (header[0] << 8) | header[1];
        } else if (length === 127) {
          const big = new DataView(header.buffer, header.byteOffset)
            .getBigUint64(0);
          length = big > BigInt(Number.MAX_SAFE_INTEGER)
            ? Infinity
            : Number(big);
        }
        const off = extra;
        const mask = header.slice(off, off + 4);
        const control = op >= 8;
        if (control && (length > 125 || !fin)) {
          return this.#fail(1002, "Invalid control frame");
        }
        if (!control && length + fragmentsSize > max) {
          return this.#fail(
            1009,
            `Message too big: over the limit of ${max} bytes`,
          );
        }
        const payload = length === 0 ? new Uint8Array(0) : await take(length);
        if (!payload) return this.#finish(1006, "Connection closed");
        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
        if (op === 8) {
          const code = payload.length >= 2
            ? (payload[0] << 8) | payload[1]
            : 1005;
          this.close(code === 1005 ? 1000 : code, "");
          return;
        }
        if (op === 9) {
          this.sendFrame(encodeFrame(payload, 10));
          continue;
        }
        if (op === 10) continue;
        if (op === 0) {
          if (fragmentOp === 0) {
            return this.#fail(1002, "Unexpected continuation");
          }
        } else if (op === 1 || op === 2) {
          if (fragmentOp !== 0) {
            return this.#fail(1002, "Expected a continuation");
          }
          fragmentOp = op;
        } else return this.#fail(1002, "Unknown opcode");
        fragments.push(payload);
        fragmentsSize += payload.length;
        if (!fin) continue;
        const whole = fragments.length === 1
          ? fragments[0]
          : concat(fragments, fragmentsSize);
        const kind = fragmentOp;
        fragments = [];
        fragmentsSize = 0;
        fragmentOp = 0;
        if (kind === 1) {
          let text: string;
          try {
            text = strictDecoder.decode(whole);
          } catch {
            return this.#fail(1007, "Invalid UTF-8");
          }
          this.onmessage(text);
        } else this.onmessage(whole);
      }
    } catch {
      this.#finish(1006, "Connection lost");
    }
  }

  #fail(code: number, reason: string): void {
    this.close(code, reason);
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
