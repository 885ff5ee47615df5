// The pickler: JavaScript values to pickle protocol 2-5 bytes, following
// the value mapping of pickle.ts. Recursive with a depth limit (a value too
// deep for it is also too deep for Python's own unpickled objects).

import { ByteWriter, type WriterBuffer } from "../_internal/byte_writer.ts";
import * as op from "./_pickle_opcodes.ts";
import { PicklingError } from "./pickle_error.ts";
import {
  PyByteArray,
  PyComplex,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyGlobal,
  PyReduce,
  Tuple,
} from "./pickle_values.ts";
import { _encodeUtf8, _encodeUtf8Into } from "./_pickle_text.ts";
import { _temporalRecipe } from "./_pickle_temporal.ts";

const BATCH = 1000; // items per APPENDS/SETITEMS, as Python

const SET = new PyGlobal("builtins", "set");
const FROZENSET = new PyGlobal("builtins", "frozenset");
const BYTEARRAY = new PyGlobal("builtins", "bytearray");
const BYTES = new PyGlobal("builtins", "bytes");
const CODECS_ENCODE = new PyGlobal("_codecs", "encode");
const GETATTR = new PyGlobal("builtins", "getattr");
const COMPLEX = new PyGlobal("builtins", "complex");
const DECIMAL = new PyGlobal("decimal", "Decimal");

// One scratch buffer reused across calls (dumps is synchronous); only the
// finished pickle is copied out.
let shared: WriterBuffer | null = new ByteWriter(1 << 12);

export interface _WriteOptions {
  protocol: number;
  maxDepth: number;
}

// LIMITS[n]: 2**(8n-1), the first magnitude that needs more than n bytes.
const LIMITS: bigint[] = Array.from(
  { length: 33 },
  (_, n) => n === 0 ? 0n : 1n << BigInt(8 * n - 1),
);

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

function kind(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    return value.constructor?.name ?? "null-prototype object";
  }
  return typeof value;
}

/** Encodes `value` as one pickle. */
export function _write(value: unknown, options: _WriteOptions): Uint8Array {
  const w = new _Writer(options, shared);
  shared = null; // a re-entrant dumps (from a Proxy trap) gets its own buffer
  w.u8(op.PROTO);
  w.u8(options.protocol);
  try {
    w.save(value, 0);
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new PicklingError("Cannot pickle value: it is nested too deeply", {
        cause: error,
      });
    }
    throw error;
  }
  w.u8(op.STOP);
  const out = w.result();
  shared = w.buf.length <= 1 << 16
    ? { buf: w.buf, view: w.view }
    : new ByteWriter(1 << 12);
  return out;
}

class _Writer extends ByteWriter {
  #memo: Map<object, number> | null = null; // created on first container
  #next = 0; // next memo index
  #globals: Map<string, number> | null = null;
  #proto: number;
  #maxDepth: number;

  constructor(options: _WriteOptions, buffer: WriterBuffer | null) {
    super(buffer ?? 1 << 12);
    this.#proto = options.protocol;
    this.#maxDepth = options.maxDepth;
  }

  override result(): Uint8Array {
    // A big buffer that is mostly used is handed out as is (never reused).
    if (this.buf.length > 1 << 16 && this.pos >= this.buf.length * 0.75) {
      return this.buf.subarray(0, this.pos);
    }
    return this.buf.slice(0, this.pos);
  }

  #u32(opcode: number, n: number): void {
    this.reserve(5);
    this.buf[this.pos] = opcode;
    this.view.setUint32(this.pos + 1, n, true);
    this.pos += 5;
  }

  // ---- memo ---------------------------------------------------------------

  #memoize(obj: object): void {
    const index = this.#next++;
    (this.#memo ??= new Map()).set(obj, index);
    this.#put(index);
  }

  #put(index: number): void {
    if (this.#proto >= 4) this.u8(op.MEMOIZE);
    else if (index < 256) {
      this.u8(op.BINPUT);
      this.u8(index);
    } else this.#u32(op.LONG_BINPUT, index);
  }

  #getMemo(index: number): void {
    if (index < 256) {
      this.u8(op.BINGET);
      this.u8(index);
    } else this.#u32(op.LONG_BINGET, index);
  }

  // ---- scalars ------------------------------------------------------------

  #int(v: number): void {
    if (v >= 0 && v < 256) {
      this.reserve(2);
      this.buf[this.pos++] = op.BININT1;
      this.buf[this.pos++] = v;
    } else if (v >= 0 && v < 65536) {
      this.reserve(3);
      this.buf[this.pos++] = op.BININT2;
      this.view.setUint16(this.pos, v, true);
      this.pos += 2;
    } else if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.reserve(5);
      this.buf[this.pos++] = op.BININT;
      this.view.setInt32(this.pos, v, true);
      this.pos += 4;
    } else this.#long(BigInt(v));
  }

  #long(v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.#int(Number(v));
    // Minimal little-endian two's complement, as Python's encode_long.
    const abs = v < 0n ? -v - 1n : v;
    if (abs < LIMITS[LIMITS.length - 1]) {
      // Up to 32 bytes: 32-bit words, no string round trip.
      let n = 5;
      while (abs >= LIMITS[n]) n++;
      this.reserve(2 + n);
      const buf = this.buf;
      buf[this.pos++] = op.LONG1;
      buf[this.pos++] = n;
      let u = BigInt.asUintN(8 * n, v);
      for (let i = 0; i < n; i += 4) {
        let word = Number(BigInt.asUintN(32, u));
        u >>= 32n;
        for (let k = i; k < i + 4 && k < n; k++) {
          buf[this.pos++] = word & 0xff;
          word >>>= 8;
        }
      }
      return;
    }
    const magnitude = abs.toString(16);
    const bits = (magnitude.length - 1) * 4 +
      (32 - Math.clz32(parseInt(magnitude[0], 16)));
    const n = (bits >> 3) + 1;
    const hex = (v < 0n ? (1n << BigInt(8 * n)) + v : v).toString(16).padStart(
      2 * n,
      "0",
    );
    if (n < 256) {
      this.reserve(2 + n);
      this.buf[this.pos++] = op.LONG1;
      this.buf[this.pos++] = n;
    } else {
      this.#u32(op.LONG4, n);
      this.reserve(n);
    }
    const buf = this.buf;
    const at = this.pos;
    for (let i = 0, j = 2 * n - 2; i < n; i++, j -= 2) {
      buf[at + i] = (hexValue(hex.charCodeAt(j)) << 4) |
        hexValue(hex.charCodeAt(j + 1));
    }
    this.pos = at + n;
  }

  #float(v: number): void {
    this.reserve(9);
    this.buf[this.pos++] = op.BINFLOAT;
    this.view.setFloat64(this.pos, v, false);
    this.pos += 8;
  }

  #str(s: string): void {
    const n = s.length;
    if (n < 86 && this.#proto >= 4) {
      // SHORT_BINUNICODE: 3 bytes per UTF-16 unit at most, so <= 255 bytes.
      this.reserve(2 + 3 * n);
      const at = this.pos;
      const buf = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + 2 + i] = c;
      }
      let len = n;
      if (i < n) {
        if (!s.isWellFormed()) return this.#strSlow(s);
        len = _encodeUtf8Into(s, buf.subarray(at + 2, at + 2 + 3 * n));
      }
      buf[at] = op.SHORT_BINUNICODE;
      buf[at + 1] = len;
      this.pos = at + 2 + len;
      return;
    }
    if (n > 65536 || !s.isWellFormed()) return this.#strSlow(s);
    this.reserve(5 + 3 * n);
    const at = this.pos;
    const len = _encodeUtf8Into(s, this.buf.subarray(at + 5, at + 5 + 3 * n));
    if (len < 256 && this.#proto >= 4) {
      this.buf[at] = op.SHORT_BINUNICODE;
      this.buf[at + 1] = len;
      this.buf.copyWithin(at + 2, at + 5, at + 5 + len);
      this.pos = at + 2 + len;
    } else {
      this.buf[at] = op.BINUNICODE;
      this.view.setUint32(at + 1, len, true);
      this.pos = at + 5 + len;
    }
  }

  #strSlow(s: string): void {
    const bytes = _encodeUtf8(s);
    if (bytes.length < 256 && this.#proto >= 4) {
      this.u8(op.SHORT_BINUNICODE);
      this.u8(bytes.length);
    } else this.#u32(op.BINUNICODE, bytes.length);
    this.bytes(bytes);
  }

  #bytes(b: Uint8Array, depth: number): void {
    if (this.#proto < 3) {
      // Python 2 has no bytes type: Python writes codecs.encode(latin-1 str).
      if (b.length === 0) {
        return this.#reduce(new PyReduce(BYTES, []), depth, b);
      }
      let text = "";
      for (let i = 0; i < b.length; i += 8192) {
        text += String.fromCharCode.apply(
          null,
          b.subarray(i, i + 8192) as unknown as number[],
        );
      }
      return this.#reduce(
        new PyReduce(CODECS_ENCODE, [text, "latin1"]),
        depth,
        b,
      );
    }
    if (b.length < 256) {
      this.reserve(2 + b.length);
      this.buf[this.pos++] = op.SHORT_BINBYTES;
      this.buf[this.pos++] = b.length;
    } else if (b.length <= 0xffffffff) {
      this.#u32(op.BINBYTES, b.length);
    } else {
      this.#len8(op.BINBYTES8, b.length);
    }
    this.bytes(b);
  }

  #len8(opcode: number, n: number): void {
    this.reserve(9);
    this.buf[this.pos] = opcode;
    this.view.setUint32(this.pos + 1, n % 2 ** 32, true);
    this.view.setUint32(this.pos + 5, Math.floor(n / 2 ** 32), true);
    this.pos += 9;
  }

  #global(g: PyGlobal, depth: number): void {
    const index = this.#globals?.get(g.key);
    if (index !== undefined) return this.#getMemo(index);
    if (this.#proto >= 4) {
      this.#str(g.module);
      this.#str(g.name);
      this.u8(op.STACK_GLOBAL);
    } else {
      const dot = g.name.lastIndexOf(".");
      if (dot > 0) {
        // Protocols < 4 cannot name "Outer.inner": getattr(Outer, "inner").
        const owner = new PyGlobal(g.module, g.name.slice(0, dot));
        this.#reduce(
          new PyReduce(GETATTR, [owner, g.name.slice(dot + 1)]),
          depth,
        );
      } else {
        const module = this.#proto < 3 && g.module === "builtins"
          ? "__builtin__"
          : g.module;
        const text = _encodeUtf8(`${module}\n${g.name}\n`);
        this.u8(op.GLOBAL);
        this.bytes(text);
      }
    }
    const slot = this.#next++;
    (this.#globals ??= new Map()).set(g.key, slot);
    this.#put(slot);
  }

  // ---- containers -----------------------------------------------------------

  #items(items: ArrayLike<unknown>, opcode: number, depth: number): void {
    const n = items.length;
    if (n === 1 && opcode === op.APPENDS) {
      this.save(items[0], depth);
      this.u8(op.APPEND);
      return;
    }
    for (let start = 0; start < n; start += BATCH) {
      const end = Math.min(n, start + BATCH);
      this.u8(op.MARK);
      for (let i = start; i < end; i++) this.save(items[i], depth);
      this.u8(opcode);
    }
  }

  #pairs(entries: Iterable<[unknown, unknown]>, depth: number): void {
    let count = 0;
    let open = false;
    for (const [k, v] of entries) {
      if (!open) {
        this.u8(op.MARK);
        open = true;
      }
      this.save(k, depth);
      this.save(v, depth);
      if (++count === BATCH) {
        this.u8(op.SETITEMS);
        open = false;
        count = 0;
      }
    }
    if (open) this.u8(op.SETITEMS);
  }

  #tuple(t: ArrayLike<unknown>, obj: object | null, depth: number): void {
    const n = t.length;
    if (n === 0) {
      this.u8(op.EMPTY_TUPLE);
      return;
    }
    const small = n <= 3 && this.#proto >= 2;
    if (!small) this.u8(op.MARK);
    for (let i = 0; i < n; i++) this.save(t[i], depth);
    if (obj !== null) {
      const index = this.#memo?.get(obj);
      if (index !== undefined) {
        // The tuple was written while writing its items (a cycle through a
        // mutable item): drop the copies and fetch it, as Python does.
        if (small) { for (let i = 0; i < n; i++) this.u8(op.POP); }
        else this.u8(op.POP_MARK);
        return this.#getMemo(index);
      }
    }
    this.u8(small ? op.TUPLE1 + n - 1 : op.TUPLE);
    if (obj !== null) this.#memoize(obj);
  }

  #reduce(r: PyReduce, depth: number, obj: object = r): void {
    if (r.newobj) {
      this.#global(r.callable, depth);
      this.#tuple(r.args, null, depth);
      if (r.kwargs && r.kwargs.size > 0) {
        if (this.#proto < 4) {
          throw new PicklingError(
            `Cannot pickle ${r.callable}: __new__ keyword arguments need protocol 4 or later`,
          );
        }
        this.#dict(r.kwargs, null, depth);
        this.u8(op.NEWOBJ_EX);
      } else this.u8(op.NEWOBJ);
    } else {
      this.#global(r.callable, depth);
      this.#tuple(r.args, null, depth);
      this.u8(op.REDUCE);
    }
    this.#memoize(obj);
    if (r.listItems.length > 0) this.#items(r.listItems, op.APPENDS, depth);
    if (r.dictItems.length > 0) this.#pairs(r.dictItems, depth);
    if (r.state !== undefined) {
      this.save(r.state, depth);
      this.u8(op.BUILD);
    }
  }

  #dict(
    d: Map<unknown, unknown> | Record<string, unknown>,
    obj: object | null,
    depth: number,
  ): void {
    this.u8(op.EMPTY_DICT);
    if (obj !== null) this.#memoize(obj);
    if (d instanceof Map) {
      if (d.size === 1) {
        const [[k, v]] = d;
        this.save(k, depth);
        this.save(v, depth);
        this.u8(op.SETITEM);
      } else this.#pairs(d, depth);
      return;
    }
    const keys = Object.keys(d);
    if (keys.length === 1) {
      this.#str(keys[0]);
      this.save(d[keys[0]], depth);
      this.u8(op.SETITEM);
      return;
    }
    for (let start = 0; start < keys.length; start += BATCH) {
      const end = Math.min(keys.length, start + BATCH);
      this.u8(op.MARK);
      for (let i = start; i < end; i++) {
        this.#str(keys[i]);
        this.save(d[keys[i]], depth);
      }
      this.u8(op.SETITEMS);
    }
  }

  #set(s: Set<unknown>, depth: number): void {
    const frozen = s instanceof PyFrozenSet;
    if (this.#proto < 4) {
      return this.#reduce(
        new PyReduce(frozen ? FROZENSET : SET, [[...s]]),
        depth,
        s,
      );
    }
    if (frozen) {
      this.u8(op.MARK);
      for (const item of s) this.save(item, depth);
      const index = this.#memo?.get(s);
      if (index !== undefined) {
        this.u8(op.POP_MARK);
        return this.#getMemo(index);
      }
      this.u8(op.FROZENSET);
      this.#memoize(s);
      return;
    }
    this.u8(op.EMPTY_SET);
    this.#memoize(s);
    const items = [...s];
    for (let start = 0; start < items.length; start += BATCH) {
      this.u8(op.MARK);
      for (let i = start; i < Math.min(items.length, start + BATCH); i++) {
        this.save(items[i], depth);
      }
      this.u8(op.ADDITEMS);
    }
  }

  // ---- dispatch -------------------------------------------------------------

  save(value: unknown, depth: number): void {
    switch (typeof value) {
      case "string":
        return this.#str(value);
      case "number":
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
          return this.#int(value);
        }
        return this.#float(value);
      case "boolean":
        return this.u8(value ? op.NEWTRUE : op.NEWFALSE);
      case "bigint":
        return this.#long(value);
      case "undefined":
        return this.u8(op.NONE);
      case "object":
        if (value === null) return this.u8(op.NONE);
        break;
      default:
        throw new PicklingError(
          `Cannot pickle value: a ${typeof value} has no Python counterpart`,
        );
    }
    const index = this.#memo?.get(value);
    if (index !== undefined) return this.#getMemo(index);
    if (++depth > this.#maxDepth) {
      throw new PicklingError(
        `Cannot pickle value: it is nested deeper than maxDepth (${this.#maxDepth})`,
      );
    }
    if (Array.isArray(value)) {
      if (value instanceof Tuple) return this.#tuple(value, value, depth);
      this.u8(op.EMPTY_LIST);
      this.#memoize(value);
      if (value.length > 0) this.#items(value, op.APPENDS, depth);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return this.#dict(value as Record<string, unknown>, value, depth);
    }
    if (value instanceof Uint8Array) {
      this.#bytes(value, depth);
      if (this.#proto >= 3) this.#memoize(value);
      return;
    }
    if (value instanceof Map) return this.#dict(value, value, depth);
    if (value instanceof Set) return this.#set(value, depth);
    if (value instanceof PyFloat) return this.#float(value.value);
    if (value instanceof PyReduce) return this.#reduce(value, depth);
    if (value instanceof PyGlobal) return this.#global(value, depth);
    if (value instanceof PyByteArray) {
      if (this.#proto >= 5) {
        this.#len8(op.BYTEARRAY8, value.bytes.length);
        this.bytes(value.bytes);
        return this.#memoize(value);
      }
      return this.#reduce(new PyReduce(BYTEARRAY, [value.bytes]), depth, value);
    }
    if (value instanceof PyComplex) {
      const parts = [new PyFloat(value.real), new PyFloat(value.imag)];
      return this.#reduce(new PyReduce(COMPLEX, parts), depth, value);
    }
    if (value instanceof PyDecimal) {
      return this.#reduce(new PyReduce(DECIMAL, [value.text]), depth, value);
    }
    if (value instanceof ArrayBuffer) {
      return this.#bytes(new Uint8Array(value), depth);
    }
    const recipe = _temporalRecipe(value, this.#proto);
    if (recipe !== undefined) return this.#reduce(recipe, depth, value);
    throw new PicklingError(
      `Cannot pickle value: a ${kind(value)} has no Python counterpart`,
    );
  }
}
