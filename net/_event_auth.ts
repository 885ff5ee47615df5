/**
 * The event server's token handshake (private; no Deno APIs here: the
 * browser client imports this file too).
 *
 * Both sides hold the same secret key. Neither sends it: each proves that it
 * knows it by answering the other side's random challenge with
 * HMAC-SHA256 (WebCrypto `crypto.subtle`). Answers are compared in constant
 * time. The server accepts no event, runs no handler and does not call
 * `onConnection` before step 4 passes.
 *
 * | step | server                                                        | client                                                            |
 * | ---- | ------------------------------------------------------------- | ----------------------------------------------------------------- |
 * | 1    | accepts the WebSocket upgrade, starts the `authTimeout` clock  | opens the WebSocket                                               |
 * | 2    | sends `{"t":"c","alg":"HMAC-SHA256","nonce":Ns}` (Ns: 32 random bytes, base64) | waits for the challenge; a hello instead (server without auth) fails the client when it has a key |
 * | 3    | waits for ONE text message of at most 1024 bytes              | sends `{"t":"r","mac":HMAC(K, "weft-events/1 client " + Ns),"nonce":Nc}` (Nc: its own 32 random bytes) |
 * | 4    | checks the mac in constant time; a wrong mac, any other message, binary data or the deadline → close 4001 "Authentication failed: ..." | —                                                                 |
 * | 5    | sends the hello `{"t":"h",...,"mac":HMAC(K, "weft-events/1 server " + Nc)}`; events start | checks the server's mac in constant time; wrong or missing → closes with 4001 and does not reconnect |
 *
 * The label ("client" / "server") differs per direction so that one side's
 * answer can never be replayed as the other side's. A failed handshake is
 * final for the client: it rejects `connectEvents` with
 * {@linkcode EventAuthError} and does not reconnect.
 *
 * @module
 */

import { fromBase64, toBase64 } from "./_event_protocol.ts";

/** Algorithm named in the challenge. */
export const AUTH_ALGORITHM = "HMAC-SHA256";
/** Cap on the size of the client's answer (step 3), in bytes. */
export const MAX_AUTH_MESSAGE = 1024;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const encoder = new TextEncoder();

/**
 * A failed event-server handshake (wrong key, no answer in time, ...).
 *
 * @example A client with the wrong key
 * ```ts
 * import { connectEvents, EventAuthError, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({ authKey: "right" });
 * try {
 *   await connectEvents(server.url, { authKey: "wrong" });
 * } catch (error) {
 *   console.log(error instanceof EventAuthError); // true
 * }
 * ```
 */
export class EventAuthError extends Error {
  /**
   * Creates the error with a message saying what failed.
   *
   * @param message What failed.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventAuthError";
  }
}

/** Validates an auth key option and returns its bytes. */
export function keyBytes(key: Uint8Array | string, field: string): Uint8Array {
  if (typeof key === "string") key = encoder.encode(key);
  if (!(key instanceof Uint8Array)) {
    throw new TypeError(
      `Invalid option "${field}": expected a Uint8Array or a string`,
    );
  }
  if (key.byteLength === 0) {
    throw new RangeError(`Invalid option "${field}": the key is empty`);
  }
  return key;
}

/** A fresh random challenge, base64. */
export function newNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

function importKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

async function mac(
  key: Uint8Array,
  label: "client" | "server",
  nonce: string,
): Promise<Uint8Array> {
  const message = encoder.encode(`weft-events/1 ${label} ${nonce}`);
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", await importKey(key), message),
  );
}

/** The answer to challenge `nonce`, base64. */
export async function answer(
  key: Uint8Array,
  label: "client" | "server",
  nonce: string,
): Promise<string> {
  return toBase64(await mac(key, label, nonce));
}

/** Checks an answer to `nonce` in constant time (for equal lengths). */
export async function verify(
  key: Uint8Array,
  label: "client" | "server",
  nonce: string,
  answerText: unknown,
): Promise<boolean> {
  const expected = await mac(key, label, nonce);
  const got = typeof answerText === "string"
    ? fromBase64(answerText)
    : undefined;
  // Compare a full-length buffer even when the answer is missing or short,
  // so the time spent does not depend on how much of it is right.
  const other = got && got.byteLength === MAC_BYTES
    ? got
    : new Uint8Array(MAC_BYTES);
  let diff = got && got.byteLength === MAC_BYTES ? 0 : 1;
  for (let i = 0; i < MAC_BYTES; i++) diff |= expected[i] ^ other[i];
  return diff === 0;
}

/** Checks that a received nonce is base64 of the expected length. */
export function isNonce(value: unknown): value is string {
  if (typeof value !== "string") return false;
  return fromBase64(value)?.byteLength === NONCE_BYTES;
}
