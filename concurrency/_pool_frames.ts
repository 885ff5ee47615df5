/**
 * Frames between a `Pool` and its child processes (private): a 4-byte
 * little-endian length, then the message serialized by V8 (`node:v8`), over
 * the child's stdin (parent to child) and stdout (child to parent). The
 * pipes belong to the two processes alone: no other local user can reach
 * them.
 *
 * @module
 */

import { deserialize, serialize } from "node:v8";

/** Largest frame accepted (a task's arguments or result). */
export const MAX_FRAME = 1 << 30;

/**
 * `message` as one frame. Throws a `DataCloneError` (and sends nothing) if
 * it holds what V8 cannot serialize (a function, a Symbol...).
 */
export function encodeFrame(message: unknown): Uint8Array {
  let body: Uint8Array;
  try {
    body = serialize(message);
  } catch (error) {
    throw new DOMException(
      `Cannot send to a pool process: ${(error as Error).message}`,
      "DataCloneError",
    );
  }
  if (body.length > MAX_FRAME) {
    throw new RangeError(
      `Cannot send to a pool process: the message takes ${body.length} bytes, more than ${MAX_FRAME}`,
    );
  }
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  return frame;
}

/**
 * Yields the messages of a byte stream of frames until it ends.
 *
 * @throws {RangeError} On a frame longer than {@linkcode MAX_FRAME}.
 */
export async function* readFrames(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<unknown, void, undefined> {
  let buffered: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    buffered = buffered.length === 0 ? chunk : concat(buffered, chunk);
    let offset = 0;
    while (buffered.length - offset >= 4) {
      const length = new DataView(
        buffered.buffer,
        buffered.byteOffset + offset,
        4,
      ).getUint32(0, true);
      if (length > MAX_FRAME) {
        throw new RangeError(
          `Cannot read from a pool process: a frame of ${length} bytes is more than ${MAX_FRAME}`,
        );
      }
      if (buffered.length - offset - 4 < length) break;
      const body = buffered.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      yield deserialize(body);
    }
    buffered = offset === buffered.length
      ? new Uint8Array(0)
      : buffered.slice(offset);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
