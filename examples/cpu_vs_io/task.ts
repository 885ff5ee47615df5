// Work for examples/cpu_vs_io/main.ts, run on the main thread, in Pool
// workers and in child processes alike.

import { DelimiterCodec, FramedConnection } from "../../net/mod.ts";
import type { Connection } from "../../ipc/mod.ts";
import { countPrimes } from "../_primes.ts";

/** CPU-bound: counts primes below `limit` by trial division. */
export const cpuTask: (limit: number) => number = countPrimes;

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
