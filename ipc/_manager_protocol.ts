/**
 * The manager's request/reply protocol (private).
 *
 * One client connection carries many concurrent calls, matched by a call id.
 * Every frame is `[u32 call id][body]` (big-endian id); the socket transport
 * adds a `u32` length in front (see `_manager_transport.ts`). Bodies are
 * binary (`_manager_codec.ts`): a kind byte, then typed values; values the
 * binary tags do not cover travel as the tagged JSON below.
 *
 * | step | client sends                          | server replies                          |
 * | ---- | ------------------------------------- | --------------------------------------- |
 * | 1    | `{ t: "call", o, m, a }` under id `n` | `{ t: "ok", v }` under id `n`           |
 * |      |                                       | or `{ t: "err", e: { name, message } }` (`stack` too with `debug`) |
 * | 2    | `{ t: "cancel" }` under id `n`        | the pending call `n` ends with an `err` named `AbortError` (no reply if `n` already ended) |
 *
 * Object id 0 is the manager itself (`create`, `release`, `register`,
 * `describe`, `shutdown`, `ping`). Values keep their types: the binary tags
 * cover `undefined`, `null`, booleans, every number (`-0`, `NaN` too),
 * strings, arrays, plain objects and `Uint8Array`; anything else (`bigint`,
 * `Map`, `Set`, `Date`, `RegExp`, `Error`) is JSON with tags for what JSON
 * lacks (`toWire`/`fromWire`).
 *
 * Failure rules: a frame whose body is malformed or not a known message
 * gets an `err` reply under its id (the connection stays up); a frame larger
 * than the receiver's cap gets an `err` reply named `RangeError` after its
 * bytes are skipped.
 *
 * @module
 */

import { errorToWire } from "../_internal/run_export.ts";

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

/** The tag key; plain objects that use it are escaped. */
const TAG = "$w";

/**
 * The tagged-JSON form of `value` (the general encoder, for what the
 * binary codec has no tag for): a value `JSON.stringify` keeps exactly.
 *
 * @throws {TypeError} For functions, symbols, class instances and cycles.
 */
export function toWire(value: unknown, seen: Set<object>): unknown {
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

/** The value `toWire` encoded, from its parsed JSON. */
export function fromWire(value: unknown): unknown {
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

/** Turns anything thrown into plain error fields for an `err` reply. */
export function errorInfo(error: unknown): ErrorInfo {
  // The one error shape of every runner boundary (`_internal/run_export.ts`);
  // a thrown non-Error becomes an Error named by its text.
  const wire = errorToWire(error);
  if ("error" in wire) return { ...wire.error };
  return { name: "Error", message: String(wire.thrown) };
}
