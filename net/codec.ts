/**
 * Frame codecs: how a byte stream (TCP) is cut back into the messages that
 * were sent over it.
 *
 * @module
 */

/**
 * Largest frame accepted when a codec is given no `maxFrameSize`: 16 MiB.
 *
 * @example A codec built without `maxFrameSize`
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_FRAME_SIZE, LengthPrefixCodec } from "@weft/weft/net";
 *
 * assert.equal(DEFAULT_MAX_FRAME_SIZE, 16 * 1024 * 1024);
 * assert.equal(new LengthPrefixCodec().maxFrameSize, DEFAULT_MAX_FRAME_SIZE);
 * ```
 */
export const DEFAULT_MAX_FRAME_SIZE: number = 16 * 1024 * 1024;

/**
 * One step of incremental decoding, returned by {@linkcode FrameCodec.decode}.
 *
 * - A frame: the payload is `buffer.subarray(start, end)` and the first
 *   `consumed` bytes of the buffer belong to it (header, payload, delimiter).
 * - Not yet: `need` is the smallest buffer length worth calling `decode`
 *   again with, and `scanFrom` is where scanning may resume (bytes before it
 *   were already searched), so a long frame is never searched twice.
 *
 * @example A frame, then "not yet"
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodeStep, DelimiterCodec } from "@weft/weft/net";
 *
 * const codec = new DelimiterCodec();
 * const whole: DecodeStep = codec.decode(new TextEncoder().encode("ab\n"), 0);
 * assert.deepEqual(whole, { start: 0, end: 2, consumed: 3 });
 * const partial: DecodeStep = codec.decode(new TextEncoder().encode("ab"), 0);
 * assert.ok("need" in partial && partial.need > 2);
 * ```
 */
export type DecodeStep =
  | { readonly start: number; readonly end: number; readonly consumed: number }
  | { readonly need: number; readonly scanFrom: number };

/**
 * A wire format that cuts a byte stream into frames. Implemented by
 * {@linkcode LengthPrefixCodec} and {@linkcode DelimiterCodec}; write your own
 * for another format and hand it to {@linkcode FramedConnection}.
 *
 * @example Encoding a frame and decoding it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FrameCodec, LengthPrefixCodec } from "@weft/weft/net";
 *
 * const codec: FrameCodec = new LengthPrefixCodec({ headerBytes: 4 });
 * const wire = codec.encode(new TextEncoder().encode("hi"));
 * assert.deepEqual(codec.decode(wire, 0), { start: 4, end: 6, consumed: 6 });
 * assert.deepEqual(codec.decode(wire.subarray(0, 2), 0), { need: 4, scanFrom: 0 });
 * ```
 */
export interface FrameCodec {
  /** Largest payload, in bytes, that `encode` writes and `decode` accepts. */
  readonly maxFrameSize: number;
  /**
   * Bytes written before `payload`. Throws a `RangeError` if it is over
   * `maxFrameSize`, a `TypeError` if the format cannot carry it.
   */
  header(payload: Uint8Array): Uint8Array;
  /**
   * Optional fast path of `header()` without an allocation: writes the
   * header for `payload` into `target` at `offset` and returns its length,
   * or -1 if it does not fit there (the caller then uses `header()`). Same
   * checks and errors as `header()`.
   */
  headerInto?(payload: Uint8Array, target: Uint8Array, offset: number): number;
  /** Bytes written after each payload (may be empty). */
  readonly trailer: Uint8Array;
  /** The whole frame for `payload` in one new buffer. Throws a `RangeError` if it is too large. */
  encode(payload: Uint8Array): Uint8Array;
  /**
   * Looks for one complete frame at the start of `buffer`, which never holds
   * bytes of an earlier frame. `scanFrom` is the `scanFrom` of the previous
   * "not yet" step for this same frame (0 otherwise). Throws a `RangeError`
   * when the input announces or accumulates a frame over `maxFrameSize`.
   */
  decode(buffer: Uint8Array, scanFrom: number): DecodeStep;
}

const EMPTY = new Uint8Array(0);

function checkMaxFrameSize(value: unknown, limit: number): number {
  if (value === undefined) return Math.min(DEFAULT_MAX_FRAME_SIZE, limit);
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) || value < 0
  ) {
    throw new TypeError(
      `Cannot create codec: maxFrameSize must be a non-negative integer, got ${
        String(value)
      }`,
    );
  }
  if (value > limit) {
    throw new RangeError(
      `Cannot create codec: maxFrameSize ${value} exceeds what the header can carry (${limit})`,
    );
  }
  return value;
}

function frameTooLarge(length: number, max: number, action: string) {
  return new RangeError(
    `Cannot ${action} frame: ${length} bytes exceeds maxFrameSize ${max}`,
  );
}

/**
 * Options of {@linkcode LengthPrefixCodec}.
 *
 * @example An 8-byte little-endian header (`struct.pack('<Q', n)`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { LengthPrefixCodec, type LengthPrefixCodecOptions } from "@weft/weft/net";
 *
 * const options: LengthPrefixCodecOptions = { headerBytes: 8, littleEndian: true };
 * const frame = new LengthPrefixCodec(options).encode(new Uint8Array([9]));
 * assert.deepEqual(frame, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 9]));
 * ```
 */
export interface LengthPrefixCodecOptions {
  /**
   * Size of the unsigned length header: 4 (`struct.pack('!I', n)`) or 8 (`'!Q'`).
   *
   * @default {4}
   */
  headerBytes?: 4 | 8;
  /**
   * Little-endian header, for peers that use native order on x86
   * (`struct.pack('i', n)` / `'<I'`). Default `false`: network order.
   *
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * Largest payload in bytes; a header announcing more ends the connection
   * (16 MiB by default).
   *
   * @default {16 * 1024 * 1024}
   */
  maxFrameSize?: number;
  /**
   * The header as the Python `struct` format of one integer, which sets
   * `headerBytes`, `littleEndian` and signedness in one word: `"i"` is the
   * tutorials' `struct.pack('i', n)` (native order and size: 4 bytes,
   * little-endian on every platform Deno runs on, signed), `"!I"` the
   * network-order default; also `"<i"`, `">q"`, `"=Q"`... (byte order
   * `@ = < > !`, then `i I q Q`). A signed header announcing a negative
   * length is malformed (`RangeError`). Overrides `headerBytes` and
   * `littleEndian`.
   */
  struct?: string;
}

const NATIVE_LITTLE_ENDIAN =
  new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `headerBytes`, `littleEndian` and `signed` of a one-integer `struct` format. */
function parseStruct(
  format: unknown,
): { headerBytes: 4 | 8; littleEndian: boolean; signed: boolean } {
  const m = typeof format === "string"
    ? /^([@=<>!]?)([iIqQ])$/.exec(format)
    : null;
  if (!m) {
    throw new TypeError(
      `Cannot create codec: struct must be one integer format such as "i", "<I" or "!Q", got ${
        JSON.stringify(format)
      }`,
    );
  }
  return {
    headerBytes: m[2] === "i" || m[2] === "I" ? 4 : 8,
    littleEndian: m[1] === "<" ||
      ((m[1] === "" || m[1] === "@" || m[1] === "=") && NATIVE_LITTLE_ENDIAN),
    signed: m[2] === "i" || m[2] === "q",
  };
}

/**
 * Frames each message as an unsigned length header followed by the payload:
 * the format of Python's `sock.sendall(struct.pack('!I', len(data)) + data)`.
 *
 * | bytes              | content                                              |
 * | ------------------ | ---------------------------------------------------- |
 * | 0 .. headerBytes-1 | payload length n, unsigned, big-endian by default    |
 * | headerBytes .. +n  | payload                                              |
 *
 * | step | sender                         | receiver                                          |
 * | ---- | ------------------------------ | ------------------------------------------------- |
 * | 1    | writes header + payload (once) | reads until `headerBytes` bytes are buffered      |
 * | 2    |                                | n > maxFrameSize: `RangeError`, connection closed |
 * | 3    |                                | reads until n payload bytes are buffered          |
 * | 4    |                                | EOF before that: `IncompleteReadError`            |
 *
 * The header is read first, checked against `maxFrameSize` before a single
 * payload byte is buffered (a hostile peer announcing 4 GiB costs nothing),
 * and 8-byte lengths above `Number.MAX_SAFE_INTEGER` are rejected as
 * malformed. Both errors are `RangeError`s.
 *
 * @example Python's `struct.pack('!I', len(data)) + data`
 * ```ts
 * import assert from "node:assert/strict";
 * import { LengthPrefixCodec } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: 1024 });
 * assert.deepEqual(codec.encode(new Uint8Array([7, 8])), new Uint8Array([0, 0, 0, 2, 7, 8]));
 * assert.throws(() => codec.encode(new Uint8Array(1025)), RangeError);
 * ```
 *
 * @example Python's `struct.pack('i', len(data))` header (the sticky-packet lesson)
 * ```ts
 * import assert from "node:assert/strict";
 * import { LengthPrefixCodec } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ struct: "i", maxFrameSize: 1 << 20 });
 * assert.deepEqual(codec.encode(new Uint8Array([7])), new Uint8Array([1, 0, 0, 0, 7]));
 * assert.throws(() => codec.decode(new Uint8Array([0, 0, 0, 0x80]), 0), RangeError); // negative
 * ```
 */
export class LengthPrefixCodec implements FrameCodec {
  /** Header size in bytes: 4 or 8. */
  readonly headerBytes: 4 | 8;
  /** Whether the header is little-endian. */
  readonly littleEndian: boolean;
  /** Whether the header is a signed integer (`struct` `"i"` / `"q"`): negative lengths are malformed. */
  readonly signed: boolean;
  /** Largest accepted payload in bytes. */
  readonly maxFrameSize: number;
  /** Always empty: nothing follows a payload. */
  readonly trailer: Uint8Array = new Uint8Array(0);

  /** Builds a codec; throws a `TypeError` naming a bad option. */
  constructor(options: LengthPrefixCodecOptions = {}) {
    const format = options.struct === undefined
      ? undefined
      : parseStruct(options.struct);
    const headerBytes = format?.headerBytes ?? options.headerBytes ?? 4;
    if (headerBytes !== 4 && headerBytes !== 8) {
      throw new TypeError(
        `Cannot create codec: headerBytes must be 4 or 8, got ${
          String(headerBytes)
        }`,
      );
    }
    this.headerBytes = headerBytes;
    this.littleEndian = format?.littleEndian ?? options.littleEndian ?? false;
    this.signed = format?.signed ?? false;
    this.maxFrameSize = checkMaxFrameSize(
      options.maxFrameSize,
      headerBytes === 4
        ? (this.signed ? 0x7fff_ffff : 0xffff_ffff)
        : Number.MAX_SAFE_INTEGER,
    );
  }

  /** The length header for `payload`. */
  header(payload: Uint8Array): Uint8Array {
    const length = payload.length;
    if (length > this.maxFrameSize) {
      throw frameTooLarge(length, this.maxFrameSize, "send");
    }
    const header = new Uint8Array(this.headerBytes);
    const view = new DataView(header.buffer);
    if (this.headerBytes === 4) view.setUint32(0, length, this.littleEndian);
    else view.setBigUint64(0, BigInt(length), this.littleEndian);
    return header;
  }

  /** Writes the length header for `payload` into `target` at `offset`; see {@linkcode FrameCodec.headerInto}. */
  headerInto(payload: Uint8Array, target: Uint8Array, offset: number): number {
    const length = payload.length;
    if (length > this.maxFrameSize) {
      throw frameTooLarge(length, this.maxFrameSize, "send");
    }
    const h = this.headerBytes;
    if (target.length - offset < h) return -1;
    const high = h === 8 ? Math.floor(length / 0x1_0000_0000) : 0;
    const low = length >>> 0;
    for (let j = 0; j < h; j++) { // byte j counts from the least significant
      const byte = j < 4
        ? (low >>> (8 * j)) & 0xff
        : (high >>> (8 * (j - 4))) & 0xff;
      target[this.littleEndian ? offset + j : offset + h - 1 - j] = byte;
    }
    return h;
  }

  /** Header and payload in one new buffer. */
  encode(payload: Uint8Array): Uint8Array {
    const frame = new Uint8Array(this.headerBytes + payload.length);
    frame.set(this.header(payload), 0);
    frame.set(payload, this.headerBytes);
    return frame;
  }

  /** One decoding step; see {@linkcode FrameCodec.decode}. */
  decode(buffer: Uint8Array, _scanFrom: number): DecodeStep {
    const h = this.headerBytes;
    if (buffer.length < h) return { need: h, scanFrom: 0 };
    let length: number;
    if (h === 4) {
      // Read in place: no DataView per frame.
      const word = this.littleEndian
        ? buffer[0] | buffer[1] << 8 | buffer[2] << 16 | buffer[3] << 24
        : buffer[0] << 24 | buffer[1] << 16 | buffer[2] << 8 | buffer[3];
      length = this.signed ? word : word >>> 0;
      if (length < 0) {
        throw new RangeError(
          `Cannot receive frame: malformed header announces ${length} bytes`,
        );
      }
    } else {
      const view = new DataView(buffer.buffer, buffer.byteOffset, h);
      const big = this.signed
        ? view.getBigInt64(0, this.littleEndian)
        : view.getBigUint64(0, this.littleEndian);
      if (big < 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RangeError(
          `Cannot receive frame: malformed header announces ${big} bytes`,
        );
      }
      length = Number(big);
    }
    if (length > this.maxFrameSize) {
      throw frameTooLarge(length, this.maxFrameSize, "receive");
    }
    const total = h + length;
    if (buffer.length < total) return { need: total, scanFrom: 0 };
    return { start: h, end: total, consumed: total };
  }
}

/**
 * Options of {@linkcode DelimiterCodec}.
 *
 * @example NUL-terminated strings
 * ```ts
 * import assert from "node:assert/strict";
 * import { DelimiterCodec, type DelimiterCodecOptions } from "@weft/weft/net";
 *
 * const options: DelimiterCodecOptions = { delimiter: new Uint8Array([0]), maxFrameSize: 64 };
 * const codec = new DelimiterCodec(options);
 * assert.deepEqual(codec.encode(new TextEncoder().encode("hi")), new Uint8Array([104, 105, 0]));
 * assert.throws(() => codec.encode(new Uint8Array([1, 0, 2])), TypeError); // holds the delimiter
 * ```
 */
export interface DelimiterCodecOptions {
  /**
   * Bytes (or UTF-8 text) ending each frame, e.g. `"\n"` or `"\r\n"`.
   *
   * @default {"\n"}
   */
  delimiter?: Uint8Array | string;
  /**
   * Largest payload in bytes (delimiter excluded); more bytes without a
   * delimiter end the connection (16 MiB by default).
   *
   * @default {16 * 1024 * 1024}
   */
  maxFrameSize?: number;
}

/**
 * Frames each message by a delimiter that follows it: newline-terminated
 * lines, `\r\n`-terminated commands, NUL-terminated strings. The delimiter is
 * not part of the received payload, and `encode` refuses (`TypeError`) a
 * payload that contains it, since the peer would cut it in two.
 *
 * Scanning is incremental: a frame arriving over many reads is searched
 * once, and a peer that sends more than `maxFrameSize` bytes without a
 * delimiter gets a `RangeError` instead of filling memory.
 *
 * @example One `\r\n`-terminated command out of a partial buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import { DelimiterCodec } from "@weft/weft/net";
 *
 * const codec = new DelimiterCodec({ delimiter: "\r\n", maxFrameSize: 512 });
 * const wire = new TextEncoder().encode("PING\r\nPO");
 * const step = codec.decode(wire, 0);
 * assert.ok("start" in step);
 * assert.equal(new TextDecoder().decode(wire.subarray(step.start, step.end)), "PING");
 * assert.equal(step.consumed, 6); // "PO" waits for the rest of its frame
 * ```
 */
export class DelimiterCodec implements FrameCodec {
  /** The delimiter bytes. */
  readonly delimiter: Uint8Array;
  /** Largest accepted payload in bytes. */
  readonly maxFrameSize: number;

  /** Builds a codec; throws a `TypeError` naming a bad option. */
  constructor(options: DelimiterCodecOptions = {}) {
    const delimiter = options.delimiter ?? "\n";
    this.delimiter = typeof delimiter === "string"
      ? new TextEncoder().encode(delimiter)
      : delimiter.slice();
    if (
      !(this.delimiter instanceof Uint8Array) || this.delimiter.length === 0
    ) {
      throw new TypeError(
        "Cannot create codec: delimiter must be a non-empty string or Uint8Array",
      );
    }
    this.maxFrameSize = checkMaxFrameSize(
      options.maxFrameSize,
      Number.MAX_SAFE_INTEGER,
    );
  }

  /** Always empty (nothing precedes a payload); checks the payload's size and that it holds no delimiter. */
  header(payload: Uint8Array): Uint8Array {
    if (payload.length > this.maxFrameSize) {
      throw frameTooLarge(payload.length, this.maxFrameSize, "send");
    }
    if (this.#find(payload, 0) !== -1) {
      throw new TypeError(
        "Cannot send frame: the payload contains the delimiter",
      );
    }
    return EMPTY;
  }

  /** The delimiter, written after each payload. */
  get trailer(): Uint8Array {
    return this.delimiter;
  }

  /** Payload and delimiter in one new buffer; throws if the payload contains the delimiter. */
  encode(payload: Uint8Array): Uint8Array {
    this.header(payload);
    const frame = new Uint8Array(payload.length + this.delimiter.length);
    frame.set(payload, 0);
    frame.set(this.delimiter, payload.length);
    return frame;
  }

  /** One decoding step; see {@linkcode FrameCodec.decode}. */
  decode(buffer: Uint8Array, scanFrom: number): DecodeStep {
    const d = this.delimiter.length;
    // Only look as far as a legal frame can reach.
    const limit = Math.min(buffer.length, this.maxFrameSize + d);
    const at = this.#find(buffer.subarray(0, limit), scanFrom);
    if (at !== -1) return { start: 0, end: at, consumed: at + d };
    if (buffer.length >= this.maxFrameSize + d) {
      throw new RangeError(
        `Cannot receive frame: no delimiter within maxFrameSize ${this.maxFrameSize} bytes`,
      );
    }
    return {
      need: buffer.length + 1,
      scanFrom: Math.max(0, buffer.length - d + 1),
    };
  }

  /** Index of the delimiter in `haystack` at or after `from`, or -1. */
  #find(haystack: Uint8Array, from: number): number {
    const delimiter = this.delimiter;
    const first = delimiter[0];
    const last = haystack.length - delimiter.length;
    let i = from;
    while (i <= last) {
      i = haystack.indexOf(first, i);
      if (i === -1 || i > last) return -1;
      let j = 1;
      while (j < delimiter.length && haystack[i + j] === delimiter[j]) j++;
      if (j === delimiter.length) return i;
      i++;
    }
    return -1;
  }
}
