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

/** Echoes values (`recv`, then `send`) until EOF. */
export async function echoValues(conn: Connection): Promise<void> {
  while (true) {
    let v: unknown;
    try {
      v = await conn.recv();
    } catch {
      break;
    }
    await conn.send(v);
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

/**
 * Raw reference: connects to a Deno listener (TCP port or Unix path) and
 * echoes fixed-size chunks with plain `read`/`write` (no framing, no weft)
 * until EOF.
 */
export async function rawEcho(
  address: { port: number } | { path: string },
  size: number,
): Promise<void> {
  const conn = "path" in address
    ? await Deno.connect({ transport: "unix", path: address.path })
    : await Deno.connect({ hostname: "127.0.0.1", port: address.port });
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  const buf = new Uint8Array(size);
  try {
    while (true) {
      let got = 0;
      while (got < size) {
        const n = await conn.read(buf.subarray(got));
        if (n === null) return;
        got += n;
      }
      let sent = 0;
      while (sent < size) sent += await conn.write(buf.subarray(sent));
    }
  } finally {
    conn.close();
  }
}

/**
 * The manager's transport alone: connects to a TCP port and echoes manager
 * frames (`SocketChannel`: call id + body) until EOF.
 */
export async function channelEcho(port: number): Promise<void> {
  const { SocketChannel } = await import("../ipc/_manager_transport.ts");
  const channel = new SocketChannel(
    await Deno.connect({ hostname: "127.0.0.1", port }),
  );
  while (true) {
    const frame = await channel.recv();
    if (frame === null || frame.body === undefined) break;
    channel.send(frame.id, frame.body);
  }
  channel.close();
}

/**
 * Raw reference between threads: answers each ping on word 0 of `sab` with
 * a pong on word 1 (Atomics only, no framing, no weft), sleeping in
 * `Atomics.waitAsync` (after spinning up to `spinMs`) until the counter
 * turns negative.
 */
export async function atomicsEcho(
  sab: SharedArrayBuffer,
  spinMs: number,
): Promise<void> {
  const v = new Int32Array(sab);
  let seen = 0;
  while (true) {
    const until = performance.now() + spinMs;
    while (Atomics.load(v, 0) === seen) {
      if (performance.now() < until) continue;
      const r = Atomics.waitAsync(v, 0, seen);
      if (r.async) await r.value;
    }
    seen = Atomics.load(v, 0);
    if (seen < 0) return;
    Atomics.add(v, 1, 1);
    Atomics.notify(v, 1);
  }
}
