/**
 * `Pipe`: two connected `Connection`s, like Python's `multiprocessing.Pipe`.
 *
 * @module
 */
import { Connection, type ConnectionOptions } from "./connection.ts";
import { PortTransport } from "./_wire.ts";

/**
 * Returns two connected ends, like Python's `multiprocessing.Pipe`. Duplex
 * (the default): both ends send and receive. `Pipe(false)` returns
 * `[readEnd, writeEnd]`: the first can only receive, the second only send;
 * the wrong call throws a `TypeError`.
 *
 * The ends are in-memory (a `MessageChannel`); either can be passed to a
 * `Thread` or a `Process` as an argument (see `Connection`, "Sharing").
 * An open end does not keep the program alive; a pending `recv()` does.
 *
 * @example
 * ```ts
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [reader, writer] = Pipe(false);
 * await writer.send(["hello", 42]);
 * console.log(await reader.recv()); // [ "hello", 42 ]
 * try {
 *   await reader.send("nope");
 * } catch (e) {
 *   console.log((e as Error).message); // Cannot send: this end of the pipe is read-only
 * }
 * reader.close();
 * writer.close();
 * ```
 */
export function Pipe(
  duplex = true,
  options: Pick<ConnectionOptions, "maxMessageSize"> = {},
): [Connection, Connection] {
  const { port1, port2 } = new MessageChannel();
  const a = new Connection(new PortTransport(port1), {
    ...options,
    writable: duplex,
  });
  const b = new Connection(new PortTransport(port2), {
    ...options,
    readable: duplex,
  });
  return [a, b];
}
