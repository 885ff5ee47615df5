/**
 * The challenge/response handshake of Python's `multiprocessing.connection`.
 *
 * @module
 */
import { AuthenticationError } from "./authentication_error.ts";
import { type DigestName, hmac, timingSafeEqual } from "./_hmac.ts";

/**
 * What the handshake needs from a connection: whole messages in, whole
 * messages out. weft's `Connection` fits, and so does anything else that
 * frames bytes (a test double, a `FramedConnection` adapter).
 *
 * @example Any object with the two methods runs the handshake
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerChallenge, deliverChallenge, type MessageConnection } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * let sent = 0;
 * const counting: MessageConnection = {
 *   sendBytes: (bytes) => (sent++, a.sendBytes(bytes)),
 *   recvBytes: (maxLength) => a.recvBytes(maxLength),
 * };
 * await Promise.all([deliverChallenge(counting, "k"), answerChallenge(b, "k")]);
 * assert.equal(sent, 2); // the challenge, then the welcome
 * a.close();
 * b.close();
 * ```
 */
export interface MessageConnection {
  /** Sends one message. */
  sendBytes(bytes: Uint8Array): Promise<void>;
  /**
   * Receives one message; must reject (and may close the connection) if it
   * is longer than `maxLength` bytes.
   */
  recvBytes(maxLength?: number): Promise<Uint8Array>;
}

/**
 * A shared secret: bytes, or a string used as its UTF-8 bytes.
 *
 * @example A string key and its UTF-8 bytes are the same key
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AuthKey, clientHandshake, serverHandshake } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const text: AuthKey = "clé";
 * const bytes: AuthKey = new TextEncoder().encode("clé");
 * const [a, b] = Pipe();
 * await Promise.all([serverHandshake(a, text), clientHandshake(b, bytes)]);
 * assert.equal(a.closed || b.closed, false);
 * a.close();
 * b.close();
 * ```
 */
export type AuthKey = Uint8Array | string;

/**
 * Options of {@linkcode deliverChallenge} and {@linkcode answerChallenge}.
 *
 * @example Requiring HMAC-SHA-2 (no Python 3.11 peers)
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerChallenge, deliverChallenge, type HandshakeOptions } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const strict: HandshakeOptions = { allowLegacyMd5: false };
 * const [server, client] = Pipe();
 * await Promise.all([deliverChallenge(server, "k", strict), answerChallenge(client, "k", strict)]);
 * await client.send("in");
 * assert.equal(await server.recv(), "in");
 * server.close();
 * client.close();
 * ```
 */
export interface HandshakeOptions {
  /**
   * Accept (server) or answer (client) the legacy unprefixed HMAC-MD5 of
   * Python 3.11 and older. `false` requires HMAC-SHA-2 and so shuts out
   * Python ≤ 3.11 peers.
   *
   * @default {true}
   */
  allowLegacyMd5?: boolean;
}

/**
 * Bytes of a random challenge after the `{sha256}` prefix (Python: 40).
 *
 * @example At least 32 random bytes, as Python requires
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHALLENGE_LENGTH } from "@weft/weft/auth";
 *
 * assert.equal(CHALLENGE_LENGTH, 40);
 * ```
 */
export const CHALLENGE_LENGTH = 40;
/**
 * Cap on every message read during the handshake (as Python: 256).
 *
 * @example Python's limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { HANDSHAKE_MAX_MESSAGE } from "@weft/weft/auth";
 *
 * assert.equal(HANDSHAKE_MAX_MESSAGE, 256);
 * ```
 */
export const HANDSHAKE_MAX_MESSAGE = 256;

const encoder = new TextEncoder();
const CHALLENGE = encoder.encode("#CHALLENGE#");
const WELCOME = encoder.encode("#WELCOME#");
const FAILURE = encoder.encode("#FAILURE#");
const LEGACY_CHALLENGE_LENGTH = 20;
const MD5_LENGTH = 16;
const SUPPORTED: readonly DigestName[] = ["md5", "sha256", "sha384"];
// Python's allowed names include sha3_256 and sha3_384; the longest is 8.
const MAX_DIGEST_NAME = 8;

/**
 * The authkey as bytes (a string is UTF-8 encoded); rejects empty and
 * non-byte keys with a TypeError.
 *
 * @example A string key is UTF-8 encoded
 * ```ts
 * import assert from "node:assert/strict";
 * import { authKeyBytes } from "@weft/weft/auth";
 *
 * assert.deepEqual(authKeyBytes("ab"), new Uint8Array([97, 98]));
 * assert.throws(() => authKeyBytes(""), TypeError);
 * ```
 */
export function authKeyBytes(authkey: AuthKey): Uint8Array {
  const bytes = typeof authkey === "string"
    ? encoder.encode(authkey)
    : authkey instanceof Uint8Array
    ? authkey
    : undefined;
  if (bytes === undefined) {
    throw new TypeError("Invalid authkey: expected a Uint8Array or a string");
  }
  if (bytes.length === 0) {
    throw new TypeError("Invalid authkey: it is empty");
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Splits `{digest}payload`. Returns `undefined` for a missing prefix or one
 * that is too long; the name is returned even if weft cannot compute it.
 */
function splitDigestPrefix(
  message: Uint8Array,
): { name: string; payload: Uint8Array } | undefined {
  if (message[0] !== 0x7b /* { */) return undefined;
  const end = message.subarray(0, MAX_DIGEST_NAME + 2).indexOf(0x7d /* } */);
  if (end < 2) return undefined;
  const name = String.fromCharCode(...message.subarray(1, end));
  return { name, payload: message.subarray(end + 1) };
}

function isSupported(name: string): name is DigestName {
  return (SUPPORTED as readonly string[]).includes(name);
}

async function exchange<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof AuthenticationError) throw error;
    throw new AuthenticationError(
      `Cannot authenticate: the connection failed during the handshake`,
      { cause: error },
    );
  }
}

/**
 * Server side of the handshake: challenges the peer to prove it holds
 * `authkey`, like Python's `multiprocessing.connection.deliver_challenge`
 * (3.12+). A weft `Listener` runs this, then {@linkcode answerChallenge},
 * before handing out a connection; a weft `Client` runs them the other way
 * round, so both ends are authenticated.
 *
 * ## Protocol
 *
 * Every message is framed by the connection (Python: a 4-byte big-endian
 * signed length, then the bytes). Every read during the handshake is capped
 * at 256 bytes; a longer message fails the handshake.
 *
 * | # | Server (`deliverChallenge`) | Client (`answerChallenge`) |
 * |---|-----------------------------|----------------------------|
 * | 1 | `M = "{sha256}" + 40 random bytes` (`crypto.getRandomValues`) | |
 * | 2 | send `"#CHALLENGE#" + M` (59 bytes) | |
 * | 3 | | receive ≤ 256 bytes; must start with `"#CHALLENGE#"`, else `AuthenticationError`; the rest is `M` (≥ 20 bytes, else `AuthenticationError`) |
 * | 4 | | `M` exactly 20 bytes (Python ≤ 3.11 server): `R = HMAC-MD5(key, M)`, 16 bytes, no prefix (refused if `allowLegacyMd5: false`). Otherwise `M` must start with `{name}`: `R = "{name}" + HMAC-name(key, M)` over the whole `M` prefix included; `name` is sha256 or sha384, and any other announced digest (sha3_*, md5 when legacy is off) is answered with sha256, which Python servers accept |
 * | 5 | | send `R` |
 * | 6 | receive ≤ 256 bytes → `R` | |
 * | 7 | `R` exactly 16 bytes: a Python ≤ 3.11 client's HMAC-MD5 (refused if `allowLegacyMd5: false`); else parse the `{name}` prefix (md5 only if legacy is allowed, sha256, sha384; anything else fails) | |
 * | 8 | compare `HMAC-name(key, M)` with `R` in constant time | |
 * | 9a | equal: send `"#WELCOME#"`, resolve | receive ≤ 256 bytes; `"#WELCOME#"` resolves |
 * | 9b | different: send `"#FAILURE#"`, reject with `AuthenticationError` | anything else rejects with `AuthenticationError` |
 *
 * A Python 3.11 client answers the prefixed challenge with a raw HMAC-MD5
 * over all of `M`, which step 7 accepts by default. A connection failure
 * during any step (EOF, oversize message) rejects with
 * `AuthenticationError` whose `cause` is the underlying error. Callers own
 * the deadline (weft's `Listener` and `Client` close the connection when it
 * passes) and must close the connection when this rejects. Nothing but the
 * messages above is read or written, so no application byte crosses before
 * both sides pass. Error messages never contain the key.
 *
 * @example The server checks a client that knows the key
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerChallenge, deliverChallenge } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, client] = Pipe();
 * await Promise.all([
 *   deliverChallenge(server, "secret"),
 *   answerChallenge(client, "secret"),
 * ]);
 * await client.send("hello"); // authenticated: application messages follow
 * assert.equal(await server.recv(), "hello");
 * server.close();
 * client.close();
 * ```
 */
export async function deliverChallenge(
  conn: MessageConnection,
  authkey: AuthKey,
  options: HandshakeOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  const allowMd5 = options.allowLegacyMd5 ?? true;
  const message = concat(
    encoder.encode("{sha256}"),
    crypto.getRandomValues(new Uint8Array(CHALLENGE_LENGTH)),
  );
  await exchange(() => conn.sendBytes(concat(CHALLENGE, message)));
  const response = await exchange(() => conn.recvBytes(HANDSHAKE_MAX_MESSAGE));

  let digest: DigestName | undefined;
  let mac = response;
  if (response.length === MD5_LENGTH) {
    if (allowMd5) digest = "md5";
  } else {
    const split = splitDigestPrefix(response);
    if (
      split !== undefined && isSupported(split.name) &&
      (split.name !== "md5" || allowMd5)
    ) {
      digest = split.name;
      mac = split.payload;
    }
  }
  let ok = false;
  if (digest !== undefined) {
    const expected = await hmac(digest, key, message);
    ok = timingSafeEqual(expected, mac);
  }
  if (!ok) {
    await exchange(() => conn.sendBytes(FAILURE)).catch(() => {});
    throw new AuthenticationError(
      digest === undefined
        ? "Cannot authenticate peer: unsupported or missing digest in its response"
        : "Cannot authenticate peer: digest received was wrong",
    );
  }
  await exchange(() => conn.sendBytes(WELCOME));
}

/**
 * Client side of the handshake: proves to the peer that we hold `authkey`,
 * like Python's `multiprocessing.connection.answer_challenge`. Works with
 * Python 3.11 servers (legacy HMAC-MD5), Python 3.12+ servers and weft
 * servers. The step table is on {@linkcode deliverChallenge}.
 *
 * @example A wrong key fails on both sides
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerChallenge, AuthenticationError, deliverChallenge } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, client] = Pipe();
 * const results = await Promise.allSettled([
 *   deliverChallenge(server, "right key"),
 *   answerChallenge(client, "wrong key"),
 * ]);
 * for (const r of results) {
 *   assert.ok(r.status === "rejected" && r.reason instanceof AuthenticationError);
 * }
 * server.close();
 * client.close();
 * ```
 */
export async function answerChallenge(
  conn: MessageConnection,
  authkey: AuthKey,
  options: HandshakeOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  const allowMd5 = options.allowLegacyMd5 ?? true;
  const received = await exchange(() => conn.recvBytes(HANDSHAKE_MAX_MESSAGE));
  if (!startsWith(received, CHALLENGE)) {
    throw new AuthenticationError(
      "Cannot authenticate: expected a challenge from the peer",
    );
  }
  const message = received.subarray(CHALLENGE.length);
  if (message.length < LEGACY_CHALLENGE_LENGTH) {
    throw new AuthenticationError(
      `Cannot authenticate: challenge too short (${message.length} bytes)`,
    );
  }
  let response: Uint8Array;
  if (message.length === LEGACY_CHALLENGE_LENGTH) {
    if (!allowMd5) {
      throw new AuthenticationError(
        "Cannot authenticate: the peer only speaks legacy HMAC-MD5 and allowLegacyMd5 is false",
      );
    }
    response = await hmac("md5", key, message);
  } else {
    const split = splitDigestPrefix(message);
    if (split === undefined) {
      throw new AuthenticationError(
        "Cannot authenticate: challenge has no digest prefix",
      );
    }
    const name: DigestName = isSupported(split.name) &&
        (split.name !== "md5" || allowMd5)
      ? split.name
      : "sha256";
    response = concat(
      encoder.encode(`{${name}}`),
      await hmac(name, key, message),
    );
  }
  await exchange(() => conn.sendBytes(response));
  const verdict = await exchange(() => conn.recvBytes(HANDSHAKE_MAX_MESSAGE));
  if (
    verdict.length !== WELCOME.length || !startsWith(verdict, WELCOME)
  ) {
    throw new AuthenticationError(
      "Cannot authenticate: digest sent was rejected",
    );
  }
}

/**
 * Options of {@linkcode serverHandshake} and {@linkcode clientHandshake}.
 *
 * @example A peer that never answers is cut off
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError, type HandshakePairOptions, serverHandshake } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, silent] = Pipe();
 * const options: HandshakePairOptions = { timeout: 50 };
 * await assert.rejects(serverHandshake(server, "k", options), AuthenticationError);
 * assert.equal(server.closed, true);
 * silent.close();
 * ```
 */
export interface HandshakePairOptions extends HandshakeOptions {
  /**
   * Deadline for the whole handshake in ms (default: none). When it
   * passes, the connection is closed (if it has a `close()`) and the call
   * rejects with `AuthenticationError`.
   */
  timeout?: number;
}

async function runPair(
  conn: MessageConnection & { close?(): void },
  steps: () => Promise<void>,
  timeout: number | undefined,
): Promise<void> {
  if (timeout === undefined || timeout === Infinity) {
    try {
      return await steps();
    } catch (error) {
      conn.close?.();
      throw error;
    }
  }
  if (!(timeout > 0)) {
    throw new TypeError(
      `Invalid timeout: expected a positive number of ms, got ${timeout}`,
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      conn.close?.();
      reject(
        new AuthenticationError(
          `Cannot authenticate: the handshake timed out after ${timeout} ms`,
        ),
      );
    }, timeout);
  });
  const running = steps();
  try {
    await Promise.race([running, deadline]);
  } catch (error) {
    running.catch(() => {});
    conn.close?.();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The whole server side of the authkey handshake in one call, as Python's
 * `Listener.accept()` runs it: {@linkcode deliverChallenge} (is the peer
 * legitimate?) then {@linkcode answerChallenge} (prove that we are), within
 * `timeout` ms. On failure the connection is closed (when it has a
 * `close()`) and the call rejects with `AuthenticationError`.
 *
 * @example Both directions with one call per side
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientHandshake, serverHandshake } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, client] = Pipe();
 * await Promise.all([
 *   serverHandshake(server, "key", { timeout: 5000 }),
 *   clientHandshake(client, "key", { timeout: 5000 }),
 * ]);
 * assert.equal(server.closed || client.closed, false); // both authenticated
 * server.close();
 * client.close();
 * ```
 */
export function serverHandshake(
  conn: MessageConnection & { close?(): void },
  authkey: AuthKey,
  options: HandshakePairOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  return runPair(conn, async () => {
    await deliverChallenge(conn, key, options);
    await answerChallenge(conn, key, options);
  }, options.timeout);
}

/**
 * The whole client side of the authkey handshake in one call, as Python's
 * `Client()` runs it: {@linkcode answerChallenge} then
 * {@linkcode deliverChallenge}, within `timeout` ms. On failure the
 * connection is closed (when it has a `close()`) and the call rejects with
 * `AuthenticationError`.
 *
 * @example A wrong key closes the connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError, clientHandshake, serverHandshake } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, client] = Pipe();
 * const [s, c] = await Promise.allSettled([
 *   serverHandshake(server, "key"),
 *   clientHandshake(client, "other key"),
 * ]);
 * assert.ok(c.status === "rejected" && c.reason instanceof AuthenticationError);
 * assert.equal(s.status, "rejected");
 * assert.equal(client.closed, true); // closed on failure
 * server.close();
 * ```
 */
export function clientHandshake(
  conn: MessageConnection & { close?(): void },
  authkey: AuthKey,
  options: HandshakePairOptions = {},
): Promise<void> {
  const key = authKeyBytes(authkey);
  return runPair(conn, async () => {
    await answerChallenge(conn, key, options);
    await deliverChallenge(conn, key, options);
  }, options.timeout);
}
