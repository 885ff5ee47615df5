import {
  reviveValue,
  shareValue,
  transferablesOf,
} from "../_internal/share.ts";

/**
 * The sharing protocol every weft object that crosses to a worker or process
 * follows (locks, queues, pipe ends, manager proxies): `[TO_HANDLE](target)`
 * returns a {@linkcode SharedHandle}, a small cloneable description of the
 * same shared state, for a `ShareTarget` (`"worker"` or `"process"`).
 * {@linkcode share} and {@linkcode revive} use it; you rarely call it
 * yourself.
 *
 * @example Every weft primitive is Shareable
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lock, type Shareable, TO_HANDLE } from "@weft/weft/concurrency";
 *
 * const lock: Shareable = new Lock();
 * assert.equal(lock[TO_HANDLE]("worker")["@@weft"], "Lock");
 * ```
 */
export {
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";

/**
 * Prepares a value that contains weft objects (locks, queues, pipe ends,
 * manager proxies...) for `postMessage` to a Web Worker: each one becomes a
 * small cloneable handle over the same shared memory. The receiving side
 * calls {@linkcode revive} to get live objects back.
 *
 * `Thread`, `Pool` and `Process` do this for their arguments on their own;
 * call `share` only when you post messages yourself. Arrays, plain objects,
 * Maps and Sets are walked; other values pass through unchanged.
 *
 * @example Sending shared objects through postMessage
 * ```ts
 * import assert from "node:assert/strict";
 * import { revive, share, transferList } from "@weft/weft/concurrency";
 *
 * const message = share({ greeting: "hi", counts: [1, 2] });
 * // worker.postMessage(message, transferList(message));
 * const received = revive<{ greeting: string }>(structuredClone(message));
 * assert.equal(received.greeting, "hi");
 * ```
 *
 * @param value Any structured-cloneable value, possibly holding weft objects.
 * @returns The same shape with weft objects replaced by handles.
 * @throws {TypeError} If an object inside cannot be shared with a worker.
 */
export function share<T>(value: T): unknown {
  return shareValue(value, "worker");
}

/**
 * Rebuilds the weft objects inside a value made by {@linkcode share} (and
 * then cloned by `postMessage`) into live objects over the same shared state.
 *
 * The module that defines each type must be imported in the receiving
 * worker (importing `@weft/weft` or the type's module is enough).
 *
 * @example Receiving shared objects in a worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { revive, share } from "@weft/weft/concurrency";
 *
 * const data = revive<{ n: number }>(structuredClone(share({ n: 1 })));
 * assert.equal(data.n, 1);
 * ```
 *
 * @typeParam T The expected shape after revival.
 * @param value The received message data.
 * @returns The value with every handle replaced by a live object.
 * @throws {TypeError} If a handle's type is unknown in this worker.
 */
export function revive<T = unknown>(value: unknown): T {
  return reviveValue(value) as T;
}

/**
 * Lists the objects inside a {@linkcode share}d value that must be
 * transferred rather than cloned (message ports of pipe ends), for the second
 * argument of `postMessage`.
 *
 * @example Listing what to transfer
 * ```ts
 * import assert from "node:assert/strict";
 * import { share, transferList } from "@weft/weft/concurrency";
 *
 * const message = share([1, 2, 3]);
 * assert.equal(transferList(message).length, 0);
 * ```
 *
 * @param shared A value returned by {@linkcode share}.
 * @returns The transferables to pass along.
 */
export function transferList(shared: unknown): Transferable[] {
  return transferablesOf(shared);
}
