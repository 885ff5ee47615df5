// The one place a Connection's `serializer` option is interpreted: how
// `send()` turns a value into a frame and `recv()` turns a frame back.

import { deserialize, serialize } from "node:v8";
import { dumps, loads } from "./pickle.ts";
import {
  decodeFast,
  encodeFast,
  encodeFastView,
  NOT_FAST,
} from "./_v8_values.ts";

/** What `send`/`recv` speak: V8's serializer (weft peers) or pickle (Python). */
export type Serializer = "v8" | "pickle";

/** Encoder/decoder pair of one serializer. */
export interface _Codec {
  readonly name: Serializer;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
  /**
   * Optional: the value in `bytes` if it can be decoded without keeping a
   * reference to them (so `bytes` may be a transient view), else
   * {@linkcode NOT_FAST}. Never throws.
   */
  decodeView?(bytes: Uint8Array): unknown;
  /**
   * Optional: `value` encoded into a buffer reused by the next call (copy
   * it first), or `undefined`: then {@linkcode _Codec.encodeRest} does it.
   */
  encodeView?(value: unknown): Uint8Array | undefined;
  /** With `encodeView`: what `encode` does when `encodeView` gave up. */
  encodeRest?(value: unknown): Uint8Array;
}

export { NOT_FAST };

const V8: _Codec = {
  name: "v8",
  // node:v8's deserialize may return typed arrays over its input: only the
  // fast path (which never does) reads transient views
  decodeView: decodeFast,
  encodeView: encodeFastView,
  encodeRest: (value) => serialize(value),
  encode: (value) => encodeFast(value) ?? serialize(value),
  decode(bytes) {
    const fast = decodeFast(bytes);
    if (fast !== NOT_FAST) return fast;
    try {
      return deserialize(bytes);
    } catch (error) {
      throw new TypeError(
        'Cannot decode message: it is not a value sent by a weft send() (from Python? use serializer: "pickle")',
        { cause: error },
      );
    }
  },
};

const PICKLE: _Codec = {
  name: "pickle",
  encode: (value) => dumps(value),
  decode: (bytes) => loads(bytes),
};

/** The codec for a `serializer` option (default "v8"); TypeError otherwise. */
export function _codecFor(serializer: Serializer | undefined): _Codec {
  if (serializer === undefined || serializer === "v8") return V8;
  if (serializer === "pickle") return PICKLE;
  throw new TypeError(
    `Invalid serializer: expected "v8" or "pickle", got ${
      JSON.stringify(serializer)
    }`,
  );
}
