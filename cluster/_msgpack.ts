// A small MessagePack encoder/decoder for Socket.IO's Redis bus. It
// matches what the Node adapters' codec (notepack.io) writes and reads:
// `undefined` as nil (and the legacy fixext 0 read back as `undefined`),
// Date as the timestamp extension (type -1), byte arrays as bin (decoded as
// Uint8Array), map keys as strings, object fields whose value is
// `undefined` or a function left out, `toJSON()` honoured. Sizes are
// checked against the input before anything is allocated, and nesting is
// capped, so a hostile message cannot make us allocate or recurse past it.

import { setOwn } from "../_internal/own_property.ts";
import { ByteWriter } from "../_internal/byte_writer.ts";

const MAX_DEPTH = 100;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** `v`, then `value` big-endian in `size` bytes (a MessagePack head). */
function head(w: ByteWriter, v: number, size: 1 | 2 | 4, value: number): void {
  w.reserve(1 + size);
  w.buf[w.pos++] = v;
  if (size === 1) w.buf[w.pos] = value;
  else if (size === 2) w.view.setUint16(w.pos, value);
  else w.view.setUint32(w.pos, value);
  w.pos += size;
}

function sized(
  w: ByteWriter,
  n: number,
  fix: number | undefined,
  fixMax: number,
  c8: number | undefined,
  c16: number,
  c32: number,
): void {
  if (fix !== undefined && n < fixMax) w.u8(fix | n);
  else if (c8 !== undefined && n < 0x100) head(w, c8, 1, n);
  else if (n < 0x10000) head(w, c16, 2, n);
  else head(w, c32, 4, n);
}

function encodeNumber(w: ByteWriter, v: number): void {
  if (!Number.isInteger(v) || !Number.isSafeInteger(v)) {
    w.reserve(9);
    w.buf[w.pos++] = 0xcb;
    w.view.setFloat64(w.pos, v);
    w.pos += 8;
    return;
  }
  if (v >= 0) {
    if (v < 0x80) w.u8(v);
    else if (v < 0x100) head(w, 0xcc, 1, v);
    else if (v < 0x10000) head(w, 0xcd, 2, v);
    else if (v < 0x100000000) head(w, 0xce, 4, v);
    else {
      w.reserve(9);
      w.buf[w.pos++] = 0xcf;
      w.view.setBigUint64(w.pos, BigInt(v));
      w.pos += 8;
    }
    return;
  }
  if (v >= -0x20) w.u8(v & 0xff);
  else if (v >= -0x80) {
    w.reserve(2);
    w.buf[w.pos++] = 0xd0;
    w.view.setInt8(w.pos++, v);
  } else if (v >= -0x8000) {
    w.reserve(3);
    w.buf[w.pos++] = 0xd1;
    w.view.setInt16(w.pos, v);
    w.pos += 2;
  } else if (v >= -0x80000000) {
    w.reserve(5);
    w.buf[w.pos++] = 0xd2;
    w.view.setInt32(w.pos, v);
    w.pos += 4;
  } else {
    w.reserve(9);
    w.buf[w.pos++] = 0xd3;
    w.view.setBigInt64(w.pos, BigInt(v));
    w.pos += 8;
  }
}

function encodeDate(w: ByteWriter, d: Date): void {
  const ms = d.getTime();
  const s = Math.floor(ms / 1000);
  const ns = (ms - s * 1000) * 1e6;
  if (s >= 0 && s < 0x400000000) {
    if (ns === 0 && s < 0x100000000) {
      w.reserve(6);
      w.buf[w.pos++] = 0xd6;
      w.buf[w.pos++] = 0xff;
      w.view.setUint32(w.pos, s);
      w.pos += 4;
      return;
    }
    w.reserve(10);
    w.buf[w.pos++] = 0xd7;
    w.buf[w.pos++] = 0xff;
    w.view.setUint32(w.pos, ns * 4 + Math.floor(s / 0x100000000));
    w.view.setUint32(w.pos + 4, s >>> 0);
    w.pos += 8;
    return;
  }
  w.reserve(15);
  w.buf[w.pos++] = 0xc7;
  w.buf[w.pos++] = 12;
  w.buf[w.pos++] = 0xff;
  w.view.setUint32(w.pos, ns);
  w.view.setBigInt64(w.pos + 4, BigInt(s));
  w.pos += 12;
}

function encodeValue(w: ByteWriter, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new RangeError(
      `Cannot encode message: nested deeper than ${MAX_DEPTH}`,
    );
  }
  switch (typeof v) {
    case "undefined":
      w.u8(0xc0);
      return;
    case "boolean":
      w.u8(v ? 0xc3 : 0xc2);
      return;
    case "number":
      encodeNumber(w, v);
      return;
    case "bigint":
      if (v >= -(2n ** 63n) && v < 2n ** 64n) {
        w.reserve(9);
        w.buf[w.pos++] = v >= 0n ? 0xcf : 0xd3;
        if (v >= 0n) w.view.setBigUint64(w.pos, v);
        else w.view.setBigInt64(w.pos, v);
        w.pos += 8;
        return;
      }
      throw new RangeError("Cannot encode message: bigint out of 64-bit range");
    case "string": {
      const bytes = encoder.encode(v);
      sized(w, bytes.length, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
      w.bytes(bytes);
      return;
    }
    case "object":
      break;
    default:
      throw new TypeError(`Cannot encode message: ${typeof v} value`);
  }
  if (v === null) return w.u8(0xc0);
  if (Array.isArray(v)) {
    sized(w, v.length, 0x90, 0x10, undefined, 0xdc, 0xdd);
    for (const item of v) encodeValue(w, item, depth + 1);
    return;
  }
  if (v instanceof Date) return encodeDate(w, v);
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes = v instanceof ArrayBuffer
      ? new Uint8Array(v)
      : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    sized(w, bytes.length, undefined, 0, 0xc4, 0xc5, 0xc6);
    w.bytes(bytes);
    return;
  }
  const json = (v as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") {
    return encodeValue(w, json.call(v), depth + 1);
  }
  const record = v as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) =>
    record[k] !== undefined && typeof record[k] !== "function"
  );
  sized(w, keys.length, 0x80, 0x10, undefined, 0xde, 0xdf);
  for (const key of keys) {
    encodeValue(w, key, depth + 1);
    encodeValue(w, record[key], depth + 1);
  }
}

/** Encodes a value as MessagePack (notepack.io-compatible). */
export function _encode(value: unknown): Uint8Array {
  const w = new ByteWriter();
  encodeValue(w, value, 0);
  return w.result();
}

// DataView getters for _Reader.fixed (big-endian, as MessagePack is).
const U8 = (v: DataView, at: number) => v.getUint8(at);
const U16 = (v: DataView, at: number) => v.getUint16(at);
const U32 = (v: DataView, at: number) => v.getUint32(at);
const U64 = (v: DataView, at: number) => v.getBigUint64(at);
const I16 = (v: DataView, at: number) => v.getInt16(at);
const I32 = (v: DataView, at: number) => v.getInt32(at);
const I64 = (v: DataView, at: number) => v.getBigInt64(at);
const F32 = (v: DataView, at: number) => v.getFloat32(at);
const F64 = (v: DataView, at: number) => v.getFloat64(at);

class _Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RangeError("Cannot decode message: truncated MessagePack");
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  uint(size: 1 | 2 | 4): number {
    return this.fixed(size, size === 1 ? U8 : size === 2 ? U16 : U32);
  }

  /** A fixed-size big-endian number: `size` bytes read by `read`. */
  fixed<T>(size: number, read: (view: DataView, at: number) => T): T {
    this.need(size);
    const v = read(this.view, this.pos);
    this.pos += size;
    return v;
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(n: number): string {
    this.need(n);
    const s = decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

function big(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
      v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function decodeExt(r: _Reader, n: number): unknown {
  r.need(1);
  const type = r.view.getInt8(r.pos++);
  if (type === 0 && n === 1) {
    r.take(1);
    return undefined; // notepack's legacy `undefined`
  }
  if (type === -1) {
    r.need(n);
    const at = r.pos;
    let date: Date | undefined;
    if (n === 4) date = new Date(r.view.getUint32(at) * 1000);
    else if (n === 8) {
      const hi = r.view.getUint32(at);
      const lo = r.view.getUint32(at + 4);
      const s = (hi & 0x3) * 0x100000000 + lo;
      date = new Date(s * 1000 + (hi >>> 2) / 1e6);
    } else if (n === 12) {
      const ns = r.view.getUint32(at);
      const s = Number(r.view.getBigInt64(at + 4));
      date = new Date(s * 1000 + ns / 1e6);
    }
    if (date) {
      r.pos += n;
      return date;
    }
  }
  return { type, data: r.take(n) }; // unknown extension: kept as bytes
}

function decodeValue(r: _Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) {
    throw new RangeError(
      `Cannot decode message: nested deeper than ${MAX_DEPTH}`,
    );
  }
  const b = r.u8();
  if (b < 0x80) return b;
  if (b < 0x90) return decodeMap(r, b & 0x0f, depth);
  if (b < 0xa0) return decodeArray(r, b & 0x0f, depth);
  if (b < 0xc0) return r.str(b & 0x1f);
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return r.take(r.uint(1));
    case 0xc5:
      return r.take(r.uint(2));
    case 0xc6:
      return r.take(r.uint(4));
    case 0xc7:
      return decodeExt(r, r.uint(1));
    case 0xc8:
      return decodeExt(r, r.uint(2));
    case 0xc9:
      return decodeExt(r, r.uint(4));
    case 0xca:
      return r.fixed(4, F32);
    case 0xcb:
      return r.fixed(8, F64);
    case 0xcc:
      return r.uint(1);
    case 0xcd:
      return r.uint(2);
    case 0xce:
      return r.uint(4);
    case 0xcf:
      return big(r.fixed(8, U64));
    case 0xd0: {
      r.need(1);
      return r.view.getInt8(r.pos++);
    }
    case 0xd1:
      return r.fixed(2, I16);
    case 0xd2:
      return r.fixed(4, I32);
    case 0xd3:
      return big(r.fixed(8, I64));
    case 0xd4:
      return decodeExt(r, 1);
    case 0xd5:
      return decodeExt(r, 2);
    case 0xd6:
      return decodeExt(r, 4);
    case 0xd7:
      return decodeExt(r, 8);
    case 0xd8:
      return decodeExt(r, 16);
    case 0xd9:
      return r.str(r.uint(1));
    case 0xda:
      return r.str(r.uint(2));
    case 0xdb:
      return r.str(r.uint(4));
    case 0xdc:
      return decodeArray(r, r.uint(2), depth);
    case 0xdd:
      return decodeArray(r, r.uint(4), depth);
    case 0xde:
      return decodeMap(r, r.uint(2), depth);
    case 0xdf:
      return decodeMap(r, r.uint(4), depth);
  }
  throw new TypeError(
    `Cannot decode message: unknown MessagePack byte 0x${b.toString(16)}`,
  );
}

function decodeArray(r: _Reader, n: number, depth: number): unknown[] {
  r.need(n); // every item takes at least one byte
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = decodeValue(r, depth + 1);
  return out;
}

function decodeMap(
  r: _Reader,
  n: number,
  depth: number,
): Record<string, unknown> {
  r.need(2 * n);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = String(decodeValue(r, depth + 1));
    const value = decodeValue(r, depth + 1);
    setOwn(out, key, value);
  }
  return out;
}

/** Decodes one MessagePack value; throws on truncated or trailing bytes. */
export function _decode(bytes: Uint8Array): unknown {
  const r = new _Reader(bytes);
  const value = decodeValue(r, 0);
  if (r.pos !== bytes.length) {
    throw new TypeError("Cannot decode message: trailing bytes");
  }
  return value;
}
