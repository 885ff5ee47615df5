/**
 * The raw HMAC challenge of the tutorials' "verify the client is
 * legitimate" lesson (hmac + salt over a plain socket), next to
 * `multiprocessing.connection`'s handshake in `handshake.ts`.
 *
 * @module
 */
import { AuthenticationError } from "./authentication_error.ts";
import { hmac, timingSafeEqual } from "./_hmac.ts";
import { type AuthKey, authKeyBytes } from "./handshake.ts";

/**
 * A byte stream the raw challenge runs on: `Deno.Conn`, a served connection.
 *
 * @example A `Deno.Conn` is a RawStream
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerRawChallenge, deliverRawChallenge, type RawStream } from "@weft/weft/auth";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * const [a, b]: RawStream[] = [server, client];
 * await Promise.all([deliverRawChallenge(a, "k"), answerRawChallenge(b, "k")]);
 * await b.write(new Uint8Array([7])); // authenticated: the stream carries our bytes
 * const byte = new Uint8Array(1);
 * assert.equal(await a.read(byte), 1);
 * assert.equal(byte[0], 7);
 * ```
 */
export interface RawStream {
  /** Reads up to `p.length` bytes; `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves with the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the stream (used when the deadline passes). */
  close(): void;
}

/**
 * Options of {@linkcode deliverRawChallenge} and {@linkcode answerRawChallenge}.
 *
 * @example A client that never answers is cut off
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError, deliverRawChallenge, type RawChallengeOptions } from "@weft/weft/auth";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using _silent = await Deno.connect({ port: listener.addr.port });
 * const server = await listener.accept();
 * const options: RawChallengeOptions = { digest: "sha256", challengeLength: 32, timeout: 50 };
 * await assert.rejects(deliverRawChallenge(server, "k", options), AuthenticationError);
 * ```
 */
export interface RawChallengeOptions {
  /**
   * HMAC digest. `"md5"` by default: the lesson's `hmac.new(key, msg)` used
   * Python's old default, MD5 (16-byte answer). `"sha256"` is the hardened
   * variant (32-byte answer); both sides must agree.
   *
   * @default {"md5"}
   */
  digest?: "md5" | "sha256";
  /**
   * Bytes of random challenge (32 by default: the lesson's
   * `os.urandom(32)`).
   *
   * @default {32}
   */
  challengeLength?: number;
  /**
   * Milliseconds for the whole exchange; then the stream is closed.
   *
   * @default {10000}
   */
  timeout?: number;
}

const DIGEST_LENGTH = { md5: 16, sha256: 32 } as const;

function settings(options: RawChallengeOptions) {
  const digest = options.digest ?? "md5";
  if (digest !== "md5" && digest !== "sha256") {
    throw new TypeError(
      `Cannot run challenge: digest must be "md5" or "sha256", got ${
        String(digest)
      }`,
    );
  }
  const challengeLength = options.challengeLength ?? 32;
  if (
    !Number.isSafeInteger(challengeLength) || challengeLength < 16 ||
    challengeLength > 1024
  ) {
    throw new RangeError(
      `Cannot run challenge: challengeLength must be 16 to 1024, got ${
        String(challengeLength)
      }`,
    );
  }
  return { digest, challengeLength, timeout: options.timeout ?? 10_000 };
}

async function readExactly(stream: RawStream, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await stream.read(out.subarray(filled));
    if (got === null) {
      throw new AuthenticationError(
        `Cannot authenticate: the peer closed after ${filled} of ${n} bytes`,
      );
    }
    filled += got;
  }
  return out;
}

async function writeAll(stream: RawStream, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await stream.write(bytes.subarray(done));
}

async function withDeadline<T>(
  stream: RawStream,
  ms: number,
  work: Promise<T>,
): Promise<T> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    try {
      stream.close();
    } catch {
      // already closed
    }
  }, ms);
  try {
    return await work;
  } catch (error) {
    if (expired) {
      throw new AuthenticationError(
        `Cannot authenticate: no answer within ${ms} ms`,
        { cause: error },
      );
    }
    if (error instanceof AuthenticationError) throw error;
    throw new AuthenticationError(
      `Cannot authenticate: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Server side of the tutorial's raw challenge: sends `challengeLength`
 * random bytes and requires the client's HMAC of them under `authkey`.
 * Throws {@linkcode AuthenticationError} on a wrong or missing answer (the
 * lesson then closes the connection; nothing is sent to say why).
 *
 * | step | server (this function)                          | client ({@linkcode answerRawChallenge})  |
 * | ---- | ----------------------------------------------- | ---------------------------------------- |
 * | 1    | sends 32 random bytes (`crypto.getRandomValues`) | reads exactly 32 bytes                   |
 * | 2    | reads exactly 16 bytes (32 with `sha256`)        | sends HMAC-MD5(authkey, challenge)       |
 * | 3    | constant-time compare; mismatch: throws          |                                          |
 *
 * Unlike `multiprocessing.connection`'s handshake there is no framing, no
 * digest name and no verdict message: these are exactly the lesson's bytes,
 * so its Python client (`hmac.new(key, msg, 'md5')`) works unchanged. It is
 * one-way (the client learns nothing about the server) and MD5-based; use
 * `deliverChallenge`/`answerChallenge` for new protocols. Every read is
 * exact-length and the whole exchange has a deadline.
 *
 * @example The tutorial's key passes, a guess is rejected
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerRawChallenge, AuthenticationError, deliverRawChallenge } from "@weft/weft/auth";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * const key = "alex bang bang bang";
 * await Promise.all([deliverRawChallenge(server, key), answerRawChallenge(client, key)]);
 * const [verdict] = await Promise.allSettled([
 *   deliverRawChallenge(server, key),
 *   answerRawChallenge(client, "guess"),
 * ]);
 * assert.ok(verdict.status === "rejected" && verdict.reason instanceof AuthenticationError);
 * ```
 */
export async function deliverRawChallenge(
  stream: RawStream,
  authkey: AuthKey,
  options: RawChallengeOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  const { digest, challengeLength, timeout } = settings(options);
  const challenge = crypto.getRandomValues(new Uint8Array(challengeLength));
  await withDeadline(
    stream,
    timeout,
    (async () => {
      await writeAll(stream, challenge);
      const answer = await readExactly(stream, DIGEST_LENGTH[digest]);
      const expected = await hmac(digest, key, challenge);
      if (!timingSafeEqual(answer, expected)) {
        throw new AuthenticationError(
          "Cannot authenticate peer: digest received was wrong",
        );
      }
    })(),
  );
}

/**
 * Client side of the tutorial's raw challenge: reads the server's
 * `challengeLength` bytes and answers with their HMAC under `authkey` (see
 * {@linkcode deliverRawChallenge} for the step table). The server sends no
 * verdict: a wrong key shows as the server closing the connection.
 *
 * @example Answering with SHA-256 instead of MD5
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerRawChallenge, deliverRawChallenge } from "@weft/weft/auth";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ port: listener.addr.port });
 * using server = await listener.accept();
 * const opts = { digest: "sha256" } as const;
 * await Promise.all([
 *   deliverRawChallenge(server, "k", opts),
 *   answerRawChallenge(client, "k", opts),
 * ]);
 * await client.write(new Uint8Array([42])); // authenticated: the stream is ours
 * const byte = new Uint8Array(1);
 * assert.equal(await server.read(byte), 1);
 * assert.equal(byte[0], 42);
 * ```
 */
export async function answerRawChallenge(
  stream: RawStream,
  authkey: AuthKey,
  options: RawChallengeOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  const { digest, challengeLength, timeout } = settings(options);
  await withDeadline(
    stream,
    timeout,
    (async () => {
      const challenge = await readExactly(stream, challengeLength);
      await writeAll(stream, await hmac(digest, key, challenge));
    })(),
  );
}
