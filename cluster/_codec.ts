// Values stored in Redis: "j" + JSON when the value survives JSON exactly
// (plain objects, arrays, strings, finite numbers, booleans, null), else
// "v" + base64 of the structured-clone serialization (node:v8), which keeps
// Dates, Maps, Sets, typed arrays, bigints, undefined... Nothing executes on
// decode.
import { deserialize, serialize } from "node:v8";
import { Buffer } from "node:buffer";

const MAX_DEPTH = 64;

function jsonSafe(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !jsonSafe(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (key === "__proto__") return false;
        if (!jsonSafe((value as Record<string, unknown>)[key], depth + 1)) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
  }
}

export function _encode(value: unknown): string {
  if (jsonSafe(value, 0)) return "j" + JSON.stringify(value);
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
