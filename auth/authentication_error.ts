/**
 * The error of a failed handshake.
 *
 * @module
 */

/**
 * Thrown when the `multiprocessing.connection` handshake fails: the peer
 * answered a challenge with the wrong digest, rejected ours, spoke an
 * unexpected protocol, or did not finish before the deadline. Like Python's
 * `multiprocessing.AuthenticationError`. The message never contains the
 * authkey.
 *
 * @example Catching it by class or by name
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError } from "@weft/weft/auth";
 *
 * const error = new AuthenticationError("Cannot authenticate: digest sent was rejected");
 * assert.equal(error.name, "AuthenticationError");
 * assert.ok(error instanceof Error);
 * ```
 */
export class AuthenticationError extends Error {
  /** Creates the error; `options.cause` keeps the underlying failure. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}
