/**
 * Wire format of weft's event server (private; no Deno APIs here: the
 * browser client imports this file too).
 *
 * One WebSocket message carries one packet. Text messages hold a JSON
 * object; binary messages hold an event or an acknowledgement whose payload
 * is a `Uint8Array`.
 *
 * ## Text packets (JSON, one object per message)
 *
 * | `t`   | direction       | fields                                | meaning                                  |
 * | ----- | --------------- | ------------------------------------- | ---------------------------------------- |
 * | `"c"` | server → client | `alg`, `nonce` (base64, 32 bytes)     | auth challenge (only with an auth key)   |
 * | `"r"` | client → server | `mac` (base64), `nonce` (base64)      | answer + the client's own challenge      |
 * | `"h"` | server → client | `sid`, `pi`, `pt`, `mx`, `mac?`       | hello: session id, ping interval/timeout (ms), max message size (bytes), server's proof |
 * | `"e"` | both            | `n` (name), `d?` (JSON data), `id?`   | event; `id` asks for an acknowledgement  |
 * | `"a"` | both            | `id`, `d?` (JSON data), `e?` (string) | acknowledgement of event `id`; `e` = handler failed |
 * | `"p"` | server → client | —                                     | ping                                     |
 * | `"P"` | client → server | —                                     | pong                                     |
 *
 * ## Binary packets (payload is a `Uint8Array`)
 *
 * | offset | size | field                                         |
 * | ------ | ---- | --------------------------------------------- |
 * | 0      | 1    | kind: `1` event, `2` acknowledgement          |
 * | 1      | 4    | ack id, uint32 big-endian (`0`: no ack asked) |
 * | 5      | 2    | event only: name length `L`, uint16 big-endian |
 * | 7      | `L`  | event only: name, UTF-8                       |
 * | rest   |      | payload bytes                                 |
 *
 * ## Limits and failures
 *
 * Every message, text or binary, is capped by the server's `maxMessageSize`
 * (announced as `mx` in the hello and enforced by both sides before
 * sending). A peer that sends an oversize message is closed with code 1009;
 * a malformed packet closes it with code 1002. Event names are 1 to 256
 * characters.
 *
 * @module
 */

/** Close codes used by the event server and client. */
export const CLOSE = {
  /** `disconnect()` by either side: the client does not reconnect. */
  normal: 1000,
  /** Server shutting down: the client reconnects. */
  goingAway: 1001,
  /** Malformed packet or handshake step out of order. */
  protocolError: 1002,
  /** A message over `maxMessageSize`. */
  tooBig: 1009,
  /** No pong within the ping timeout (heartbeat). */
  pingTimeout: 4000,
  /** Authentication failed or timed out: the client does not reconnect. */
  authFailed: 4001,
  /** Sent by the client: the server broke the protocol (browsers cannot send 1002). */
  clientProtocolError: 4002,
  /** Sent by the client: a connection attempt took longer than `connectTimeout`. */
  attemptTimeout: 4008,
} as const;

/** Longest accepted event name, in UTF-16 code units. */
export const MAX_EVENT_NAME = 256;

/** Names the client and server use for their own lifecycle events. */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "disconnect",
]);

/** A packet on the wire, after decoding. */
export type Packet =
  | { t: "c"; alg: string; nonce: string }
  | { t: "r"; mac: string; nonce: string }
  | { t: "h"; sid: string; pi: number; pt: number; mx: number; mac?: string }
  | { t: "e"; n: string; d?: unknown; id?: number }
  | { t: "a"; id: number; d?: unknown; e?: string }
  | { t: "p" }
  | { t: "P" };

/** An encoded message, ready for `WebSocket.send`. */
export type Frame = string | Uint8Array;

const KIND_EVENT = 1;
const KIND_ACK = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Thrown by the decoders for a packet that breaks the format. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Checks an event name for `on` / `emit`. */
export function checkEventName(name: unknown, action: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(
      `Cannot ${action}: event name must be a non-empty string`,
    );
  }
  if (name.length > MAX_EVENT_NAME) {
    throw new RangeError(
      `Cannot ${action}: event name is longer than ${MAX_EVENT_NAME} characters`,
    );
  }
  return name;
}

/** Encodes an event or acknowledgement; binary when `data` is bytes. */
export function encodeData(
  kind: "e" | "a",
  nameOrId: string | number,
  data: unknown,
  ackId?: number,
): Frame {
  if (data instanceof Uint8Array) {
    const id = kind === "e" ? ackId ?? 0 : nameOrId as number;
    if (kind === "a") {
      const out = new Uint8Array(5 + data.byteLength);
      out[0] = KIND_ACK;
      new DataView(out.buffer).setUint32(1, id);
      out.set(data, 5);
      return out;
    }
    const name = encoder.encode(nameOrId as string);
    const out = new Uint8Array(7 + name.byteLength + data.byteLength);
    const view = new DataView(out.buffer);
    out[0] = KIND_EVENT;
    view.setUint32(1, id);
    view.setUint16(5, name.byteLength);
    out.set(name, 7);
    out.set(data, 7 + name.byteLength);
    return out;
  }
  const packet: Record<string, unknown> = kind === "e"
    ? { t: "e", n: nameOrId }
    : { t: "a", id: nameOrId };
  if (data !== undefined) packet.d = data;
  if (kind === "e" && ackId !== undefined) packet.id = ackId;
  return JSON.stringify(packet);
}

/** Encodes a control packet (anything but events and acks with bytes). */
export function encodePacket(packet: Packet): string {
  return JSON.stringify(packet);
}

/** Size of a frame or a received message in bytes (UTF-8 for text). */
export function frameSize(frame: string | ArrayBuffer | Uint8Array): number {
  if (typeof frame !== "string") return frame.byteLength;
  // Cheap bounds first: UTF-8 needs 1 to 3 bytes per UTF-16 code unit.
  if (frame.length * 3 <= 0x7fff) return encoder.encode(frame).byteLength;
  let bytes = 0;
  for (let i = 0; i < frame.length; i++) {
    const c = frame.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < frame.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 &&
    (value as number) <= 0xffffffff;
}

/** Decodes a received message; throws {@linkcode ProtocolError}. */
export function decodeFrame(message: string | ArrayBuffer): Packet {
  return typeof message === "string"
    ? decodeText(message)
    : decodeBinary(new Uint8Array(message));
}

function decodeText(text: string): Packet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("Cannot decode packet: text is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("Cannot decode packet: not a JSON object");
  }
  const p = value as Record<string, unknown>;
  switch (p.t) {
    case "e":
      if (
        typeof p.n !== "string" || p.n.length === 0 ||
        p.n.length > MAX_EVENT_NAME
      ) {
        throw new ProtocolError("Cannot decode event: bad event name");
      }
      if (p.id !== undefined && !isId(p.id)) {
        throw new ProtocolError("Cannot decode event: bad ack id");
      }
      return p as Packet;
    case "a":
      if (!isId(p.id)) {
        throw new ProtocolError("Cannot decode acknowledgement: bad ack id");
      }
      if (p.e !== undefined && typeof p.e !== "string") {
        throw new ProtocolError("Cannot decode acknowledgement: bad error");
      }
      return p as Packet;
    case "p":
    case "P":
      return p as Packet;
    case "c":
    case "r":
      if (typeof p.nonce !== "string") {
        throw new ProtocolError("Cannot decode handshake: missing nonce");
      }
      if (p.t === "r" && typeof p.mac !== "string") {
        throw new ProtocolError("Cannot decode handshake: missing mac");
      }
      if (p.t === "c" && typeof p.alg !== "string") {
        throw new ProtocolError("Cannot decode handshake: missing alg");
      }
      return p as Packet;
    case "h":
      if (
        typeof p.sid !== "string" || !(typeof p.pi === "number" && p.pi > 0) ||
        !(typeof p.pt === "number" && p.pt > 0) ||
        !(typeof p.mx === "number" && p.mx > 0) ||
        (p.mac !== undefined && typeof p.mac !== "string")
      ) {
        throw new ProtocolError("Cannot decode hello: bad fields");
      }
      return p as Packet;
    default:
      throw new ProtocolError(
        `Cannot decode packet: unknown type ${JSON.stringify(p.t)}`,
      );
  }
}

function decodeBinary(bytes: Uint8Array): Packet {
  if (bytes.byteLength < 5) {
    throw new ProtocolError(
      "Cannot decode binary packet: shorter than 5 bytes",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint32(1);
  if (bytes[0] === KIND_ACK) {
    if (id === 0) {
      throw new ProtocolError("Cannot decode acknowledgement: bad ack id");
    }
    return { t: "a", id, d: bytes.slice(5) };
  }
  if (bytes[0] !== KIND_EVENT || bytes.byteLength < 7) {
    throw new ProtocolError("Cannot decode binary packet: bad kind or length");
  }
  const nameLength = view.getUint16(5);
  if (nameLength === 0 || 7 + nameLength > bytes.byteLength) {
    throw new ProtocolError("Cannot decode binary event: bad name length");
  }
  let name: string;
  try {
    name = decoder.decode(bytes.subarray(7, 7 + nameLength));
  } catch {
    throw new ProtocolError("Cannot decode binary event: name is not UTF-8");
  }
  if (name.length > MAX_EVENT_NAME) {
    throw new ProtocolError("Cannot decode binary event: bad event name");
  }
  const packet: Packet = { t: "e", n: name, d: bytes.slice(7 + nameLength) };
  if (id !== 0) packet.id = id;
  return packet;
}

/**
 * Rejected by an `emit(..., { ack: true })` whose answer did not come in time.
 *
 * @example A handler that never answers
 * ```ts
 * import { AckTimeoutError, connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({
 *   onConnection: (socket) => socket.on("stall", () => new Promise(() => {})),
 * });
 * await using client = await connectEvents(server.url);
 * try {
 *   await client.emit("stall", null, { ack: true, timeout: 50 });
 * } catch (error) {
 *   console.log(error instanceof AckTimeoutError); // true
 * }
 * ```
 */
export class AckTimeoutError extends Error {
  /** The event whose acknowledgement is missing. */
  readonly event: string;
  /** The timeout that passed, in milliseconds. */
  readonly timeout: number;
  /**
   * Creates the error for `event`, unanswered after `timeout` ms.
   *
   * @param event The event name.
   * @param timeout The timeout in milliseconds.
   */
  constructor(event: string, timeout: number) {
    super(
      `Cannot get acknowledgement for event ${
        JSON.stringify(event)
      }: no answer within ${timeout} ms`,
    );
    this.name = "AckTimeoutError";
    this.event = event;
    this.timeout = timeout;
  }
}

/** Bookkeeping for acknowledgements a side is waiting for. */
export class PendingAcks {
  #next = 1;
  #pending = new Map<number, {
    event: string;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
    timer: ReturnType<typeof setTimeout>;
  }>();

  /** Number of acknowledgements still awaited. */
  get size(): number {
    return this.#pending.size;
  }

  /** `true` while acknowledgement `id` is awaited. */
  has(id: number): boolean {
    return this.#pending.has(id);
  }

  /** Reserves an ack id and returns it with the promise of the answer. */
  create(event: string, timeout: number): [number, Promise<unknown>] {
    const id = this.#next;
    this.#next = this.#next >= 0xffffffff ? 1 : this.#next + 1;
    const promise = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AckTimeoutError(event, timeout));
      }, timeout);
      this.#pending.set(id, { event, resolve, reject, timer });
    });
    return [id, promise];
  }

  /** Settles acknowledgement `id` from a received `"a"` packet. */
  settle(id: number, data: unknown, error: string | undefined): void {
    const entry = this.#pending.get(id);
    if (!entry) return; // late answer after a timeout: dropped
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    if (error === undefined) entry.resolve(data);
    else {
      entry.reject(
        new Error(
          `Event ${JSON.stringify(entry.event)} failed on the peer: ${error}`,
        ),
      );
    }
  }

  /** Rejects acknowledgement `id` (its message could not be sent). */
  fail(id: number, error: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  /** Rejects every pending acknowledgement (the connection is gone). */
  rejectAll(reason: string): void {
    for (const [id, entry] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(entry.timer);
      entry.reject(
        new Error(
          `Cannot get acknowledgement for event ${
            JSON.stringify(entry.event)
          }: ${reason}`,
        ),
      );
    }
  }
}

/**
 * A handler for an event: its (awaited) return value is the acknowledgement.
 *
 * @example
 * ```ts
 * import type { EventHandler } from "@weft/weft/net";
 *
 * const double: EventHandler = (data) => Number(data) * 2;
 * console.log(double(21)); // 42
 * ```
 */
export type EventHandler = (data: unknown) => unknown;

/** Event handler registry shared by the server socket and the client. */
export class Handlers {
  #map = new Map<string, EventHandler[]>();

  add(event: string, handler: EventHandler): void {
    if (typeof handler !== "function") {
      throw new TypeError(
        "Cannot add event handler: handler is not a function",
      );
    }
    const list = this.#map.get(event);
    if (list) list.push(handler);
    else this.#map.set(event, [handler]);
  }

  remove(event: string, handler?: EventHandler): void {
    if (!handler) {
      this.#map.delete(event);
      return;
    }
    const list = this.#map.get(event);
    if (!list) return;
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#map.delete(event);
  }

  get(event: string): EventHandler[] | undefined {
    return this.#map.get(event);
  }

  clear(): void {
    this.#map.clear();
  }
}

/**
 * Runs the handlers of a received event, synchronously. Without an ack id,
 * errors (thrown or rejected) go to `onError` and nothing is returned; with
 * one, the result is a promise of the frame to send back: the first
 * handler's awaited value, its error, or "no handler".
 */
export function dispatchEvent(
  handlers: Handlers,
  packet: { n: string; d?: unknown; id?: number },
  onError: (error: unknown) => void,
): Promise<Frame> | undefined {
  const id = packet.id;
  const list = handlers.get(packet.n);
  if (!list || list.length === 0) {
    if (id === undefined) return undefined;
    return Promise.resolve(encodePacket({
      t: "a",
      id,
      e: `no handler for event ${JSON.stringify(packet.n)}`,
    }));
  }
  let first: unknown;
  const snapshot = list.length === 1 ? list : list.slice();
  for (let i = 0; i < snapshot.length; i++) {
    try {
      const result = snapshot[i](packet.d);
      if (i === 0 && id !== undefined) first = result;
      else if (result instanceof Promise) result.catch(onError);
    } catch (error) {
      if (i === 0 && id !== undefined) first = Promise.reject(error);
      else onError(error);
    }
  }
  if (id === undefined) return undefined;
  const failed = (error: unknown) =>
    encodePacket({
      t: "a",
      id,
      e: error instanceof Error ? error.message : String(error),
    });
  return Promise.resolve(first).then((value) => {
    try {
      return encodeData("a", id, value);
    } catch {
      return failed("the acknowledgement is not JSON-serializable");
    }
  }, failed);
}

/**
 * Size in bytes of `frame` when it exceeds `limit`, else 0. Skips the
 * UTF-8 count for text that cannot exceed the limit (3 bytes per unit).
 */
export function sizeOver(
  frame: string | ArrayBuffer | Uint8Array,
  limit: number,
): number {
  if (typeof frame === "string" && frame.length * 3 <= limit) return 0;
  const size = frameSize(frame);
  return size > limit ? size : 0;
}

/** Validates a positive millisecond option. */
export function checkMs(
  value: number | undefined,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Invalid option "${field}": expected a number`);
  }
  if (value <= 0) {
    throw new RangeError(`Invalid option "${field}": must be positive`);
  }
  return value;
}

/** Random session id: 16 bytes, URL-safe base64. */
export function newSessionId(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(16)))
    .replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Standard base64 of bytes (works in browsers and Deno). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) {
    binary += String.fromCharCode(bytes[i]);
  }
  return btoa(binary);
}

/** Decodes standard base64; `undefined` when it is not valid. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}
