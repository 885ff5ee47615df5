/**
 * HMAC over the digests the `multiprocessing.connection` handshake names
 * (private). SHA-2 goes through WebCrypto; MD5 through {@linkcode hmacMd5}.
 *
 * @module
 */
import { hmacMd5 } from "./_md5.ts";

/** Digest names weft can compute, spelled as Python's `hmac` spells them. */
export type DigestName = "md5" | "sha256" | "sha384";

const WEBCRYPTO: Record<Exclude<DigestName, "md5">, string> = {
  sha256: "SHA-256",
  sha384: "SHA-384",
};

/** HMAC of `message` under `key` with `digest`. */
export async function hmac(
  digest: DigestName,
  key: Uint8Array,
  message: Uint8Array,
): Promise<Uint8Array> {
  if (digest === "md5") return hmacMd5(key, message);
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: WEBCRYPTO[digest] },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    cryptoKey,
    message as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(mac);
}

/**
 * Compares two byte strings in time that depends only on their lengths
 * (never on where they first differ).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
