/**
 * The `authkey` scheme of the event server (private; no Deno APIs here: the
 * browser client imports this file too).
 *
 * Both sides hold the same secret key `K`. The proof travels in Socket.IO's
 * CONNECT auth payload, so any official client can send it; the server's
 * Engine.IO session id (`sid`, 15 random bytes chosen by the server, fresh
 * for every connection) is the challenge.
 *
 * | step | client                                                     | server                                                        |
 * | ---- | ---------------------------------------------------------- | ------------------------------------------------------------- |
 * | 1    | opens the Engine.IO session, reads `sid` from the open packet | —                                                          |
 * | 2    | CONNECT `nsp` with auth `{"nonce": N, "hmac": base64(HMAC-SHA256(K, "weft-events/2 connect " + sid + " " + nsp + " " + N))}`, N = base64 of 16–64 random bytes | — |
 * | 3    | —                                                          | checks the nonce's form, that it was not used on this session before, and the hmac in constant time; on failure: `CONNECT_ERROR {"message":"Authentication failed"}`, no handler runs |
 * | 4    | weft's client checks `hmac` in the CONNECT answer          | CONNECT answer `{"sid", "hmac": base64(HMAC-SHA256(K, "weft-events/2 accept " + sid + " " + nsp + " " + N))}`; then the `connect` handler runs, with the rest of the auth payload |
 *
 * Replay: a captured proof names a session id that only its own connection
 * has, and each nonce is accepted once per session. The labels
 * ("connect"/"accept") keep one side's answer from serving as the other's.
 *
 * @module
 */

import { fromBase64, toBase64 } from "./_event_packets.ts";

const encoder = new TextEncoder();
const MAC_BYTES = 32;

/**
 * A failed `authkey` check: wrong key, or a server that does not prove it
 * knows the key.
 *
 * @example A client with the wrong key
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, EventAuthError, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({ authkey: "right" });
 * try {
 *   await connectEvents(server.url, { authkey: "wrong", reconnection: false });
 * } catch (error) {
 *   assert.ok(error instanceof EventAuthError);
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

/** Validates an `authkey` option and returns its bytes. */
export function keyBytes(key: unknown, field: string): Uint8Array {
  if (typeof key === "string") key = encoder.encode(key);
  if (!(key instanceof Uint8Array) || key.byteLength === 0) {
    throw new TypeError(
      `Invalid option "${field}": expected a non-empty Uint8Array or string`,
    );
  }
  return key;
}

async function mac(
  key: Uint8Array,
  label: "connect" | "accept",
  sid: string,
  nsp: string,
  nonce: string,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const text = `weft-events/2 ${label} ${sid} ${nsp} ${nonce}`;
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", k, encoder.encode(text)),
  );
}

/** A fresh client nonce. */
export function newNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** The client's proof for CONNECT. */
export async function clientProof(
  key: Uint8Array,
  sid: string,
  nsp: string,
  nonce: string,
): Promise<{ nonce: string; hmac: string }> {
  return { nonce, hmac: toBase64(await mac(key, "connect", sid, nsp, nonce)) };
}

/**
 * The auth payload of a client's CONNECT: `base`, plus a fresh nonce and
 * the proof when there is a key. Returns the payload and the nonce.
 */
export async function connectAuth(
  base: Record<string, unknown>,
  key: Uint8Array | undefined,
  sid: string,
  nsp: string,
): Promise<[Record<string, unknown>, string | undefined]> {
  if (!key) return [{ ...base }, undefined];
  const nonce = newNonce();
  return [{ ...base, ...await clientProof(key, sid, nsp, nonce) }, nonce];
}

/** The server's proof for the CONNECT answer. */
export async function serverProof(
  key: Uint8Array,
  sid: string,
  nsp: string,
  nonce: string,
): Promise<string> {
  return toBase64(await mac(key, "accept", sid, nsp, nonce));
}

/** Constant-time check of a base64 MAC against the expected bytes. */
function equal(expected: Uint8Array, got: unknown): boolean {
  const bytes = typeof got === "string" && got.length <= 64
    ? fromBase64(got)
    : undefined;
  const other = bytes && bytes.length === MAC_BYTES
    ? bytes
    : new Uint8Array(MAC_BYTES);
  let diff = bytes && bytes.length === MAC_BYTES ? 0 : 1;
  for (let i = 0; i < MAC_BYTES; i++) diff |= expected[i] ^ other[i];
  return diff === 0;
}

/** Is `nonce` base64 of 16 to 64 bytes? */
function isNonce(nonce: unknown): nonce is string {
  if (typeof nonce !== "string" || nonce.length > 88) return false;
  const bytes = fromBase64(nonce);
  return bytes !== undefined && bytes.length >= 16 && bytes.length <= 64;
}

/**
 * Checks a CONNECT auth payload; `used` holds this session's accepted
 * nonces. Resolves with the nonce when the proof is right.
 */
export async function verifyClient(
  key: Uint8Array,
  sid: string,
  nsp: string,
  auth: Record<string, unknown>,
  used: Set<string>,
): Promise<string | undefined> {
  const nonce = auth.nonce;
  const expected = await mac(
    key,
    "connect",
    sid,
    nsp,
    isNonce(nonce) ? nonce : "",
  );
  const ok = equal(expected, auth.hmac) && isNonce(nonce) && !used.has(nonce);
  if (!ok) return undefined;
  used.add(nonce as string);
  return nonce as string;
}

/** Checks the server's proof in the CONNECT answer. */
export async function verifyServer(
  key: Uint8Array,
  sid: string,
  nsp: string,
  nonce: string,
  proof: unknown,
): Promise<boolean> {
  return equal(await mac(key, "accept", sid, nsp, nonce), proof);
}
