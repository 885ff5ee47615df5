/**
 * The manager's request/reply protocol (private).
 *
 * One client connection carries many concurrent calls, matched by a call id.
 * Every frame is `[u32 call id][UTF-8 JSON body]` (big-endian id); the socket
 * transport adds a `u32` length in front (see `_manager_transport.ts`).
 *
 * | step | client sends                          | server replies                          |
 * | ---- | ------------------------------------- | --------------------------------------- |
 * | 1    | `{ t: "call", o, m, a }` under id `n` | `{ t: "ok", v }` under id `n`           |
 * |      |                                       | or `{ t: "err", e: { name, message } }` (`stack` too with `debug`) |
 * | 2    | `{ t: "cancel" }` under id `n`        | the pending call `n` ends with an `err` named `AbortError` (no reply if `n` already ended) |
 *
 * Object id 0 is the manager itself (`create`, `release`, `register`,
 * `describe`, `shutdown`, `ping`). Values are JSON with tags for what JSON
 * lacks (`undefined`, `bigint`, `NaN`/`Infinity`/`-0`, `Map`, `Set`, `Date`,
 * `Uint8Array`, `RegExp`, `Error`), so dict keys and values keep their types.
 *
 * Failure rules: a frame whose body is not valid JSON or not a known message
 * gets an `err` reply under its id (the connection stays up); a frame larger
 * than the receiver's cap gets an `err` reply named `RangeError` after its
 * bytes are skipped.
 *
 * @module
 */

/** Object id of the manager itself. */
export const ROOT_ID = 0;

/** Default cap on one frame (16 MiB), both directions. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/** A call of `m` on object `o` with arguments `a`. */
export interface CallMessage {
  t: "call";
  /** Object id. */
  o: number;
  /** Method name. */
  m: string;
  /** Arguments. */
  a: unknown[];
}

/** Asks the server to abandon the pending call with the same id. */
export interface CancelMessage {
  t: "cancel";
}

/** A successful reply. */
export interface OkMessage {
  t: "ok";
  v: unknown;
}

/** A failure, as plain fields. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** A failed reply. */
export interface ErrMessage {
  t: "err";
  e: ErrorInfo;
}

/** Anything a client sends. */
export type Request = CallMessage | CancelMessage;
/** Anything a server sends. */
export type Reply = OkMessage | ErrMessage;

/** One frame as a channel hands it over. */
export interface Frame {
  /** Call id. */
  id: number;
  /** The encoded body, or `undefined` when the frame was too large. */
  body?: Uint8Array;
  /** Size of a frame that was skipped for being over the cap. */
  oversize?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The tag key; plain objects that use it are escaped. */
const TAG = "$w";

function toWire(value: unknown, seen: Set<object>): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: "num", v: Object.is(value, -0) ? "-0" : String(value) };
    case "undefined":
      return { [TAG]: "undef" };
    case "bigint":
      return { [TAG]: "big", v: value.toString() };
    case "function":
    case "symbol":
      throw new TypeError(
        `Cannot send value to manager: a ${typeof value} cannot be cloned`,
      );
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) {
    throw new TypeError(
      "Cannot send value to manager: it contains a circular reference",
    );
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((v) => toWire(v, seen));
    if (object instanceof Map) {
      const pairs: unknown[] = [];
      for (const [k, v] of object) {
        pairs.push([toWire(k, seen), toWire(v, seen)]);
      }
      return { [TAG]: "map", v: pairs };
    }
    if (object instanceof Set) {
      return { [TAG]: "set", v: [...object].map((v) => toWire(v, seen)) };
    }
    if (object instanceof Date) return { [TAG]: "date", v: object.getTime() };
    if (object instanceof Uint8Array) {
      return { [TAG]: "u8", v: bytesToBase64(object) };
    }
    if (object instanceof RegExp) {
      return { [TAG]: "re", v: object.source, f: object.flags };
    }
    if (object instanceof Error) {
      return {
        [TAG]: "error",
        v: { name: object.name, message: object.message, stack: object.stack },
      };
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `Cannot send value to manager: a ${
          object.constructor?.name ?? "class instance"
        } is not a plain value`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) out[k] = toWire(v, seen);
    return TAG in out ? { [TAG]: "obj", v: out } : out;
  } finally {
    seen.delete(object);
  }
}

function fromWire(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(fromWire);
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (tag === undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) out[k] = fromWire(v);
    return out;
  }
  const v = record.v;
  switch (tag) {
    case "num":
      return Number(v);
    case "undef":
      return undefined;
    case "big":
      return BigInt(v as string);
    case "map":
      return new Map(
        (v as unknown[][]).map(([k, x]) => [fromWire(k), fromWire(x)]),
      );
    case "set":
      return new Set((v as unknown[]).map(fromWire));
    case "date":
      return new Date(v as number);
    case "u8":
      return base64ToBytes(v as string);
    case "re":
      return new RegExp(v as string, record.f as string);
    case "error": {
      const info = v as ErrorInfo;
      const error = new Error(info.message);
      error.name = info.name;
      if (info.stack !== undefined) error.stack = info.stack;
      return error;
    }
    case "obj": {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as object)) out[k] = fromWire(x);
      return out;
    }
  }
  throw new TypeError(`Cannot decode manager message: unknown tag "${tag}"`);
}

function bytesToBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function base64ToBytes(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * Encodes a message body (tagged JSON).
 *
 * @throws {TypeError} If a value cannot cross (functions, class instances,
 * circular references).
 */
export function encodeBody(message: Request | Reply): Uint8Array {
  // Most messages are plain JSON already: skip the copying walk for them.
  const wire = isPlainJson(message, 0) ? message : toWire(message, new Set());
  return encoder.encode(JSON.stringify(wire));
}

/**
 * True if `value` survives `JSON.stringify` unchanged and needs no tag:
 * strings, finite numbers (not -0), booleans, null, and arrays / plain
 * objects of them (a few levels deep, no `$w` key).
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > 4) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (key === TAG) return false;
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) {
      return false;
    }
  }
  return true;
}

/**
 * Decodes and validates a request body.
 *
 * @throws {TypeError} If it is not valid UTF-8 JSON or not a request.
 */
export function decodeRequest(body: Uint8Array): Request {
  const message = decodeAny(body);
  if (message.t === "cancel") return { t: "cancel" };
  if (
    message.t === "call" && Number.isSafeInteger(message.o) &&
    typeof message.m === "string" && Array.isArray(message.a)
  ) {
    return message as unknown as CallMessage;
  }
  throw new TypeError("Cannot decode manager request: unknown message shape");
}

/**
 * Decodes and validates a reply body.
 *
 * @throws {TypeError} If it is not valid UTF-8 JSON or not a reply.
 */
export function decodeReply(body: Uint8Array): Reply {
  const message = decodeAny(body);
  if (message.t === "ok") return message as unknown as OkMessage;
  if (
    message.t === "err" && typeof message.e === "object" && message.e !== null
  ) {
    const e = message.e as Record<string, unknown>;
    return {
      t: "err",
      e: {
        name: String(e.name),
        message: String(e.message),
        stack: typeof e.stack === "string" ? e.stack : undefined,
      },
    };
  }
  throw new TypeError("Cannot decode manager reply: unknown message shape");
}

function decodeAny(body: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  let text: string;
  try {
    text = decoder.decode(body);
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new TypeError("Cannot decode manager message: it is not UTF-8 JSON", {
      cause,
    });
  }
  // Without a tag anywhere in the text, the parsed value is final.
  const message = text.includes(`"${TAG}"`) ? fromWire(parsed) : parsed;
  if (typeof message !== "object" || message === null) {
    throw new TypeError("Cannot decode manager message: it is not an object");
  }
  return message as Record<string, unknown>;
}

/** Turns anything thrown into plain error fields for an `err` reply. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: "Error", message: String(error) };
}
