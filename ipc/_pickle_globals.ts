// The default allow-list of the unpickler: the few globals Python's own
// pickles of plain data use, each decoded into a JavaScript value by a
// handler that checks its arguments. Nothing here imports or runs Python.

import type { _Context, _Handler } from "./_pickle_common.ts";
import {
  PyByteArray,
  PyComplex,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyGlobal,
} from "./pickle_values.ts";
import { _date, _datetime, _time, _timedelta } from "./_pickle_temporal.ts";

function encodeText(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== "string") throw new TypeError("expected a str");
  const enc = String(encoding ?? "utf-8").toLowerCase().replace("_", "-");
  if (enc === "latin1" || enc === "latin-1" || enc === "iso-8859-1") {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw new RangeError("a character is outside latin-1");
      out[i] = c;
    }
    return out;
  }
  if (enc === "utf-8" || enc === "utf8") return new TextEncoder().encode(text);
  if (enc === "ascii") {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0x7f) {
        throw new RangeError("a character is outside ascii");
      }
    }
    return new TextEncoder().encode(text);
  }
  throw new TypeError(`encoding ${JSON.stringify(enc)} is not supported`);
}

function bytesOf(args: unknown[]): Uint8Array {
  if (args.length === 0) return new Uint8Array();
  const [source, encoding] = args;
  if (source instanceof Uint8Array) return source.slice();
  if (typeof source === "string") return encodeText(source, encoding);
  if (Array.isArray(source)) {
    return Uint8Array.from(source, (b) => {
      if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > 255) {
        throw new RangeError("bytes must be in range(0, 256)");
      }
      return b;
    });
  }
  throw new TypeError(
    "expected bytes, a str and an encoding, or a list of ints",
  );
}

function items(args: unknown[]): unknown[] {
  if (args.length === 0) return [];
  const source = args[0];
  if (Array.isArray(source)) return source;
  if (source instanceof Set) return [...source];
  throw new TypeError("expected a list");
}

function num(value: unknown): number {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof PyFloat) return value.value;
  if (typeof value !== "number") throw new TypeError("expected a number");
  return value;
}

const complex: _Handler = {
  reduce: (args) => new PyComplex(num(args[0] ?? 0), num(args[1] ?? 0)),
  newobj: (args) => new PyComplex(num(args[0] ?? 0), num(args[1] ?? 0)),
};

/** Default handlers by `"module name"`. */
export const _DEFAULT_GLOBALS: ReadonlyMap<string, _Handler> = new Map<
  string,
  _Handler
>([
  ["builtins set", { reduce: (args) => new Set(items(args)) }],
  ["builtins frozenset", { reduce: (args) => new PyFrozenSet(items(args)) }],
  ["builtins bytearray", { reduce: (args) => new PyByteArray(bytesOf(args)) }],
  ["builtins bytes", { reduce: (args) => bytesOf(args) }],
  ["_codecs encode", { reduce: (args) => encodeText(args[0], args[1]) }],
  ["builtins complex", complex],
  ["builtins getattr", {
    // getattr(allowed_global, "attr"): resolves to the allowed global
    // "module Qual.attr" (how zoneinfo pickles), never a real attribute.
    reduce(args: unknown[], ctx: _Context) {
      const [owner, attr] = args;
      if (!(owner instanceof PyGlobal) || typeof attr !== "string") {
        throw new TypeError("getattr needs an allowed global and a str");
      }
      return ctx.resolve(owner.module, `${owner.name}.${attr}`);
    },
  }],
  ["collections OrderedDict", {
    reduce(args: unknown[]) {
      const map = new Map<unknown, unknown>();
      for (const pair of items(args)) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError("OrderedDict needs (key, value) pairs");
        }
        map.set(pair[0], pair[1]);
      }
      return map;
    },
  }],
  ["decimal Decimal", {
    reduce: (args) => new PyDecimal(String(args[0] ?? "0")),
  }],
  ["datetime datetime", { reduce: _datetime }],
  ["datetime date", { reduce: _date }],
  ["datetime time", { reduce: _time }],
  ["datetime timedelta", { reduce: _timedelta }],
  ["datetime timezone", { inert: true }],
  ["zoneinfo ZoneInfo", { inert: true }],
  ["zoneinfo ZoneInfo._unpickle", { inert: true }],
]);
