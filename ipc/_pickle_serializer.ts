// The one place a Connection's `serializer` option is interpreted: how
// `send()` turns a value into a frame and `recv()` turns a frame back.

import { deserialize, serialize } from "node:v8";
import { dumps, loads } from "./pickle.ts";

/** What `send`/`recv` speak: V8's serializer (weft peers) or pickle (Python). */
export type Serializer = "v8" | "pickle";

/** Encoder/decoder pair of one serializer. */
export interface _Codec {
  readonly name: Serializer;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const V8: _Codec = {
  name: "v8",
  encode: (value) => serialize(value),
  decode(bytes) {
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
