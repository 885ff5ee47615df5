/**
 * Engine.IO 4 and Socket.IO 5 packets (private; no Deno APIs here: the
 * browser client imports this file too).
 *
 * ## Engine.IO 4 (one packet per WebSocket message; `\x1e`-separated in a
 * polling body)
 *
 * | type | name    | body                                                               |
 * | ---- | ------- | ------------------------------------------------------------------ |
 * | `0`  | open    | `{"sid","upgrades","pingInterval","pingTimeout","maxPayload"}`     |
 * | `1`  | close   | —                                                                  |
 * | `2`  | ping    | server → client every `pingInterval` ms (`2probe` on an upgrade)   |
 * | `3`  | pong    | answer (`3probe`)                                                  |
 * | `4`  | message | text, or raw bytes (a binary WebSocket message; `b<base64>` in a polling body) |
 * | `5`  | upgrade | the client switches to the probed WebSocket                        |
 * | `6`  | noop    | ends a pending poll during an upgrade                              |
 *
 * ## Socket.IO 5 (inside an Engine.IO message)
 *
 * `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, types `0`
 * CONNECT (auth payload / `{"sid"}`), `1` DISCONNECT, `2` EVENT (`["name",
 * ...args]`), `3` ACK (`[...values]`), `4` CONNECT_ERROR (`{"message",
 * "data"}`), `5` BINARY_EVENT, `6` BINARY_ACK. Binary packets replace each
 * byte array anywhere in the arguments by `{"_placeholder":true,"num":n}`
 * and are followed by that many binary Engine.IO messages.
 *
 * ## Limits
 * Every decode checks its input: a malformed packet is a
 * {@linkcode PacketError} that ends that one session; attachments are
 * capped by the caller's limit.
 *
 * @module
 */

/** Socket.IO packet types. */
export const SIO = {
  connect: 0,
  disconnect: 1,
  event: 2,
  ack: 3,
  connectError: 4,
  binaryEvent: 5,
  binaryAck: 6,
} as const;

/** A decoded Socket.IO packet. */
export interface SioPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
  attachments?: number;
}

/** A malformed packet from the peer. */
export class PacketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PacketError";
  }
}

/** Separator of packets in a polling body. */
export const SEPARATOR = "\x1e";

/** Base64 of bytes (chunked: no call-stack limit). */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of base64 `text`, or `undefined` if it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Encodes Engine.IO packets for a polling body (binary as `b<base64>`). */
export function encodePayload(
  packets: readonly (string | Uint8Array)[],
): string {
  return packets.map((p) => typeof p === "string" ? p : "b" + toBase64(p))
    .join(SEPARATOR);
}

/** Splits a polling body into Engine.IO packets (binary decoded). */
export function decodePayload(body: string): (string | Uint8Array)[] {
  return body.split(SEPARATOR).map((part) => {
    if (part.length === 0) throw new PacketError("Empty packet in payload");
    if (part[0] !== "b") return part;
    const bytes = fromBase64(part.slice(1));
    if (!bytes) throw new PacketError("Invalid base64 packet in payload");
    return bytes;
  });
}

/** Is `value` a byte array that travels as a binary attachment? */
export function isBinary(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function toBytes(
  value: Uint8Array | ArrayBuffer | ArrayBufferView,
): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  const view = value as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Replaces byte arrays by placeholders; returns the data and the buffers. */
function deconstruct(data: unknown, buffers: Uint8Array[], depth = 0): unknown {
  if (depth > 64) throw new TypeError("data nested deeper than 64 levels");
  if (isBinary(data)) {
    buffers.push(toBytes(data));
    return { _placeholder: true, num: buffers.length - 1 };
  }
  if (Array.isArray(data)) {
    return data.map((v) => deconstruct(v, buffers, depth + 1));
  }
  if (data !== null && typeof data === "object" && !(data instanceof Date)) {
    if (typeof (data as { toJSON?: unknown }).toJSON === "function") {
      return data;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      out[k] = deconstruct(v, buffers, depth + 1);
    }
    return out;
  }
  return data;
}

/** Does `data` hold a byte array anywhere? */
export function hasBinary(data: unknown, depth = 0): boolean {
  // primitives first: the common leaves cost one typeof
  if (data === null || typeof data !== "object" || depth > 64) return false;
  if (isBinary(data)) return true;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (hasBinary(data[i], depth + 1)) return true;
    }
    return false;
  }
  if (typeof (data as { toJSON?: unknown }).toJSON === "function") {
    return false;
  }
  for (const key in data) {
    if (
      Object.hasOwn(data, key) &&
      hasBinary((data as Record<string, unknown>)[key], depth + 1)
    ) return true;
  }
  return false;
}

/**
 * Encodes a Socket.IO packet as its Engine.IO message(s): the text packet,
 * then one binary message per attachment.
 */
export function encodePacket(packet: SioPacket): (string | Uint8Array)[] {
  let type = packet.type;
  const buffers: Uint8Array[] = [];
  let data = packet.data;
  if (
    (type === SIO.event || type === SIO.ack) && data !== undefined &&
    hasBinary(data)
  ) {
    data = deconstruct(data, buffers);
    type = type === SIO.event ? SIO.binaryEvent : SIO.binaryAck;
  }
  let text = String(type);
  if (type === SIO.binaryEvent || type === SIO.binaryAck) {
    text += `${buffers.length}-`;
  }
  if (packet.nsp !== "/") text += packet.nsp + ",";
  if (packet.id !== undefined) text += String(packet.id);
  if (data !== undefined) text += JSON.stringify(data);
  return [text, ...buffers];
}

/** Is `name` a valid namespace name? */
export function isNamespace(name: unknown): name is string {
  return typeof name === "string" && name.startsWith("/") &&
    name.length <= 256 && !name.includes(",");
}

/**
 * Decodes the text part of a Socket.IO packet. Binary packets come back with
 * `attachments` set; {@linkcode reconstruct} fills the placeholders in.
 */
export function decodePacket(text: string, maxAttachments: number): SioPacket {
  const type = text.charCodeAt(0) - 48;
  if (!(type >= 0 && type <= 6) || Number.isNaN(type)) {
    throw new PacketError("Unknown packet type");
  }
  let i = 1;
  const packet: SioPacket = { type, nsp: "/" };
  if (type === SIO.binaryEvent || type === SIO.binaryAck) {
    const dash = text.indexOf("-", i);
    const digits = dash < 0 ? "" : text.slice(i, dash);
    if (!/^[0-9]{1,7}$/.test(digits)) {
      throw new PacketError("Invalid attachment count");
    }
    const n = Number(digits);
    if (n > maxAttachments) throw new PacketError("Too many attachments");
    packet.attachments = n;
    i = dash + 1;
  }
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    const end = comma < 0 ? text.length : comma;
    packet.nsp = text.slice(i, end);
    if (!isNamespace(packet.nsp)) throw new PacketError("Invalid namespace");
    i = comma < 0 ? end : end + 1;
  }
  const start = i;
  while (i < text.length && i - start < 16) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i > start) {
    if (i - start > 15) throw new PacketError("Invalid ack id");
    packet.id = Number(text.slice(start, i));
  }
  if (i < text.length) {
    try {
      packet.data = JSON.parse(text.slice(i));
    } catch {
      throw new PacketError("Invalid JSON payload");
    }
  }
  checkShape(packet);
  return packet;
}

function checkShape(p: SioPacket): void {
  switch (p.type) {
    case SIO.connect:
      if (
        p.data !== undefined &&
        (typeof p.data !== "object" || p.data === null || Array.isArray(p.data))
      ) throw new PacketError("Invalid CONNECT payload");
      return;
    case SIO.disconnect:
      return;
    case SIO.event:
    case SIO.binaryEvent:
      if (
        !Array.isArray(p.data) || p.data.length === 0 ||
        (typeof p.data[0] !== "string" && typeof p.data[0] !== "number")
      ) throw new PacketError("Invalid EVENT payload");
      return;
    case SIO.ack:
    case SIO.binaryAck:
      if (!Array.isArray(p.data) || p.id === undefined) {
        throw new PacketError("Invalid ACK payload");
      }
      return;
    case SIO.connectError:
      if (p.data === undefined) throw new PacketError("Invalid CONNECT_ERROR");
      return;
  }
}

/** Fills placeholders with their attachments (every one must be used once). */
export function reconstruct(data: unknown, buffers: Uint8Array[]): unknown {
  const used = new Set<number>();
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 64) throw new PacketError("Payload nested too deeply");
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        value[i] = walk(value[i], depth + 1);
      }
      return value;
    }
    if (value !== null && typeof value === "object") {
      const o = value as Record<string, unknown>;
      if (o._placeholder === true) {
        const num = o.num;
        if (
          typeof num !== "number" || !Number.isInteger(num) || num < 0 ||
          num >= buffers.length || used.has(num)
        ) throw new PacketError("Invalid attachment placeholder");
        used.add(num);
        return buffers[num];
      }
      for (const k of Object.keys(o)) o[k] = walk(o[k], depth + 1);
    }
    return value;
  };
  const out = walk(data, 0);
  if (used.size !== buffers.length) {
    throw new PacketError("Unused attachment");
  }
  return out;
}

/**
 * Turns one side's Engine.IO messages into whole Socket.IO packets: decodes
 * text packets and collects a binary packet's attachments as they arrive.
 */
export class Reassembler {
  #packet?: SioPacket;
  #buffers: Uint8Array[] = [];
  #maxAttachments: number;

  /** @param maxAttachments Most attachments one packet may announce. */
  constructor(maxAttachments = 1000) {
    this.#maxAttachments = maxAttachments;
  }

  /**
   * The packet `message` completes, if any. Throws {@linkcode PacketError}
   * on a malformed packet, a stray attachment or a missing one.
   */
  feed(message: string | Uint8Array): SioPacket | undefined {
    if (typeof message !== "string") return this.add(message);
    if (this.waiting) throw new PacketError("Expected a binary attachment");
    const packet = decodePacket(message, this.#maxAttachments);
    if (!packet.attachments) return packet;
    this.start(packet);
    return undefined;
  }

  /** `true` while attachments are still expected. */
  get waiting(): boolean {
    return this.#packet !== undefined;
  }

  /** Starts collecting for `packet` (which has `attachments > 0`). */
  start(packet: SioPacket): void {
    this.#packet = packet;
    this.#buffers = [];
  }

  /** Adds one attachment; returns the whole packet once complete. */
  add(bytes: Uint8Array): SioPacket | undefined {
    const packet = this.#packet;
    if (!packet) throw new PacketError("Unexpected binary message");
    this.#buffers.push(bytes);
    if (this.#buffers.length < packet.attachments!) return undefined;
    packet.data = reconstruct(packet.data, this.#buffers);
    this.#packet = undefined;
    this.#buffers = [];
    return packet;
  }
}
