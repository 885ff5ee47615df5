/**
 * The error a manager proxy call rejects with when the method failed on the
 * server, like Python's `multiprocessing.managers.RemoteError`.
 *
 * `remoteName` is the server-side error's name (`"TypeError"`,
 * `"RangeError"`, `"QueueEmpty"`, a user class's own error name, or a
 * Python exception's class name such as `"KeyError"` from a Python
 * manager) and `remoteStack` its stack trace in the manager process, sent
 * only when the manager runs with `debug: true` (a remote client never sees
 * the server's stack or file paths otherwise). The message is the
 * server-side message, unchanged.
 *
 * @example Catching a failure inside the manager
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, RemoteError } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const list = await manager.list<number>();
 * await assert.rejects(list.pop(), (error) => {
 *   assert.ok(error instanceof RemoteError);
 *   assert.equal(error.remoteName, "RangeError");
 *   assert.equal(error.message, "Cannot pop from list: it is empty");
 *   return true;
 * });
 * ```
 */
export class RemoteError extends Error {
  /** Name of the error thrown inside the manager. */
  readonly remoteName: string;
  /** Its stack trace in the manager process (only from a `debug` manager). */
  readonly remoteStack: string | undefined;

  /** Builds the error from the fields of an error reply. */
  constructor(info: { name: string; message: string; stack?: string }) {
    super(info.message);
    this.name = "RemoteError";
    this.remoteName = info.name;
    this.remoteStack = info.stack;
  }
}
