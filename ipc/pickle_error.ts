/**
 * `UnpicklingError` and `PicklingError`: what the pickle codec throws, like
 * Python's `pickle.UnpicklingError` and `pickle.PicklingError`.
 *
 * @module
 */

/**
 * Base class of {@linkcode UnpicklingError} and {@linkcode PicklingError},
 * like Python's `pickle.PickleError`: catch it for either.
 *
 * @example Catching any pickle failure
 * ```ts
 * import assert from "node:assert/strict";
 * import { loads, PickleError } from "@weft/weft/ipc";
 *
 * assert.throws(() => loads(new Uint8Array([0x80, 4])), PickleError);
 * ```
 */
export class PickleError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PickleError";
  }
}

/**
 * Thrown by `loads` (and a `"pickle"` connection's `recv`) for any pickle it
 * refuses: a global outside the allow-list, a truncated stream, a declared
 * length larger than the bytes present, an unknown opcode, an input over
 * `maxSize`. Nothing from the pickle has been run when it is thrown. Like
 * Python's `pickle.UnpicklingError`.
 *
 * @example A global outside the allow-list is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { loads, UnpicklingError } from "@weft/weft/ipc";
 *
 * // pickle.dumps(os.system) names a global that weft never imports.
 * const evil = new TextEncoder().encode("cos\nsystem\n(S'echo hi'\ntR.");
 * assert.throws(() => loads(evil), UnpicklingError);
 * ```
 */
export class UnpicklingError extends PickleError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnpicklingError";
  }
}

/**
 * Thrown by `dumps` (and a `"pickle"` connection's `send`) for a value it
 * cannot write as a pickle: a function, a symbol, a class instance with no
 * Python counterpart, a value nested deeper than `maxDepth`. Like Python's
 * `pickle.PicklingError`.
 *
 * @example A function has no pickle
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, PicklingError } from "@weft/weft/ipc";
 *
 * assert.throws(() => dumps(() => 1), PicklingError);
 * ```
 */
export class PicklingError extends PickleError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PicklingError";
  }
}
