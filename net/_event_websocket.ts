/**
 * RFC 6455 WebSocket framing over an {@linkcode HttpConn} (private), for
 * both ends: the event server's accepted sockets and, in Deno, the event
 * client's socket (`client: true`: frames sent masked, the peer's frames
 * must not be).
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
 * | peer frames masked (client's: unmasked)  | close 1002              |
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

/**
 * A frame: text for strings, binary for bytes; unmasked (server) unless
 * `masked` (client frames carry a random mask key, and the payload is
 * masked as it is written).
 */
export function encodeFrame(
  data: string | Uint8Array,
  opcode?: number,
  masked = false,
): Uint8Array {
  const op = opcode ?? (typeof data === "string" ? 1 : 2);
  if (typeof data === "string" && data.length < 65536) {
    // optimistic ASCII (the common case): chars copied straight into the
    // frame, no intermediate encoding; the first other char gives up
    const out = frameFor(op, data.length, masked);
    const at = out.length - data.length;
    const key = masked ? maskKey(out, at - 4) : 0;
    let i = 0;
    for (; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c > 0x7f) break;
      out[at + i] = c ^ ((key >>> ((i & 3) << 3)) & 0xff);
    }
    if (i === data.length) return out;
  }
  const payload = typeof data === "string" ? encoder.encode(data) : data;
  const out = frameFor(op, payload.length, masked);
  const at = out.length - payload.length;
  if (!masked) {
    out.set(payload, at);
    return out;
  }
  const key = maskKey(out, at - 4);
  for (let i = 0; i < payload.length; i++) {
    out[at + i] = payload[i] ^ ((key >>> ((i & 3) << 3)) & 0xff);
  }
  return out;
}

/** A frame of `n` payload bytes with its header written. */
function frameFor(op: number, n: number, masked: boolean): Uint8Array {
  const headerLength = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) +
    (masked ? 4 : 0);
  const out = new Uint8Array(headerLength + n);
  out[0] = 0x80 | op;
  out[1] = masked ? 0x80 : 0;
  if (n < 126) out[1] |= n;
  else if (n < 65536) {
    out[1] |= 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] |= 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  return out;
}

/** Random mask keys, drawn 1 KiB at a time (one call per 256 frames). */
const keys = new Uint8Array(1024);
let keysUsed = keys.length;

/**
 * Writes a fresh mask key into `frame` at `at`; returns it as a number
 * (byte `i & 3` of the key is bits `8 * (i & 3)` up).
 */
function maskKey(frame: Uint8Array, at: number): number {
  if (keysUsed === keys.length) {
    crypto.getRandomValues(keys);
    keysUsed = 0;
  }
  const k0 = keys[keysUsed], k1 = keys[keysUsed + 1];
  const k2 = keys[keysUsed + 2], k3 = keys[keysUsed + 3];
  keysUsed += 4;
  frame[at] = k0;
  frame[at + 1] = k1;
  frame[at + 2] = k2;
  frame[at + 3] = k3;
  return (k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0;
}

/** Limits (and role) of one WebSocket. */
export interface WebSocketLimits {
  maxPayload: number;
  maxBuffered: number;
  /** The client end: sends masked frames, refuses masked ones. */
  client?: boolean;
}

/** One WebSocket (an accepted one, or weft's client end in Deno). */
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
    this.sendFrame(encodeFrame(data, undefined, this.#limits.client));
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
    const frame = encodeFrame(payload, 8, this.#limits.client);
    this.#queue.push(frame);
    this.#queued += frame.length;
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
    const client = this.#limits.client === true;
    let fragments: Uint8Array[] = [];
    let fragmentsSize = 0;
    let fragmentOp = 0;
    // Fast path: whole frames already buffered are parsed without awaiting.
    const take = (n: number) => http.takeSync(n) ?? http.readExactly(n);
    try {
      while (!this.#closed) {
        if (fragmentOp === 0 && this.#whole(client, max)) continue;
        if (http.buffered === 0) {
          // read, then try the whole-frame path again
          if (!await http.fill(0)) {
            return this.#finish(1006, "Connection closed");
          }
          continue;
        }
        const first = await take(2);
        if (!first) return this.#finish(1006, "Connection closed");
        const fin = (first[0] & 0x80) !== 0;
        const op = first[0] & 0x0f;
        const masked = (first[1] & 0x80) !== 0;
        let length = first[1] & 0x7f;
        if ((first[0] & 0x70) !== 0) {
          return this.#fail(1002, "Reserved bits set");
        }
        if (masked === client) {
          return this.#fail(
            1002,
            client ? "Masked server frame" : "Unmasked client frame",
          );
        }
        const extra = length === 126 ? 2 : length === 127 ? 8 : 0;
        const header = extra + (masked ? 4 : 0) === 0
          ? first.subarray(2)
          : await take(extra + (masked ? 4 : 0));
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
        const mask = masked ? header.slice(extra, extra + 4) : undefined;
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
        if (mask) {
          for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
        }
        if (op === 8) {
          const code = payload.length >= 2
            ? (payload[0] << 8) | payload[1]
            : 1005;
          this.close(code === 1005 ? 1000 : code, "");
          return;
        }
        if (op === 9) {
          this.sendFrame(encodeFrame(payload, 10, client));
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

  /**
   * The common case without a copy or an await: a whole, unfragmented data
   * frame of under 64 KiB already in the read buffer is unmasked in place
   * (the bytes are consumed), decoded and delivered. `false`: anything
   * else, left to the general path (which also reports the errors).
   */
  #whole(client: boolean, max: number): boolean {
    const view = this.#http.peek();
    if (view.length < 2) return false;
    const b0 = view[0], b1 = view[1];
    const op = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    // FIN set, no reserved bits, text or binary, the right masking
    if ((b0 & 0xf0) !== 0x80 || (op !== 1 && op !== 2) || masked === client) {
      return false;
    }
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      if (view.length < 4) return false;
      length = (view[2] << 8) | view[3];
      at = 4;
    } else if (length === 127) return false;
    if (length > max) return false;
    const start = at + (masked ? 4 : 0);
    if (view.length < start + length) return false;
    const payload = view.subarray(start, start + length);
    if (masked) {
      const m0 = view[at], m1 = view[at + 1], m2 = view[at + 2];
      const m3 = view[at + 3];
      for (let i = 0; i < length; i += 4) {
        payload[i] ^= m0;
        if (i + 1 < length) payload[i + 1] ^= m1;
        if (i + 2 < length) payload[i + 2] ^= m2;
        if (i + 3 < length) payload[i + 3] ^= m3;
      }
    }
    let message: string | Uint8Array;
    if (op === 1) {
      try {
        message = strictDecoder.decode(payload);
      } catch {
        this.#http.skip(start + length);
        this.#fail(1007, "Invalid UTF-8");
        return true;
      }
    } else message = payload.slice();
    this.#http.skip(start + length);
    this.onmessage(message);
    return true;
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
