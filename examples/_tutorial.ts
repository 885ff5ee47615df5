// Shared by the examples that speak the tutorials' own socket bytes:
// Python's bytes.upper(), text <-> bytes in utf-8 or gbk (the Chinese
// tutorials' Windows console encoding), Python's repr of bytes, and the
// command-line options every networked example parses the same way.

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** `--port` and `--hostname`, which every networked example takes. */
type AddressOptions = {
  port: { type: "string"; default: string };
  hostname: { type: "string"; default: string };
};

type NetArgs<T extends ParseArgsOptionsConfig, P extends boolean> = ReturnType<
  typeof parseArgs<{ options: AddressOptions & T; allowPositionals: P }>
>;

/**
 * Parses `Deno.args` with `--port` (default `port`) and `--hostname`
 * (default 127.0.0.1) plus the program's own `options`; positional
 * arguments only with `allowPositionals`.
 */
export function netArgs<
  T extends ParseArgsOptionsConfig,
  P extends boolean = false,
>(port: number, options: T, allowPositionals?: P): NetArgs<T, P> {
  const address: AddressOptions = {
    port: { type: "string", default: String(port) },
    hostname: { type: "string", default: "127.0.0.1" },
  };
  return parseArgs({
    args: Deno.args,
    allowPositionals: allowPositionals ?? false,
    options: { ...address, ...options },
  }) as NetArgs<T, P>;
}

/** Encodings the tutorials use on the wire. */
export type Encoding = "utf-8" | "gbk";

/** Checks an `--encoding` value. */
export function encodingOf(value: string | undefined): Encoding {
  const name = (value ?? "utf-8").toLowerCase().replace("utf8", "utf-8");
  if (name !== "utf-8" && name !== "gbk") {
    console.error(`Unknown --encoding "${value}": use utf-8 or gbk`);
    Deno.exit(2);
  }
  return name;
}

/**
 * Python's `data.upper()` on bytes: ASCII a-z become A-Z, every other byte
 * is kept. With `encoding: "gbk"`, the second byte of a double-byte GBK
 * character is skipped (Python's bytes.upper() would change a trail byte
 * that happens to be an ASCII letter; this keeps the character intact).
 */
export function upper(data: Uint8Array, encoding: Encoding = "utf-8") {
  const out = data.slice();
  for (let i = 0; i < out.length; i++) {
    const b = out[i];
    if (encoding === "gbk" && b >= 0x81 && b <= 0xfe) {
      i++; // lead byte: leave the trail byte alone
    } else if (b >= 0x61 && b <= 0x7a) {
      out[i] = b - 32;
    }
  }
  return out;
}

let gbkTable: Map<string, Uint8Array> | undefined;

/** Character -> GBK bytes, built once from the platform's GBK decoder. */
function gbk(): Map<string, Uint8Array> {
  if (gbkTable) return gbkTable;
  gbkTable = new Map();
  const decoder = new TextDecoder("gbk", { fatal: true });
  const pair = new Uint8Array(2);
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      try {
        const ch = decoder.decode(pair);
        if (!gbkTable.has(ch)) gbkTable.set(ch, pair.slice());
      } catch {
        // unassigned
      }
    }
  }
  return gbkTable;
}

/** `text.encode(encoding)`; a character GBK cannot hold becomes "?". */
export function encode(text: string, encoding: Encoding = "utf-8") {
  if (encoding === "utf-8") return new TextEncoder().encode(text);
  const table = gbk();
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else out.push(...(table.get(ch) ?? [0x3f]));
  }
  return new Uint8Array(out);
}

/** `data.decode(encoding, errors="replace")`. */
export function decode(data: Uint8Array, encoding: Encoding = "utf-8") {
  return new TextDecoder(encoding).decode(data);
}

/** Python's `repr(data)` for bytes: b'hello\n'. */
export function pyBytes(data: Uint8Array): string {
  const useDouble = data.includes(0x27) && !data.includes(0x22);
  const quote = useDouble ? '"' : "'";
  let out = "b" + quote;
  for (const b of data) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x27 && !useDouble) out += "\\'";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out + quote;
}

/** "127.0.0.1:5555" for a log line. */
export function peerName(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/** A positive integer option, or exits with a usage error. */
export function intOption(
  name: string,
  value: string | undefined,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`Invalid --${name}: "${value}"`);
    Deno.exit(2);
  }
  return n;
}

/** An option that must be one of `choices`, or exits with a usage error. */
export function choiceOption<const C extends string>(
  name: string,
  value: string | undefined,
  choices: readonly C[],
): C {
  if (!choices.includes(value as C)) {
    const list = choices.slice(0, -1).join(", ") + " or " + choices.at(-1);
    console.error(`Unknown --${name} "${value}": use ${list}`);
    Deno.exit(2);
  }
  return value as C;
}

/**
 * Waits for `work` at most `ms` milliseconds; then calls `close()` (which
 * must make `work` settle, e.g. by closing its connection) and throws
 * `Deno.errors.TimedOut` with "no reply within <ms> ms".
 */
export async function deadline<T>(
  work: Promise<T>,
  ms: number,
  close: () => void,
): Promise<T> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    close();
  }, ms);
  try {
    return await work;
  } catch (error) {
    if (expired) {
      throw new Deno.errors.TimedOut(`no reply within ${ms} ms`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
