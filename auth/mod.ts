/**
 * The authkey handshake of Python's `multiprocessing.connection`: HMAC
 * challenge/response in both directions, HMAC-SHA256 (Python 3.12+) by
 * default and the legacy HMAC-MD5 of Python ≤ 3.11 accepted.
 *
 * @example The same key passes, a different key is rejected
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerChallenge, AuthenticationError, deliverChallenge } from "@weft/weft/auth";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [server, client] = Pipe();
 * await Promise.all([deliverChallenge(server, "k"), answerChallenge(client, "k")]);
 * const failed = await Promise.allSettled([
 *   deliverChallenge(server, "k"),
 *   answerChallenge(client, "other"),
 * ]);
 * assert.ok(failed[0].status === "rejected" && failed[0].reason instanceof AuthenticationError);
 * server.close();
 * client.close();
 * ```
 *
 * @module
 */
export * from "./authentication_error.ts";
export * from "./handshake.ts";
export * from "./raw_challenge.ts";
