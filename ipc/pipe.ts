/**
 * `Pipe`: two connected `Connection`s, like Python's `multiprocessing.Pipe`.
 *
 * @module
 */
import { Connection, type ConnectionOptions } from "./connection.ts";
import { pipePair } from "./_pipe_transport.ts";

/**
 * Returns two connected ends, like Python's `multiprocessing.Pipe`. Duplex
 * (the default): both ends send and receive. `Pipe(false)` returns
 * `[readEnd, writeEnd]`: the first can only receive, the second only send;
 * the wrong call throws a `TypeError`.
 *
 * The ends start in memory (both in this thread: a message is handed over
 * with one copy); either can be passed to a `Thread` or a `Process` as an
 * argument, and the pair is then rewired so the ends talk directly, over
 * shared memory between workers or a socket of their own between processes
 * (a Unix socket in a private 0700 directory when both processes have a
 * plain `--allow-net` and `--allow-read`/`--allow-write`, else TCP on
 * 127.0.0.1; see `Connection`, "Sharing"). An open end does not keep the program
 * alive; a pending `recv()` does.
 *
 * @example A one-way pipe, like `Pipe(duplex=False)`
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [reader, writer] = Pipe(false);
 * await writer.send(["hello", 42]);
 * assert.deepEqual(await reader.recv(), ["hello", 42]);
 * await assert.rejects(reader.send("nope"), {
 *   message: "Cannot send: this end of the pipe is read-only",
 * });
 * reader.close();
 * writer.close();
 * ```
 */
export function Pipe(
  duplex = true,
  options: Pick<ConnectionOptions, "maxMessageSize" | "serializer"> = {},
): [Connection, Connection] {
  const [end1, end2] = pipePair();
  const a = new Connection(end1, {
    ...options,
    writable: duplex,
  });
  const b = new Connection(end2, {
    ...options,
    readable: duplex,
  });
  return [a, b];
}
