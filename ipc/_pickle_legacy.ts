// Protocol 0 and 1 value opcodes (Python 2 era text forms): INT, LONG,
// FLOAT, UNICODE, STRING, BINSTRING, SHORT_BINSTRING. Python 3 still writes
// some of them with protocol=0 or 1.

import * as op from "./_pickle_opcodes.ts";
import { fail, shown } from "./_pickle_common.ts";
import {
  _decodeRawUnicodeEscape,
  _decodeStringEscape,
  _latin1,
} from "./_pickle_text.ts";

/** What the reader lends these opcodes. */
export interface _LegacyInput {
  readonly data: Uint8Array;
  readonly view: DataView;
  /** Consumes `n` bytes; returns where they start (UnpicklingError if absent). */
  need(n: number): number;
  /** Consumes one line, without its newline, as latin-1. */
  line(): string;
  /** A float as the reader returns it (number or PyFloat). */
  float(v: number): unknown;
}

/** Returned by {@linkcode _legacyValue} for an opcode it does not handle. */
export const NOT_LEGACY: unique symbol = Symbol("not a legacy opcode");

const MAX_INT_DIGITS = 4300; // Python's int <-> str conversion limit (3.11+)

/** The value pushed by legacy opcode `code`, or NOT_LEGACY. */
export function _legacyValue(code: number, input: _LegacyInput): unknown {
  switch (code) {
    case op.INT: {
      const text = input.line();
      return text === "01" ? true : text === "00" ? false : parseIntText(text);
    }
    case op.LONG: {
      const text = input.line();
      return parseIntText(text.endsWith("L") ? text.slice(0, -1) : text);
    }
    case op.FLOAT:
      return input.float(parseFloatText(input.line()));
    case op.UNICODE: {
      const text = _decodeRawUnicodeEscape(input.line());
      if (text === null) fail("malformed raw-unicode-escape in UNICODE");
      return text;
    }
    case op.STRING: {
      const line = input.line();
      const q = line[0];
      if (
        line.length < 2 || (q !== "'" && q !== '"') ||
        line[line.length - 1] !== q
      ) {
        fail("the STRING opcode argument must be quoted");
      }
      const text = _decodeStringEscape(line.slice(1, -1));
      if (text === null) fail("malformed escape in STRING");
      return text;
    }
    case op.BINSTRING: {
      const n = input.view.getInt32(input.need(4), true);
      if (n < 0) fail("BINSTRING has a negative length");
      const at = input.need(n);
      return _latin1(input.data, at, at + n);
    }
    case op.SHORT_BINSTRING: {
      const n = input.data[input.need(1)];
      const at = input.need(n);
      return _latin1(input.data, at, at + n);
    }
    default:
      return NOT_LEGACY;
  }
}

function parseIntText(text: string): number | bigint {
  if (!/^[+-]?\d+$/.test(text)) fail(`invalid integer literal ${shown(text)}`);
  if (text.length > MAX_INT_DIGITS + 1) {
    fail(
      `integer literal of ${text.length} digits exceeds the limit of ${MAX_INT_DIGITS}`,
    );
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function parseFloatText(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) {
    return t.startsWith("-") ? -Infinity : Infinity;
  }
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)$/.test(t)) {
    fail(`invalid float literal ${shown(text)}`);
  }
  return Number(t);
}
