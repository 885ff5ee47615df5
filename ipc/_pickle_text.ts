// Text helpers of the pickle codec: UTF-8 with lone surrogates (Python's
// "surrogatepass", which pickle uses for str), raw-unicode-escape (protocol
// 0's UNICODE opcode), latin-1, and Python 2 string literals (STRING).

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes UTF-8 as Python's `str(b, "utf-8", "surrogatepass")`; returns
 * `null` for bytes that are not (surrogate-extended) UTF-8.
 */
export function _decodeUtf8(
  data: Uint8Array,
  start: number,
  end: number,
): string | null {
  const n = end - start;
  if (n <= 24) {
    // Short ASCII strings (dict keys, tags) repeat across messages: a small
    // cache keyed by a hash of the bytes, verified byte by byte.
    let h = n;
    let ascii = true;
    for (let i = start; i < end; i++) {
      const b = data[i];
      if (b >= 0x80) {
        ascii = false;
        break;
      }
      h = (Math.imul(h, 31) + b) | 0;
    }
    if (ascii) {
      const slot = h & (CACHE_SIZE - 1);
      const cached = cache[slot];
      if (cached !== undefined && cached.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (cached.charCodeAt(i) !== data[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return cached;
      }
      scratch.length = n;
      for (let i = 0; i < n; i++) scratch[i] = data[start + i];
      const text = String.fromCharCode.apply(null, scratch);
      cache[slot] = text;
      return text;
    }
  }
  try {
    return decoder.decode(data.subarray(start, end));
  } catch {
    return _decodeWtf8(data, start, end);
  }
}

const CACHE_SIZE = 1024;
const cache: (string | undefined)[] = new Array(CACHE_SIZE).fill(undefined);
const scratch: number[] = [];

// Slow path: UTF-8 that may hold encoded surrogates (ED A0..BF xx).
function _decodeWtf8(
  data: Uint8Array,
  start: number,
  end: number,
): string | null {
  const units: number[] = [];
  let out = "";
  let i = start;
  while (i < end) {
    const b = data[i];
    let cp: number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      cp = b;
      need = 0;
      min = 0;
    } else if (b >= 0xc2 && b <= 0xdf) {
      cp = b & 0x1f;
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      cp = b & 0x0f;
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      cp = b & 0x07;
      need = 3;
      min = 0x10000;
    } else {
      return null;
    }
    if (i + need >= end && need > 0) return null;
    for (let k = 1; k <= need; k++) {
      const c = data[i + k];
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return null;
    i += need + 1;
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 8192) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
}

/** Bytes of `text` in UTF-8, lone surrogates encoded as Python's surrogatepass. */
export function _encodeUtf8(text: string): Uint8Array {
  if (text.isWellFormed()) return encoder.encode(text);
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) {
      out.push(
        0xe0 | (cp >> 12),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    } else {
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    }
  }
  return new Uint8Array(out);
}

/** Writes `text` (well-formed) as UTF-8 into `into`; returns bytes written. */
export function _encodeUtf8Into(text: string, into: Uint8Array): number {
  return encoder.encodeInto(text, into).written;
}

/** `bytes.decode("latin-1")`. */
export function _latin1(data: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode.apply(
      null,
      data.subarray(i, Math.min(end, i + 8192)) as unknown as number[],
    );
  }
  return out;
}

/**
 * Decodes Python's raw-unicode-escape: `\uXXXX` and `\UXXXXXXXX` after an
 * odd run of backslashes, every other byte as latin-1. Returns `null` on a
 * malformed escape.
 */
export function _decodeRawUnicodeEscape(text: string): string | null {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf("\\", i);
    if (slash < 0) {
      out += text.slice(i);
      break;
    }
    let run = slash;
    while (run < text.length && text[run] === "\\") run++;
    const count = run - slash;
    const next = text[run];
    if (count % 2 === 1 && (next === "u" || next === "U")) {
      out += text.slice(i, run - 1);
      const digits = next === "u" ? 4 : 8;
      const hex = text.slice(run + 1, run + 1 + digits);
      if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) return null;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return null;
      out += String.fromCodePoint(cp);
      i = run + 1 + digits;
    } else {
      out += text.slice(i, run);
      i = run;
    }
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\n": "",
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * Decodes a Python 2 `repr()` string literal body (the STRING opcode, after
 * its quotes are removed) with Python's "string-escape" rules, as latin-1
 * characters. Returns `null` on a malformed escape.
 */
export function _decodeStringEscape(text: string): string | null {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf("\\", i);
    if (slash < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, slash);
    const c = text[slash + 1];
    if (c === undefined) return null;
    if (c in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[c];
      i = slash + 2;
    } else if (c === "x") {
      const hex = text.slice(slash + 2, slash + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i = slash + 4;
    } else if (c >= "0" && c <= "7") {
      const m = /^[0-7]{1,3}/.exec(text.slice(slash + 1, slash + 4))!;
      out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i = slash + 1 + m[0].length;
    } else {
      out += "\\" + c;
      i = slash + 2;
    }
  }
  return out;
}
