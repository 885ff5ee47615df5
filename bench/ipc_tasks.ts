// Echo peers for the ipc benchmarks (run in workers and child processes).
import { Client, Connection } from "../ipc/mod.ts";

/** Echoes bytes messages until EOF. */
export async function echoBytes(conn: Connection): Promise<void> {
  while (true) {
    let m: Uint8Array;
    try {
      m = await conn.recvBytes();
    } catch {
      break;
    }
    await conn.sendBytes(m);
  }
  conn.close();
}

/** Connects to a weft/Python Listener and echoes bytes until EOF. */
export async function tcpEcho(
  address: { hostname: string; port: number },
  authkey: Uint8Array,
): Promise<void> {
  await echoBytes(await Client(address, { authkey }));
}

export const CONNECTION_CLASS: typeof Connection = Connection;
