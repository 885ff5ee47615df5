/**
 * {@linkcode LeaseLost}: the error of a late acknowledgement.
 *
 * @module
 */

/**
 * Thrown when a consumer acknowledges, renews or releases an item (or a
 * lock holder uses a lock) whose lease already expired: the item was (or
 * may be) delivered to someone else, so this stale holder's word no longer
 * counts. The work it did may run twice — the at-least-once contract.
 *
 * @example Name and message of the error
 * ```ts
 * import assert from "node:assert/strict";
 * import { LeaseLost } from "@weft/weft/cluster";
 *
 * const error = new LeaseLost();
 * assert.deepEqual([error.name, error.message.startsWith("Cannot")], ["LeaseLost", true]);
 * ```
 */
export class LeaseLost extends Error {
  /** Creates the error; `message` defaults to a sentence about the lease. */
  constructor(
    message =
      "Cannot acknowledge item: its lease expired and it was delivered again",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "LeaseLost";
  }
}
