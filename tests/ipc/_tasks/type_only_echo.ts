// A task module that imports weft's ipc types only (no value import), so a
// worker running it has not loaded ipc/ when its arguments arrive: the
// handles themselves must name the module that revives them.
import type { Connection } from "../../../ipc/mod.ts";

export async function echoOnce(conn: Connection): Promise<string> {
  const value = await conn.recv();
  await conn.send(value);
  conn.close();
  return "echoed";
}
