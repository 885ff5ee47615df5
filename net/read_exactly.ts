/**
 * {@linkcode readExactly} and {@linkcode IncompleteReadError} (Python's
 * `asyncio.StreamReader.readexactly`), and the byte-stream contracts
 * ({@linkcode ByteReader}, {@linkcode ByteStream}) that
 * {@linkcode FramedConnection} and the servers' connections share.
 *
 * @module
 */

/**
 * Anything with Deno's `read` contract (`Deno.Conn`, `Deno.FsFile`, a served connection).
 *
 * @example A reader over an in-memory buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ByteReader, readExactly } from "@weft/weft/net";
 *
 * const data = new Uint8Array([1, 2, 3, 4]);
 * let at = 0;
 * const reader: ByteReader = {
 *   read(p) {
 *     if (at === data.length) return Promise.resolve(null);
 *     p[0] = data[at++]; // one byte per read: readExactly loops
 *     return Promise.resolve(1);
 *   },
 * };
 * assert.deepEqual(await readExactly(reader, 3), new Uint8Array([1, 2, 3]));
 * ```
 */
export interface ByteReader {
  /** Reads up to `p.length` bytes into `p`; resolves with the count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * A two-way byte stream: `Deno.Conn`, `Deno.TcpConn` or a {@linkcode ServedConnection}.
 *
 * @example A `Deno.Conn` is a ByteStream
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ByteStream, recv, sendall } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client: ByteStream = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * await sendall(client, "hi");
 * assert.equal(new TextDecoder().decode(await recv(server, 16)), "hi");
 * client.close();
 * ```
 */
export interface ByteStream extends ByteReader {
  /** Writes some of `p`; resolves with how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the stream. */
  close(): void;
  /**
   * Optional: told after every whole frame {@linkcode FramedConnection}
   * received (a {@linkcode ServedConnection} stops its `requestTimeout`
   * clock there).
   */
  progress?(): void;
}

/**
 * The stream ended before the bytes a caller asked for arrived: Python's
 * `asyncio.IncompleteReadError`. `partial` holds what did arrive.
 *
 * @example The stream ends two bytes short
 * ```ts
 * import assert from "node:assert/strict";
 * import { IncompleteReadError, readExactly } from "@weft/weft/net";
 *
 * const file = ReadableStream.from([new Uint8Array([1, 2])]).getReader();
 * const reader = {
 *   async read(p: Uint8Array) {
 *     const { value } = await file.read();
 *     if (!value) return null;
 *     p.set(value);
 *     return value.length;
 *   },
 * };
 * await assert.rejects(readExactly(reader, 4), (error) => {
 *   assert.ok(error instanceof IncompleteReadError);
 *   assert.deepEqual(error.partial, new Uint8Array([1, 2]));
 *   assert.equal(error.expected, 4);
 *   return true;
 * });
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes that arrived before the end of the stream. */
  readonly partial: Uint8Array;
  /** How many bytes were expected. */
  readonly expected: number;

  /** Builds the error; `action` opens the message ("Cannot read 4 bytes"). */
  constructor(partial: Uint8Array, expected: number, action?: string) {
    super(
      `${
        action ?? `Cannot read ${expected} bytes`
      }: the stream ended after ${partial.length} of ${expected} bytes`,
    );
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * Reads exactly `n` bytes from `reader` (looping over short reads), like
 * Python's `asyncio.StreamReader.readexactly`. Throws
 * {@linkcode IncompleteReadError} if the stream ends first, a `RangeError`
 * if `n` is not a non-negative safe integer.
 *
 * @example Three bytes that arrive in two writes
 * ```ts
 * import assert from "node:assert/strict";
 * import { readExactly } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * await client.write(new Uint8Array([1, 2]));
 * await client.write(new Uint8Array([3]));
 * assert.deepEqual(await readExactly(server, 3), new Uint8Array([1, 2, 3]));
 * ```
 */
export async function readExactly(
  reader: ByteReader,
  n: number,
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot read exactly ${n} bytes: the count must be a non-negative integer`,
    );
  }
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await reader.read(out.subarray(filled));
    if (got === null) {
      throw new IncompleteReadError(out.slice(0, filled), n);
    }
    filled += got;
  }
  return out;
}
