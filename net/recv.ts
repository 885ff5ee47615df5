/**
 * {@linkcode recv} and {@linkcode sendall}: Python's raw socket calls
 * `sock.recv(bufsize)` and `sock.sendall(data)` on any Deno byte stream, for
 * programs that speak a peer's unframed protocol ("read what is there").
 *
 * @module
 */

import type { ByteReader, ByteStream } from "./framed_connection.ts";

/**
 * Options of {@linkcode recv}.
 *
 * @example Python's `sock.settimeout(0.05)` before `recv`
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, type SocketRecvOptions } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using _client = await Deno.connect({ port: listener.addr.port });
 * const server = await listener.accept();
 * const options: SocketRecvOptions = { timeout: 50 };
 * await assert.rejects(recv(server, 1024, options), Deno.errors.TimedOut); // and server is closed
 * ```
 */
export interface SocketRecvOptions {
  /**
   * Milliseconds to wait for the first byte (Python's `sock.settimeout`).
   * When it passes, the stream is closed (Deno cannot cancel a pending
   * read) and `recv` rejects with `Deno.errors.TimedOut`. Default: no limit.
   */
  timeout?: number;
}

/**
 * Reads what the peer has sent, up to `bufsize` bytes: Python's
 * `sock.recv(bufsize)`. Resolves with 1 to `bufsize` bytes as soon as any
 * arrived (TCP may deliver a message in several pieces or several messages
 * in one, exactly as in Python), or with an empty array when the peer
 * closed its side (Python's `b''`).
 *
 * Use it to speak a protocol that has no framing, such as the tutorials'
 * `conn.recv(1024)` exchanges; for your own protocols prefer
 * {@linkcode FramedConnection}. Throws a `RangeError` if `bufsize` is not a
 * positive integer, `Deno.errors.TimedOut` after `timeout` ms of silence.
 *
 * @example Echo one message back, upper-cased like Python's `bytes.upper()`
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall, serveTcp } from "@weft/weft/net";
 *
 * await using server = await serveTcp({
 *   port: 0,
 *   handler: async (conn) => {
 *     const data = await recv(conn, 1024);
 *     if (data.length) await sendall(conn, data.map((b) => b >= 97 && b <= 122 ? b - 32 : b));
 *   },
 * });
 * using client = await Deno.connect(server.addr);
 * await sendall(client, "hello");
 * const reply = await recv(client, 1024, { timeout: 5000 });
 * assert.equal(new TextDecoder().decode(reply), "HELLO");
 * assert.equal((await recv(client, 1024, { timeout: 5000 })).length, 0); // server closed
 * ```
 */
export async function recv(
  stream: ByteReader & { close?(): void },
  bufsize: number,
  options: SocketRecvOptions = {},
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(bufsize) || bufsize < 1) {
    throw new RangeError(
      `Cannot recv: bufsize must be a positive integer, got ${String(bufsize)}`,
    );
  }
  const timeout = options.timeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || !(timeout >= 0) || !isFinite(timeout))
  ) {
    throw new TypeError(
      `Cannot recv: timeout must be a non-negative number of ms, got ${
        String(timeout)
      }`,
    );
  }
  const buffer = new Uint8Array(bufsize);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      try {
        stream.close?.();
      } catch {
        // already closed
      }
    }, timeout);
  }
  try {
    const n = await stream.read(buffer);
    if (timedOut) throw timeoutError(timeout!);
    return n === null ? new Uint8Array(0) : buffer.slice(0, n);
  } catch (error) {
    if (timedOut) throw timeoutError(timeout!, error);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function timeoutError(ms: number, cause?: unknown): Error {
  return new Deno.errors.TimedOut(
    `Cannot recv: the peer sent nothing for ${ms} ms`,
    { cause },
  );
}

/**
 * Writes all of `data` (a string is sent as UTF-8): Python's
 * `sock.sendall(data)`, looping over Deno's partial writes.
 *
 * @example Python's `sock.sendall(b"\x01\x02\x03")`
 * ```ts
 * import assert from "node:assert/strict";
 * import { recv, sendall } from "@weft/weft/net";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * await sendall(client, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await recv(server, 16), new Uint8Array([1, 2, 3]));
 * ```
 */
export async function sendall(
  stream: Pick<ByteStream, "write">,
  data: Uint8Array | string,
): Promise<void> {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  let done = 0;
  while (done < bytes.length) {
    done += await stream.write(bytes.subarray(done));
  }
}
