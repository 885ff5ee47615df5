/**
 * The manager's binary message bodies (private): what goes after the call
 * id in every frame of the weft manager protocol (`_manager_protocol.ts`
 * has the message shapes and the steps).
 *
 * A body starts with its kind:
 *
 * | kind | message | then                                                  |
 * | ---- | ------- | ----------------------------------------------------- |
 * | 1    | call    | `u32` object id, method (a string value), args (an array value) |
 * | 2    | cancel  | nothing                                               |
 * | 3    | ok      | one value                                             |
 * | 4    | err     | name, message (string values), `u8` 1 + stack string, or 0 |
 *
 * A value is a tag byte, then (all integers big-endian):
 *
 * | tag | value                       | then                                 |
 * | --- | --------------------------- | ------------------------------------ |
 * | 0–3 | `undefined`, `null`, `false`, `true` | nothing                     |
 * | 4   | integer in [-128, 127]      | `i8`                                 |
 * | 5   | integer in int32 range      | `i32`                                |
 * | 6   | any other number (`-0`, `NaN`, `Infinity` too) | `f64`             |
 * | 7   | string, under 256 UTF-8 bytes | `u8` length, UTF-8                 |
 * | 8   | string                      | `u32` length, UTF-8                  |
 * | 9   | array                       | `u32` count, values                  |
 * | 10  | plain object                | `u32` count, (key string value, value) pairs |
 * | 11  | `Uint8Array`                | `u32` length, bytes                  |
 * | 12  | anything else (`Map`, `Set`, `Date`, `bigint`, `RegExp`, `Error`, or nesting deeper than 64) | `u32` length, the protocol's tagged JSON (`toWire`) |
 *
 * The common calls (small ints, short strings, plain JSON-like values)
 * thus never go through text JSON; the tagged JSON encoder is kept for the
 * rest. Encoding writes into one reused buffer and hands out a view, valid
 * until the next encode (the channel copies it into its write buffer at
 * once); decoding reads from a view and allocates only the values.
 *
 * A body that is truncated, has trailing bytes, an unknown kind or tag,
 * invalid UTF-8 or nesting deeper than 512 is refused with `TypeError`.
 *
 * @module
 */

import { setOwn } from "../_internal/own_property.ts";
import { ByteWriter } from "../_internal/byte_writer.ts";
import {
  type CallMessage,
  type ErrorInfo,
  fromWire,
  type Reply,
  type Request,
  toWire,
} from "./_manager_protocol.ts";

const CALL = 1;
const CANCEL = 2;
const OK = 3;
const ERR = 4;

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT8 = 4;
const T_INT32 = 5;
const T_FLOAT = 6;
const T_STR8 = 7;
const T_STR32 = 8;
const T_ARRAY = 9;
const T_OBJECT = 10;
const T_BYTES = 11;
const T_TAGGED = 12;

/** Deeper values are encoded as tagged JSON (which also finds cycles). */
const MAX_BINARY_DEPTH = 64;
/** Deeper bodies are refused when decoding. */
const MAX_DECODE_DEPTH = 512;
/** A reused buffer grown past this is dropped after use. */
const KEEP_BUFFER = 1 << 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------------
// Writing

class Writer extends ByteWriter {
  busy = false;

  constructor() {
    super(4096);
  }

  /** A string value (tag, length, UTF-8). */
  string(text: string): void {
    const n = text.length;
    // Most strings are short ASCII: copy the char codes, no native call.
    if (n < 256) {
      this.reserve(n + 2);
      const buf = this.buf;
      const at = this.pos + 2;
      let i = 0;
      for (; i < n; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        buf[at + i] = code;
      }
      if (i === n) {
        buf[this.pos] = T_STR8;
        buf[this.pos + 1] = n;
        this.pos = at + n;
        return;
      }
    }
    // Anything else: TextEncoder into room for the worst case (3 bytes
    // per UTF-16 unit), with a u32 length.
    this.reserve(5 + n * 3);
    const written = this.utf8At(text, this.pos + 5);
    this.buf[this.pos] = T_STR32;
    this.view.setUint32(this.pos + 1, written);
    this.pos += 5 + written;
  }

  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        if ((value | 0) === value && !Object.is(value, -0)) {
          if (value >= -128 && value <= 127) {
            this.reserve(2);
            this.buf[this.pos] = T_INT8;
            this.buf[this.pos + 1] = value & 0xff;
            this.pos += 2;
          } else {
            this.reserve(5);
            this.buf[this.pos] = T_INT32;
            this.view.setInt32(this.pos + 1, value);
            this.pos += 5;
          }
        } else {
          this.reserve(9);
          this.buf[this.pos] = T_FLOAT;
          this.view.setFloat64(this.pos + 1, value);
          this.pos += 9;
        }
        return;
      case "boolean":
        return this.u8(value ? T_TRUE : T_FALSE);
      case "undefined":
        return this.u8(T_UNDEFINED);
      case "object":
        if (value === null) return this.u8(T_NULL);
        if (depth < MAX_BINARY_DEPTH) {
          if (Array.isArray(value)) return this.array(value, depth + 1);
          const proto = Object.getPrototypeOf(value);
          if (proto === Object.prototype || proto === null) {
            return this.object(value as Record<string, unknown>, depth + 1);
          }
          if (value instanceof Uint8Array) return this.binary(value);
        }
        break;
      case "function":
      case "symbol":
        throw new TypeError(
          `Cannot send value to manager: a ${typeof value} cannot be cloned`,
        );
    }
    this.tagged(value);
  }

  array(items: readonly unknown[], depth: number): void {
    const n = items.length;
    this.reserve(5);
    this.buf[this.pos] = T_ARRAY;
    this.view.setUint32(this.pos + 1, n);
    this.pos += 5;
    for (let i = 0; i < n; i++) this.value(items[i], depth);
  }

  object(record: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(record);
    this.reserve(5);
    this.buf[this.pos] = T_OBJECT;
    this.view.setUint32(this.pos + 1, keys.length);
    this.pos += 5;
    for (const key of keys) {
      this.string(key);
      this.value(record[key], depth);
    }
  }

  binary(bytes: Uint8Array): void {
    this.reserve(5 + bytes.length);
    this.buf[this.pos] = T_BYTES;
    this.view.setUint32(this.pos + 1, bytes.length);
    this.buf.set(bytes, this.pos + 5);
    this.pos += 5 + bytes.length;
  }

  /** The general path: the protocol's tagged JSON (throws what it throws). */
  tagged(value: unknown): void {
    const text = encoder.encode(JSON.stringify(toWire(value, new Set())));
    this.reserve(5 + text.length);
    this.buf[this.pos] = T_TAGGED;
    this.view.setUint32(this.pos + 1, text.length);
    this.buf.set(text, this.pos + 5);
    this.pos += 5 + text.length;
  }
}

const shared = new Writer();

/**
 * Runs `write` on the shared writer (or a fresh one if a getter inside a
 * value re-entered) and returns a view of what it wrote.
 */
function encodeWith(write: (w: Writer) => void): Uint8Array {
  const w = shared.busy ? new Writer() : shared;
  w.busy = true;
  w.pos = 0;
  try {
    write(w);
    const out = w.buf.subarray(0, w.pos);
    // do not keep a huge buffer alive; the view still holds this one
    if (w === shared) w.reset(KEEP_BUFFER);
    return out;
  } finally {
    w.busy = false;
  }
}

/**
 * The body of a call of `method` on object `objectId`: a view valid until
 * the next encode.
 *
 * @throws {TypeError} If an argument cannot cross (functions, class
 * instances, circular references).
 */
export function encodeCall(
  objectId: number,
  method: string,
  args: readonly unknown[],
): Uint8Array {
  return encodeWith((w) => {
    w.u8(CALL);
    w.u32(objectId);
    w.string(method);
    w.array(args, 1);
  });
}

/** The body of an ok reply carrying `value` (a view, as above). */
export function encodeOk(value: unknown): Uint8Array {
  return encodeWith((w) => {
    w.u8(OK);
    w.value(value, 0);
  });
}

/** The body of an error reply (a view, as above). */
export function encodeErr(info: ErrorInfo): Uint8Array {
  return encodeWith((w) => {
    w.u8(ERR);
    w.string(String(info.name));
    w.string(String(info.message));
    if (typeof info.stack === "string") {
      w.u8(1);
      w.string(info.stack);
    } else w.u8(0);
  });
}

const CANCEL_BODY = new Uint8Array([CANCEL]);

/** The body of a cancel (a constant: never write into it). */
export function encodeCancel(): Uint8Array {
  return CANCEL_BODY;
}

/**
 * Encodes any message (a fresh copy, for tests and rare paths).
 *
 * @throws {TypeError} If a value cannot cross.
 */
export function encodeBody(message: Request | Reply): Uint8Array {
  switch (message.t) {
    case "call":
      return encodeCall(message.o, message.m, message.a).slice();
    case "cancel":
      return CANCEL_BODY.slice();
    case "ok":
      return encodeOk(message.v).slice();
    case "err":
      return encodeErr(message.e).slice();
  }
}

// ---------------------------------------------------------------------------
// Reading

function malformed(what: string): TypeError {
  return new TypeError(`Cannot decode manager message: ${what}`);
}

const scratch = new DataView(new ArrayBuffer(8));

/** Reads a body (one shared instance: decoding runs no user code). */
class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;

  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.pos = 0;
    return this;
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw malformed("it is truncated");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  i32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  u32(): number {
    return this.i32() >>> 0;
  }

  text(n: number): string {
    this.need(n);
    const buf = this.buf;
    const at = this.pos;
    this.pos += n;
    if (n <= 32) {
      let out = "";
      let i = 0;
      for (; i < n; i++) {
        const byte = buf[at + i];
        if (byte >= 0x80) break;
        out += String.fromCharCode(byte);
      }
      if (i === n) return out;
    }
    try {
      return decoder.decode(buf.subarray(at, at + n));
    } catch (cause) {
      throw new TypeError("Cannot decode manager message: invalid UTF-8", {
        cause,
      });
    }
  }

  string(): string {
    const tag = this.u8();
    if (tag === T_STR8) return this.text(this.u8());
    if (tag === T_STR32) return this.text(this.u32());
    throw malformed("a string was expected");
  }

  value(depth: number): unknown {
    const tag = this.u8();
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT8:
        return (this.u8() << 24) >> 24;
      case T_INT32:
        return this.i32();
      case T_FLOAT: {
        this.need(8);
        for (let i = 0; i < 8; i++) scratch.setUint8(i, this.buf[this.pos + i]);
        this.pos += 8;
        return scratch.getFloat64(0);
      }
      case T_STR8:
        return this.text(this.u8());
      case T_STR32:
        return this.text(this.u32());
      case T_ARRAY:
        return this.array(depth);
      case T_OBJECT: {
        if (depth >= MAX_DECODE_DEPTH) throw malformed("it is nested too deep");
        const n = this.u32();
        this.need(n * 3); // each pair is at least 3 bytes
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.string();
          const value = this.value(depth + 1);
          setOwn(out, key, value);
        }
        return out;
      }
      case T_BYTES: {
        const n = this.u32();
        this.need(n);
        const out = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case T_TAGGED: {
        const text = this.text(this.u32());
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (cause) {
          throw new TypeError(
            "Cannot decode manager message: a value is not JSON",
            { cause },
          );
        }
        return fromWire(parsed);
      }
    }
    throw malformed(`unknown value tag ${tag}`);
  }

  array(depth: number): unknown[] {
    if (depth >= MAX_DECODE_DEPTH) throw malformed("it is nested too deep");
    const n = this.u32();
    this.need(n); // each value is at least 1 byte
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw malformed("it has trailing bytes");
  }
}

const reader = new Reader();
const EMPTY = new Uint8Array(0);

/**
 * Decodes and validates a request body (a view is fine: nothing keeps it).
 *
 * @throws {TypeError} If it is not a well-formed request.
 */
export function decodeRequest(body: Uint8Array): Request {
  return decodeWith(body, readRequest);
}

/** Runs `read` on the shared reader over `body`; keeps no reference to it. */
function decodeWith<T>(body: Uint8Array, read: (r: Reader) => T): T {
  try {
    return read(reader.reset(body));
  } finally {
    reader.reset(EMPTY);
  }
}

function readRequest(r: Reader): Request {
  const kind = r.u8();
  if (kind === CANCEL) {
    r.end();
    return { t: "cancel" };
  }
  if (kind !== CALL) throw malformed(`a request of kind ${kind}`);
  const o = r.u32();
  const m = r.string();
  if (r.u8() !== T_ARRAY) throw malformed("the arguments are not an array");
  const a = r.array(1);
  r.end();
  const call: CallMessage = { t: "call", o, m, a };
  return call;
}

/**
 * Decodes and validates a reply body (a view is fine: nothing keeps it).
 *
 * @throws {TypeError} If it is not a well-formed reply.
 */
export function decodeReply(body: Uint8Array): Reply {
  return decodeWith(body, readReply);
}

function readReply(r: Reader): Reply {
  const kind = r.u8();
  if (kind === OK) {
    const v = r.value(0);
    r.end();
    return { t: "ok", v };
  }
  if (kind !== ERR) throw malformed(`a reply of kind ${kind}`);
  const name = r.string();
  const message = r.string();
  const stack = r.u8() === 1 ? r.string() : undefined;
  r.end();
  return { t: "err", e: { name, message, stack } };
}
