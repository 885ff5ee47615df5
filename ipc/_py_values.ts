/**
 * Python's view of the values a manager holds (private): `repr`, `==` and
 * `<` over what the pickle codec decodes (numbers, bigints, strings,
 * booleans, `null`, arrays and `Tuple`s, `Map`s and plain objects, `Set`s,
 * `Uint8Array`s), so a Python client printing a shared dict or sorting a
 * shared list sees what CPython would show.
 *
 * An integral float decodes as a plain number, so it prints as an int
 * (`1` for `1.0`): the one visible difference.
 *
 * @module
 */

import {
  PyByteArray,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyGlobal,
  PyReduce,
  Tuple,
} from "./pickle_values.ts";

/** Python's type name of a decoded value (for error messages). */
export function pyTypeName(value: unknown): string {
  switch (typeof value) {
    case "string":
      return "str";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
    case "undefined":
      return "NoneType";
  }
  if (value === null) return "NoneType";
  if (value instanceof Tuple) return "tuple";
  if (Array.isArray(value)) return "list";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof PyFrozenSet) return "frozenset";
  if (value instanceof Set) return "set";
  if (value instanceof PyFloat) return "float";
  if (value instanceof Map || isPlainObject(value)) return "dict";
  return "object";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Entries of a dict-like value (Map or plain object). */
export function dictEntries(value: unknown): [unknown, unknown][] | undefined {
  if (value instanceof Map) return [...value.entries()];
  if (isPlainObject(value)) return Object.entries(value);
  return undefined;
}

/** Python's `repr(float)`: shortest round trip, exponent outside 1e-4..1e16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = x.toExponential().split("e");
  const exponent = Number(exp);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const fraction = digits.slice(exponent + 1) || "0";
    return `${sign}${whole}.${fraction}`;
  }
  const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exponent).toString().padStart(2, "0");
  return `${sign}${body}e${exponent < 0 ? "-" : "+"}${e}`;
}

/** Python's `repr(str)`. */
export function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === "\\") out += "\\" + char;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) {
      out += "\\x" + code.toString(16).padStart(2, "0");
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += char;
  }
  return out + quote;
}

function bytesRepr(bytes: Uint8Array, prefix: string): string {
  let out = "";
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === quote || char === "\\") out += "\\" + char;
    else if (byte === 10) out += "\\n";
    else if (byte === 13) out += "\\r";
    else if (byte === 9) out += "\\t";
    else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x" + byte.toString(16).padStart(2, "0");
    } else out += char;
  }
  return `${prefix}${quote}${out}${quote}`;
}

/** Python's `repr()` of a decoded value (depth-limited). */
export function pyRepr(value: unknown, depth = 0): string {
  if (depth > 100) return "...";
  const inner = (v: unknown) => pyRepr(v, depth + 1);
  switch (typeof value) {
    case "string":
      return strRepr(value);
    case "number":
      return Number.isInteger(value) && !Object.is(value, -0)
        ? String(value)
        : floatRepr(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "True" : "False";
    case "undefined":
      return "None";
  }
  if (value === null) return "None";
  if (value instanceof Tuple) {
    return value.length === 1
      ? `(${inner(value[0])},)`
      : `(${value.map(inner).join(", ")})`;
  }
  if (Array.isArray(value)) return `[${value.map(inner).join(", ")}]`;
  if (value instanceof Uint8Array) return bytesRepr(value, "b");
  if (value instanceof PyByteArray) {
    return `bytearray(${bytesRepr(value.bytes, "b")})`;
  }
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value instanceof PyDecimal) return `Decimal('${value.text}')`;
  if (value instanceof PyFrozenSet) {
    return value.size === 0
      ? "frozenset()"
      : `frozenset({${[...value].map(inner).join(", ")}})`;
  }
  if (value instanceof Set) {
    return value.size === 0 ? "set()" : `{${[...value].map(inner).join(", ")}}`;
  }
  const entries = dictEntries(value);
  if (entries !== undefined) {
    return `{${
      entries.map(([k, v]) => `${inner(k)}: ${inner(v)}`).join(", ")
    }}`;
  }
  if (value instanceof PyGlobal) return `<class '${value}'>`;
  if (value instanceof PyReduce) return `<${value.callable} object>`;
  if (value instanceof Date) return `datetime(${value.toISOString()})`;
  return `<${(value as object).constructor?.name ?? "object"} object>`;
}

/** A number-like value as number or bigint (bool counts, as in Python). */
function numeric(value: unknown): number | bigint | undefined {
  if (typeof value === "number" || typeof value === "bigint") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof PyFloat) return value.value;
  return undefined;
}

/** Python's `==` over decoded values. */
export function pyEquals(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (a === b) return true;
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined || y !== undefined) {
    if (x === undefined || y === undefined) return false;
    // deno-lint-ignore eqeqeq
    return x == y;
  }
  if ((a === null || a === undefined) && (b === null || b === undefined)) {
    return true;
  }
  if (typeof a !== "object" || typeof b !== "object" || !a || !b) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if ((a instanceof Tuple) !== (b instanceof Tuple)) return false;
    return a.length === b.length &&
      a.every((item, i) => pyEquals(item, b[i], depth + 1));
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  if (a instanceof Set && b instanceof Set) {
    return a.size === b.size &&
      [...a].every((item) => [...b].some((o) => pyEquals(item, o, depth + 1)));
  }
  const ea = dictEntries(a);
  const eb = dictEntries(b);
  if (ea !== undefined && eb !== undefined) {
    if (ea.length !== eb.length) return false;
    return ea.every(([k, v]) =>
      eb.some(([k2, v2]) =>
        pyEquals(k, k2, depth + 1) && pyEquals(v, v2, depth + 1)
      )
    );
  }
  return false;
}

/**
 * Python's ordering (`<`) for `list.sort()`: numbers with numbers, strings
 * with strings, bytes with bytes, lists/tuples item by item.
 *
 * @throws {TypeError} For values Python cannot order (like Python's).
 */
export function pyCompare(a: unknown, b: unknown, depth = 0): number {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  if (
    Array.isArray(a) && Array.isArray(b) &&
    (a instanceof Tuple) === (b instanceof Tuple) && depth < 100
  ) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i], depth + 1);
    }
    return a.length - b.length;
  }
  throw new TypeError(
    `'<' not supported between instances of '${pyTypeName(a)}' and '${
      pyTypeName(b)
    }'`,
  );
}
