/**
 * The error a manager proxy call rejects with when the method failed on the
 * server, like Python's `multiprocessing.managers.RemoteError`.
 *
 * `remoteName` is the server-side error's name (`"TypeError"`,
 * `"RangeError"`, `"QueueEmpty"`, or a user class's own error name) and
 * `remoteStack` its stack trace in the manager process. The message is the
 * server-side message, unchanged.
 *
 * @example Catching a failure inside the manager
 * ```ts
 * import { Manager, RemoteError } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const list = await manager.list<number>();
 * try {
 *   await list.pop();
 * } catch (error) {
 *   if (!(error instanceof RemoteError)) throw error;
 *   console.log(error.remoteName, error.message);
 *   // RangeError Cannot pop from list: it is empty
 * }
 * ```
 */
export class RemoteError extends Error {
  /** Name of the error thrown inside the manager. */
  readonly remoteName: string;
  /** Its stack trace in the manager process, when there was one. */
  readonly remoteStack: string | undefined;

  /** Builds the error from the fields of an error reply. */
  constructor(info: { name: string; message: string; stack?: string }) {
    super(info.message);
    this.name = "RemoteError";
    this.remoteName = info.name;
    this.remoteStack = info.stack;
  }
}
