/**
 * How a queue item is stored (private): one encoding per kind of value,
 * chosen for speed.
 *
 * undefined / null / booleans / numbers live in the slot itself; strings are
 * UTF-8; `Uint8Array`s are copied raw; plain JSON-safe trees (plain objects
 * and arrays of strings, finite numbers, booleans and null) are JSON; every
 * other structured-cloneable value goes through `node:v8` serialization.
 *
 * @module
 */

import {
  deserialize as v8Deserialize,
  serialize as v8Serialize,
} from "node:v8";
import { isJsonSafe, type JsonSafeRules } from "../_internal/json_safe.ts";

export const TAG_UNDEFINED = 0;
export const TAG_NULL = 1;
export const TAG_TRUE = 2;
export const TAG_FALSE = 3;
export const TAG_NUMBER = 4;
export const TAG_STRING = 5;
export const TAG_BYTES = 6;
export const TAG_JSON = 7;
export const TAG_V8 = 8;

/** Longest text encoded into the per-thread scratch buffer. */
const SCRATCH_MAX = 16384;
let scratchBuffer: Uint8Array | undefined;

/** The per-thread scratch buffer (allocated on first use). */
function scratch(): Uint8Array {
  return scratchBuffer ??= new Uint8Array(SCRATCH_MAX * 3);
}

/** True if `bytes` live in the scratch buffer (copy before reusing it). */
export function inScratch(bytes: Uint8Array): boolean {
  return scratchBuffer !== undefined && bytes.buffer === scratchBuffer.buffer;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Zero bytes (items stored in the slot itself). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** An item ready to store. */
export interface Encoded {
  tag: number;
  bytes: Uint8Array;
  number: number;
}

/** An item as read from the queue (under its lock). */
export interface Popped {
  tag: number;
  bytes: Uint8Array;
  number: number;
  /** Strings and JSON are decoded straight from shared memory. */
  text?: string;
}

/** Queue items: up to 32 levels deep, no null-prototype objects, no reserved key. */
const JSON_RULES: JsonSafeRules = { maxDepth: 32 };

const SHORT_TEXT = 256;
const units: number[] = [];

/**
 * UTF-8 of `text`; short texts go into a per-thread scratch buffer (no
 * allocation), which the caller copies into the queue before encoding again.
 * Short ASCII is written by hand: faster than `encodeInto` at this size.
 */
function encodeText(text: string): Uint8Array {
  const n = text.length;
  const buffer = scratch();
  if (n <= SHORT_TEXT) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      buffer[i] = c;
    }
    if (i === n) return buffer.subarray(0, n);
  }
  if (n <= SCRATCH_MAX) {
    const { written } = encoder.encodeInto(text, buffer);
    return buffer.subarray(0, written);
  }
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 written by {@linkcode encodeText} (so well-formed) from
 * shared memory. Short texts are decoded by hand: `TextDecoder` is several
 * times slower on a SharedArrayBuffer view than the copy it would need.
 */
export function decodeText(
  data: Uint8Array,
  offset: number,
  size: number,
): string {
  if (size > SHORT_TEXT) {
    return decoder.decode(data.slice(offset, offset + size));
  }
  units.length = 0;
  const end = offset + size;
  for (let i = offset; i < end;) {
    const b = data[i++];
    if (b < 0x80) {
      units.push(b);
    } else if (b < 0xe0) {
      units.push(((b & 0x1f) << 6) | (data[i++] & 0x3f));
    } else if (b < 0xf0) {
      units.push(
        ((b & 0x0f) << 12) | ((data[i++] & 0x3f) << 6) | (data[i++] & 0x3f),
      );
    } else {
      const cp = (((b & 0x07) << 18) | ((data[i++] & 0x3f) << 12) |
        ((data[i++] & 0x3f) << 6) |
        (data[i++] & 0x3f)) - 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    }
  }
  return String.fromCharCode.apply(null, units);
}

/** Encodes one item (outside the lock). */
export function encodeItem(value: unknown): Encoded {
  switch (typeof value) {
    case "undefined":
      return { tag: TAG_UNDEFINED, bytes: EMPTY_BYTES, number: 0 };
    case "boolean":
      return {
        tag: value ? TAG_TRUE : TAG_FALSE,
        bytes: EMPTY_BYTES,
        number: 0,
      };
    case "number":
      return { tag: TAG_NUMBER, bytes: EMPTY_BYTES, number: value };
    case "string":
      // UTF-8 cannot carry lone surrogates: those strings take the v8 path.
      if (value.isWellFormed()) {
        return { tag: TAG_STRING, bytes: encodeText(value), number: 0 };
      }
      break;
  }
  if (value === null) return { tag: TAG_NULL, bytes: EMPTY_BYTES, number: 0 };
  if (
    value instanceof Uint8Array && value.constructor === Uint8Array &&
    !(value.buffer instanceof SharedArrayBuffer)
  ) {
    return { tag: TAG_BYTES, bytes: value, number: 0 };
  }
  if (isJsonSafe(value, JSON_RULES)) {
    return {
      tag: TAG_JSON,
      bytes: encodeText(JSON.stringify(value)),
      number: 0,
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = v8Serialize(value);
  } catch (error) {
    throw new TypeError(
      "Cannot put item: it is not structured-cloneable into bytes " +
        "(functions, symbols, SharedArrayBuffers and weft objects cannot be queued)",
      { cause: error },
    );
  }
  return { tag: TAG_V8, bytes, number: 0 };
}

/** Rebuilds the value of a popped item. */
export function decodeItem({ tag, bytes, number, text }: Popped): unknown {
  switch (tag) {
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_TRUE:
      return true;
    case TAG_FALSE:
      return false;
    case TAG_NUMBER:
      return number;
    case TAG_STRING:
      return text;
    case TAG_BYTES:
      return bytes;
    case TAG_JSON:
      return JSON.parse(text!);
    case TAG_V8:
      return v8Deserialize(bytes);
  }
  throw new RangeError(`Cannot get item: unknown encoding tag ${tag}`);
}
