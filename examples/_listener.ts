// Shared by the examples built on weft's ipc Listener: the accept loop and
// the end of a connection, logged the same way by every server.

import { type Connection, EOFError, type Listener } from "../ipc/mod.ts";

/**
 * Prints "<name> listening on HOST:PORT", closes `listener` on Ctrl-C and
 * hands every connection to `handle` with its number (1, 2, ...), without
 * waiting for one to finish before accepting the next. With `once`, it
 * returns when the first connection's `handle` has finished.
 */
export async function serveNumbered(
  listener: Listener,
  name: string,
  handle: (conn: Connection, id: number) => Promise<void>,
  once = false,
): Promise<void> {
  const address = listener.address as { hostname: string; port: number };
  console.log(`${name} listening on ${address.hostname}:${address.port}`);
  Deno.addSignalListener("SIGINT", () => listener.close());
  let next = 0;
  for await (const conn of listener) {
    const done = handle(conn, ++next);
    if (once) return await done;
  }
}

/**
 * Runs `talk` until client `id` hangs up: logs any error but the end of
 * the stream, then closes `conn` and logs "client <id> disconnected".
 */
export async function untilHangup(
  conn: Connection,
  id: number,
  talk: () => Promise<void>,
): Promise<void> {
  try {
    await talk();
  } catch (error) {
    if (!(error instanceof EOFError)) {
      console.log(`client ${id}: ${(error as Error).message}`);
    }
  } finally {
    conn.close();
    console.log(`client ${id} disconnected`);
  }
}
