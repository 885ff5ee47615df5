// Work for examples/cpu_vs_io/main.ts, run on the main thread, in Pool
// workers and in child processes alike.

import { DelimiterCodec, FramedConnection } from "../../net/mod.ts";
import type { Connection } from "../../ipc/mod.ts";

/** CPU-bound: counts primes below `limit` by trial division. */
export function cpuTask(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

const codec = new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 });

/**
 * I/O-bound: asks the slow local server (main.ts) for a reply that takes
 * `ms` milliseconds, over a real TCP connection. Returns the delay.
 */
export async function ioTask(port: number, ms: number): Promise<number> {
  using framed = new FramedConnection(
    await Deno.connect({ hostname: "127.0.0.1", port }),
    codec,
  );
  await framed.send(String(ms));
  const reply = await framed.receive();
  if (reply === null) throw new Error("The slow server closed the connection");
  return Number(new TextDecoder().decode(reply));
}

/** A child process's share of the work: runs its tasks one at a time, sends the results back. */
export async function processShare(
  results: Connection,
  kind: "cpu" | "io",
  items: number[],
  port: number,
): Promise<void> {
  const out = [];
  for (const item of items) {
    out.push(kind === "cpu" ? cpuTask(item) : await ioTask(port, item));
  }
  await results.send(out);
  results.close();
}
