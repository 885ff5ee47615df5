/**
 * A fast path for `send`/`recv`'s default serializer (private).
 *
 * `node:v8`'s `serialize`/`deserialize` cost several microseconds per call
 * in Deno even for `{ a: 1 }` (a serializer object and several ops per
 * value). Most messages are small JSON-like values, so this file writes
 * and reads V8's own format (ValueSerializer, version 15) for exactly
 * these: numbers, strings, booleans, `null`, `undefined`, plain objects
 * (prototype `Object.prototype`, own enumerable string keys) and packed
 * arrays without extra properties. Anything else (Map, Date, typed arrays,
 * bigint, class instances, holes, shared or cyclic references, more than
 * {@linkcode MAX_OBJECTS} objects, more than {@linkcode MAX_BYTES} bytes)
 * makes the fast path give up and `node:v8` do the whole value, so the
 * bytes on the wire are always V8's format and either side may decode
 * them with `deserialize`.
 *
 * @module
 */
import { setOwn } from "../_internal/own_property.ts";
import { isProxy } from "node:util/types";
import { ByteWriter } from "../_internal/byte_writer.ts";

/** Objects and arrays a value may hold for the fast path. */
export const MAX_OBJECTS = 64;
/** Encoded size the fast path handles at most. */
export const MAX_BYTES = 16 * 1024;

const VERSION = 15;
const T_PADDING = 0x00;
const T_INT32 = 0x49; // 'I', zigzag varint
const T_UINT32 = 0x55; // 'U', varint
const T_DOUBLE = 0x4e; // 'N', float64 little-endian
const T_ONE_BYTE = 0x22; // '"', Latin-1
const T_TWO_BYTE = 0x63; // 'c', UTF-16LE
const T_TRUE = 0x54;
const T_FALSE = 0x46;
const T_NULL = 0x30;
const T_UNDEFINED = 0x5f;
const T_OBJECT = 0x6f; // 'o' ... '{' count
const T_END_OBJECT = 0x7b;
const T_DENSE_ARRAY = 0x41; // 'A' length ... '$' 0 length
const T_END_DENSE_ARRAY = 0x24;
const T_SPARSE_ARRAY = 0x61; // 'a' length, key/value pairs, '@' count length
const T_END_SPARSE_ARRAY = 0x40;
/** Longest sparse array the fast path reads (longer: node:v8). */
const MAX_SPARSE = 1 << 24;

/** Thrown inside the fast path to hand the value to `node:v8`. */
const GIVE_UP = Symbol("give up");

const w = new ByteWriter(1024);
const seen: object[] = [];
const utf8 = new TextEncoder();

function room(n: number): void {
  if (w.pos + n > MAX_BYTES) throw GIVE_UP;
  w.reserve(n);
}

function varint(n: number): void {
  room(5);
  while (n >= 0x80) {
    w.buf[w.pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  w.buf[w.pos++] = n;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeString(s: string): void {
  const n = s.length;
  if (n > 24) {
    // ASCII (the common case) through the native encoder
    room(n + 6);
    const at = w.pos;
    w.pos += 1 + varintSize(n);
    const { read, written } = utf8.encodeInto(
      s,
      w.buf.subarray(w.pos, w.pos + n),
    );
    if (read === n && written === n) {
      const end = w.pos + n;
      w.pos = at;
      w.buf[w.pos++] = T_ONE_BYTE;
      varint(n);
      w.pos = end;
      return;
    }
    w.pos = at;
  }
  let oneByte = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) > 0xff) {
      oneByte = false;
      break;
    }
  }
  if (oneByte) {
    room(n + 6);
    w.buf[w.pos++] = T_ONE_BYTE;
    varint(n);
    for (let i = 0; i < n; i++) w.buf[w.pos++] = s.charCodeAt(i);
    return;
  }
  // two-byte: V8 pads so that the characters start at an even offset
  room(2 * n + 7);
  if ((w.pos + 1 + varintSize(2 * n)) & 1) w.buf[w.pos++] = T_PADDING;
  w.buf[w.pos++] = T_TWO_BYTE;
  varint(2 * n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    w.buf[w.pos++] = c & 0xff;
    w.buf[w.pos++] = c >>> 8;
  }
}

function writeValue(v: unknown): void {
  switch (typeof v) {
    case "number":
      if ((v | 0) === v && !Object.is(v, -0)) {
        room(6);
        w.buf[w.pos++] = T_INT32;
        varint(((v << 1) ^ (v >> 31)) >>> 0);
      } else {
        room(9);
        w.buf[w.pos++] = T_DOUBLE;
        w.view.setFloat64(w.pos, v, true);
        w.pos += 8;
      }
      return;
    case "string":
      return writeString(v);
    case "boolean":
      room(1);
      w.buf[w.pos++] = v ? T_TRUE : T_FALSE;
      return;
    case "undefined":
      room(1);
      w.buf[w.pos++] = T_UNDEFINED;
      return;
    case "object":
      if (v === null) {
        room(1);
        w.buf[w.pos++] = T_NULL;
        return;
      }
      return writeObject(v);
    default:
      throw GIVE_UP; // bigint, symbol, function: node:v8 decides
  }
}

function writeObject(v: object): void {
  // shared and cyclic references keep their identity only through node:v8
  if (seen.length >= MAX_OBJECTS || seen.includes(v) || isProxy(v)) {
    throw GIVE_UP;
  }
  seen.push(v);
  const proto = Object.getPrototypeOf(v);
  if (proto === Array.prototype) {
    const array = v as unknown[];
    const n = array.length;
    // holes and extra properties: node:v8
    if (Object.keys(array).length !== n) throw GIVE_UP;
    room(6);
    w.buf[w.pos++] = T_DENSE_ARRAY;
    varint(n);
    for (let i = 0; i < n; i++) {
      const item = array[i];
      if (item === undefined && !(i in array)) throw GIVE_UP;
      writeValue(item);
    }
    room(11);
    w.buf[w.pos++] = T_END_DENSE_ARRAY;
    varint(0);
    varint(n);
    return;
  }
  if (proto !== Object.prototype) throw GIVE_UP;
  const keys = Object.keys(v);
  room(1);
  w.buf[w.pos++] = T_OBJECT;
  for (const key of keys) {
    writeString(key);
    writeValue((v as Record<string, unknown>)[key]);
  }
  room(6);
  w.buf[w.pos++] = T_END_OBJECT;
  varint(keys.length);
}

/**
 * `value` in V8's serialization format (an owned copy), or `undefined` if
 * it is not a value the fast path handles.
 */
export function encodeFast(value: unknown): Uint8Array | undefined {
  return encodeFastView(value)?.slice();
}

/**
 * Like {@linkcode encodeFast}, but a view of a buffer reused by the next
 * call (copy it before encoding again).
 */
export function encodeFastView(value: unknown): Uint8Array | undefined {
  w.pos = 0;
  try {
    room(2);
    w.buf[w.pos++] = 0xff;
    w.buf[w.pos++] = VERSION;
    writeValue(value);
  } catch (error) {
    if (error === GIVE_UP) return undefined;
    throw error; // a getter threw: as node:v8 would
  } finally {
    seen.length = 0;
  }
  return w.buf.subarray(0, w.pos);
}

// ---- decoding

let bytes: Uint8Array = new Uint8Array(0);
let at = 0;
let bytesView: DataView | undefined;
const EMPTY = new Uint8Array(0);
const utf8Decoder = new TextDecoder();

function readVarint(): number {
  let n = 0;
  let shift = 0;
  while (true) {
    if (at >= bytes.length || shift > 28) throw GIVE_UP;
    const b = bytes[at++];
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (n > 0xffffffff) throw GIVE_UP;
      return n;
    }
    shift += 7;
  }
}

function readOneByte(n: number): string {
  const b = bytes;
  const from = at;
  const end = from + n;
  if (end > b.length) throw GIVE_UP;
  at = end;
  if (n > 16) {
    // n characters and no replacement: every byte was ASCII (a byte of
    // 0x80 or more either starts a shorter sequence or is replaced)
    const ascii = utf8Decoder.decode(b.subarray(from, end));
    if (ascii.length === n && !ascii.includes("\ufffd")) return ascii;
  }
  let s = "";
  for (let i = from; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

function readTwoByte(n: number): string {
  const b = bytes;
  const from = at;
  const end = from + n;
  if ((n & 1) !== 0 || end > b.length) throw GIVE_UP;
  at = end;
  let s = "";
  for (let i = from; i < end; i += 2) {
    s += String.fromCharCode(b[i] | (b[i + 1] << 8));
  }
  return s;
}

function readTag(): number {
  while (at < bytes.length && bytes[at] === T_PADDING) at++;
  if (at >= bytes.length) throw GIVE_UP;
  return bytes[at++];
}

function readValue(): unknown {
  const tag = readTag();
  switch (tag) {
    case T_INT32: {
      const u = readVarint();
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    case T_UINT32:
      return readVarint();
    case T_DOUBLE: {
      if (at + 8 > bytes.length) throw GIVE_UP;
      bytesView ??= new DataView(bytes.buffer, bytes.byteOffset);
      const d = bytesView.getFloat64(at, true);
      at += 8;
      return d;
    }
    case T_ONE_BYTE:
      return readOneByte(readVarint());
    case T_TWO_BYTE:
      return readTwoByte(readVarint());
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_NULL:
      return null;
    case T_UNDEFINED:
      return undefined;
    case T_OBJECT:
      return readObject();
    case T_DENSE_ARRAY:
      return readArray();
    case T_SPARSE_ARRAY:
      return readSparseArray();
    default:
      throw GIVE_UP;
  }
}

function readObject(): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  let count = 0;
  while (true) {
    while (at < bytes.length && bytes[at] === T_PADDING) at++;
    if (bytes[at] === T_END_OBJECT) {
      at++;
      if (readVarint() !== count) throw GIVE_UP;
      return object;
    }
    const key = readValue();
    if (typeof key !== "string" && typeof key !== "number") throw GIVE_UP;
    const value = readValue();
    setOwn(object, key, value);
    count++;
  }
}

function readArray(): unknown[] {
  const n = readVarint();
  if (n > bytes.length - at) throw GIVE_UP; // each item takes a byte at least
  const array: unknown[] = [];
  for (let i = 0; i < n; i++) array.push(readValue());
  if (readTag() !== T_END_DENSE_ARRAY) throw GIVE_UP; // extra properties
  if (readVarint() !== 0 || readVarint() !== n) throw GIVE_UP;
  return array;
}

/** V8 writes arrays of holey kinds this way, holes or not. */
function readSparseArray(): unknown[] {
  const n = readVarint();
  if (n > MAX_SPARSE) throw GIVE_UP;
  const array: unknown[] = new Array(n);
  let count = 0;
  while (true) {
    while (at < bytes.length && bytes[at] === T_PADDING) at++;
    if (bytes[at] === T_END_SPARSE_ARRAY) {
      at++;
      if (readVarint() !== count || readVarint() !== n) throw GIVE_UP;
      return array;
    }
    const key = readValue();
    // indices only (extra properties, or "length": node:v8)
    if (typeof key !== "number" || !(key >= 0 && key < n && key % 1 === 0)) {
      throw GIVE_UP;
    }
    array[key] = readValue();
    count++;
  }
}

/** Sentinel: the fast path cannot decode these bytes (use `node:v8`). */
export const NOT_FAST: unique symbol = Symbol("not fast");

/**
 * The value in `frame` (V8's format) if it uses only what the fast path
 * writes, else {@linkcode NOT_FAST}. Never throws.
 */
export function decodeFast(frame: Uint8Array): unknown {
  if (frame.length < 3 || frame[0] !== 0xff || frame[1] !== VERSION) {
    return NOT_FAST;
  }
  bytes = frame;
  bytesView = undefined;
  at = 2;
  try {
    const value = readValue();
    return at === frame.length ? value : NOT_FAST;
  } catch {
    return NOT_FAST; // GIVE_UP, or a stack overflow on deep nesting
  } finally {
    bytes = EMPTY;
    bytesView = undefined;
  }
}
