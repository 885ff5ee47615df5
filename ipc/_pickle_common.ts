// Shared by the unpickler's files: handler types, errors, scalar parsing.

import { UnpicklingError } from "./pickle_error.ts";
import { PyFrozenSet, PyGlobal, Tuple } from "./pickle_values.ts";

/** A normalized `globals` handler. */
export interface _Handler {
  inert?: boolean;
  reduce?(args: unknown[], ctx: _Context): unknown;
  newobj?(args: unknown[], kwargs: Map<string, unknown> | null): unknown;
  build?(obj: unknown, state: unknown): unknown;
}

/** What a handler may ask the reader. */
export interface _Context {
  /** The allowed global `module name`, or an UnpicklingError. */
  resolve(module: string, name: string): PyGlobal;
  /** The protocol announced by PROTO (0 when absent). */
  proto: number;
}

export interface _ReadOptions {
  lookup(key: string): _Handler | undefined;
  mapDicts: boolean;
  exactFloats: boolean;
}

export const FIX_MODULES: Record<string, string> = {
  __builtin__: "builtins",
  copy_reg: "copyreg",
  exceptions: "builtins",
};

export function fail(detail: string, cause?: unknown): never {
  throw new UnpicklingError(
    `Cannot unpickle: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

export function shown(text: string): string {
  return JSON.stringify(text.length > 100 ? text.slice(0, 100) + "..." : text);
}

export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A key a plain object keeps as is, in insertion order. */
export function _objectKey(key: unknown): key is string {
  if (typeof key !== "string") return false;
  if (key === "__proto__") return false;
  const c = key.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    // Canonical array indices ("0", "17") would be reordered by JS.
    return !/^(?:0|[1-9]\d{0,9})$/.test(key) || Number(key) >= 4294967295;
  }
  return true;
}

/** Integer from `n` little-endian two's-complement bytes (LONG1/LONG4). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const HEX: string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

export function intFromBytes(
  data: Uint8Array,
  start: number,
  n: number,
): number | bigint {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + data[start + i];
    if (data[start + n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  if (n <= 32) {
    // 32-bit words, most significant first: no string round trip.
    let u = 0n;
    for (let end = n; end > 0; end -= 4) {
      const begin = Math.max(0, end - 4);
      let word = 0;
      for (let i = end - 1; i >= begin; i--) {
        word = word * 256 + data[start + i];
      }
      u = (u << BigInt(8 * (end - begin))) | BigInt(word);
    }
    const v = BigInt.asIntN(8 * n, u);
    return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }
  // Big: hex text in chunks (linear; BigInt parses hex in linear time).
  const chunks: string[] = [];
  const part: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    part.push(HEX[data[start + i]]);
    if (part.length === 4096) {
      chunks.push(part.join(""));
      part.length = 0;
    }
  }
  chunks.push(part.join(""));
  let v = BigInt("0x" + chunks.join(""));
  if (data[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v; // over 32 bytes: never a safe integer
}

export function describe(value: unknown): string {
  if (value === null) return "None";
  if (value instanceof PyGlobal) return `global ${shown(String(value))}`;
  if (value instanceof Tuple) return "a tuple";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Map || isPlainObject(value)) return "a dict";
  if (value instanceof PyFrozenSet) return "a frozenset";
  if (value instanceof Set) return "a set";
  if (value instanceof Uint8Array) return "bytes";
  if (typeof value === "object") {
    return `a ${value.constructor?.name ?? "object"} value`;
  }
  return `a ${typeof value}`;
}
