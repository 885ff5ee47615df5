// Values stored in Redis: "j" + JSON when the value survives JSON exactly
// (plain objects, arrays, strings, finite numbers, booleans, null), else
// "v" + base64 of the structured-clone serialization (node:v8), which keeps
// Dates, Maps, Sets, typed arrays, bigints, undefined... Nothing executes on
// decode.
import { deserialize, serialize } from "node:v8";
import { Buffer } from "node:buffer";
import { isJsonSafe, type JsonSafeRules } from "../_internal/json_safe.ts";

// Objects deeper than 64 levels, with a "__proto__" key or a prototype
// other than Object's (or none) take the structured-clone path.
const JSON_RULES: JsonSafeRules = {
  maxDepth: 64,
  reservedKey: "__proto__",
  nullPrototype: true,
};

export function _encode(value: unknown): string {
  if (isJsonSafe(value, JSON_RULES)) return "j" + JSON.stringify(value);
  let bytes: Uint8Array;
  try {
    bytes = serialize(value);
  } catch (error) {
    throw new TypeError(
      `Cannot store value in Redis: it is not structured-cloneable (${
        (error as Error).message
      })`,
      { cause: error },
    );
  }
  return "v" + Buffer.from(bytes).toString("base64");
}

export function _decode<T = unknown>(text: string): T {
  const tag = text.charCodeAt(0);
  if (tag === 106 /* j */) return JSON.parse(text.slice(1)) as T;
  if (tag === 118 /* v */) {
    return deserialize(Buffer.from(text.slice(1), "base64")) as T;
  }
  throw new TypeError("Cannot decode value from Redis: unknown encoding");
}
