/**
 * The 100 B length-prefixed request/response contenders of
 * bench/net_compare.ts, in a module of their own so that
 * bench/net_syscalls.ts can run one alone (under strace):
 *
 *   deno run --allow-net=127.0.0.1 bench/net_rr.ts raw|weft|reuse CONNS MS
 *
 * prints one JSON line like bench/net_peer_node.mjs:
 * `{"ops": N, "seconds": S, "cpu": CPU seconds used}`.
 */
import process from "node:process";
import { FramedConnection, LengthPrefixCodec, serveTcp } from "../net/mod.ts";

/** A contender's rate and its rate per CPU second (its own cost, whatever else the machine runs). */
export interface Result {
  rate: number;
  perCpu: number;
}

/** A result with the wall seconds and CPU seconds of its run. */
export interface Measured extends Result {
  seconds: number;
  cpu: number;
}

export function result(
  rate: number,
  seconds: number,
  cpu: number,
): Measured {
  return { rate, perCpu: rate * seconds / cpu, seconds, cpu };
}

export async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

export /** Runs `run` and times it: wall seconds and this process's CPU seconds. */
async function timed<T>(
  run: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu0);
  return {
    value,
    seconds: (performance.now() - start) / 1000,
    cpu: (used.user + used.system) / 1e6,
  };
}

/** A client of `roundTrips`: one request/response per call. */
export interface RoundTripper extends Disposable {
  roundTrip(): Promise<unknown>;
}

/** `clients` clients, each making round trips for `ms`: round trips/s. */
export async function roundTrips(
  clients: number,
  ms: number,
  open: () => Promise<RoundTripper>,
): Promise<Measured> {
  let ops = 0;
  const deadline = Date.now() + ms;
  const { seconds, cpu } = await timed(() =>
    Promise.all(Array.from({ length: clients }, async () => {
      using client = await open();
      while (Date.now() < deadline) {
        await client.roundTrip();
        ops++;
      }
    }))
  );
  return result(ops / seconds, seconds, cpu);
}

// --- 2. 100 B request/response ---------------------------------------------------

export const codecSmall = new LengthPrefixCodec({ maxFrameSize: 1024 });

export async function weftRequestResponse(
  conns: number,
  ms: number,
  reuseBuffer = false,
): Promise<Measured> {
  await using server = await serveTcp({
    port: 0,
    handler: async (conn) => {
      const framed = new FramedConnection(conn, codecSmall, { reuseBuffer });
      for await (const frame of framed) await framed.send(frame);
    },
  });
  const payload = new Uint8Array(100).fill(97);
  return await roundTrips(conns, ms, async () => {
    const client = new FramedConnection(
      await Deno.connect(server.addr),
      codecSmall,
      { reuseBuffer },
    );
    return {
      roundTrip: async () => {
        await client.send(payload);
        await client.receive();
      },
      [Symbol.dispose]: () => client.close(),
    };
  });
}

/**
 * The raw Deno reference: the same 4-byte length-prefixed echo, written
 * inline on Deno.listen / Deno.connect with one reused buffer per side and
 * one write per frame, and nothing else (no limits, no timeouts).
 */
export async function rawRequestResponse(
  conns: number,
  ms: number,
): Promise<Measured> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      serving.push((async () => {
        const buf = new Uint8Array(64 * 1024);
        let start = 0;
        let end = 0;
        try {
          while (true) {
            while (end - start >= 4) {
              const n = new DataView(buf.buffer, start).getUint32(0);
              if (end - start < 4 + n) break;
              await writeAll(conn, buf.subarray(start, start + 4 + n));
              start += 4 + n;
            }
            if (start === end) start = end = 0;
            else if (start > 32 * 1024) {
              buf.copyWithin(0, start, end);
              end -= start;
              start = 0;
            }
            const got = await conn.read(buf.subarray(end));
            if (got === null) return;
            end += got;
          }
        } catch {
          // client gone
        } finally {
          conn.close();
        }
      })());
    }
  })();
  const frame = new Uint8Array(104).fill(97);
  new DataView(frame.buffer).setUint32(0, 100);
  const out = await roundTrips(conns, ms, async () => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    const buf = new Uint8Array(64 * 1024);
    const view = new DataView(buf.buffer);
    return {
      roundTrip: async () => {
        await writeAll(conn, frame);
        let got = 0;
        while (got < 4 || got < 4 + view.getUint32(0)) {
          const n = await conn.read(buf.subarray(got));
          if (n === null) throw new Error("raw server closed");
          got += n;
        }
      },
      [Symbol.dispose]: () => conn.close(),
    };
  });
  listener.close();
  await accepting.catch(() => {});
  await Promise.all(serving);
  return out;
}

if (import.meta.main) {
  const [kind, conns, ms] = Deno.args;
  const run = kind === "raw"
    ? rawRequestResponse(Number(conns), Number(ms))
    : weftRequestResponse(Number(conns), Number(ms), kind === "reuse");
  const r = await run;
  console.log(
    JSON.stringify({
      ops: Math.round(r.rate * r.seconds),
      seconds: r.seconds,
      cpu: r.cpu,
    }),
  );
}
