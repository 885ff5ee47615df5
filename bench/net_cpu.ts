/**
 * The CPU-bound contenders of bench/net_compare.ts (section 4):
 * `serveTcp({ threads })` with a CPU-bound handler and the same work in
 * plain Workers, each with where its threads spent the run
 * (bench/net_sched.ts).
 */
import process from "node:process";
import { FramedConnection, serveTcp } from "../net/mod.ts";
import { work } from "../tests/net/fixtures/cpu_handler.ts";
import { codecSmall } from "./net_rr.ts";
import {
  mainThread,
  shares,
  snapshot,
  type ThreadShares,
} from "./net_sched.ts";

/** Rounds of the hash per request: a few ms of CPU. */
const WORK = 3_000_000;

/** One CPU-bound run: its rate and where the threads spent the window. */
export interface CpuRun {
  rate: number;
  /** CPU seconds of the whole process per wall second: the cores it got. */
  cores: number;
  /** The handler threads (or plain Workers): running / waiting for a CPU / idle. */
  workers: ThreadShares;
  /** The main thread (the benchmark's client): running, and waiting for a CPU, per wall second. */
  client: { run: number; wait: number };
}

/** A snapshot and the time it was taken (the middle of the shell's read). */
function stamped(): { sched: ReturnType<typeof snapshot>; at: number } {
  const start = performance.now();
  const sched = snapshot();
  return { sched, at: (start + performance.now()) / 2 };
}

/**
 * Where the threads spent the run that starts now and lasts `ms`: measured
 * over its middle 90 %, so that neither the clients' start nor the end of
 * the run (threads finishing and going idle while the shell reads the
 * statistics) is counted.
 */
function windowOf(ms: number): Promise<Omit<CpuRun, "rate">> {
  return new Promise((resolve) => {
    let cpu0: ReturnType<typeof process.cpuUsage>;
    let before: ReturnType<typeof stamped>;
    setTimeout(() => {
      cpu0 = process.cpuUsage();
      before = stamped();
    }, ms * 0.05);
    setTimeout(() => {
      const after = stamped();
      const used = process.cpuUsage(cpu0);
      const wall = (after.at - before.at) / 1000;
      resolve({
        cores: (used.user + used.system) / 1e6 / wall,
        workers: shares(before.sched, after.sched, wall, /^worker-/),
        client: mainThread(before.sched, after.sched, wall),
      });
    }, ms * 0.95);
  });
}

/**
 * serveTcp({ threads }) with a CPU-bound handler, `clients` connections
 * each sending 4 requests and reconnecting, for `ms`: requests answered
 * within the window per second (requests still in flight at its end are
 * not counted, so no thread's tail of queued work skews the rate).
 */
export async function threadedRun(
  threads: number,
  clients: number,
  ms: number,
): Promise<CpuRun> {
  const server = await serveTcp({
    port: 0,
    threads,
    handler: {
      module: new URL("../tests/net/fixtures/cpu_handler.ts", import.meta.url),
      fn: "handler",
    },
  });
  const expected = `${WORK}:${work(WORK)}`;
  let ops = 0;
  const measured = windowOf(ms);
  const deadline = performance.now() + ms;
  // Many short connections so the kernel spreads them over the threads.
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      using client = new FramedConnection(
        await Deno.connect(server.addr),
        codecSmall,
      );
      for (let i = 0; i < 4 && performance.now() < deadline; i++) {
        await client.send(String(WORK));
        const reply = new TextDecoder().decode((await client.receive())!);
        if (reply !== expected) throw new Error(`wrong answer ${reply}`);
        if (performance.now() <= deadline) ops++;
      }
    }
  }));
  const window = await measured;
  await server.shutdown();
  return { rate: ops / (ms / 1000), ...window };
}

/** The same work in `threads` plain Workers for `ms`, no sockets. */
export async function workersRun(
  threads: number,
  ms: number,
): Promise<CpuRun> {
  const workers: Worker[] = [];
  try {
    // Each Worker posts "ready" once loaded, then runs for `ms` when told.
    const runs = await Promise.all(
      Array.from({ length: threads }, async () => {
        const worker = new Worker(
          new URL("./net_cpu_worker.ts", import.meta.url),
          { type: "module" },
        );
        workers.push(worker);
        const ready = Promise.withResolvers<void>();
        const done = Promise.withResolvers<number>();
        worker.onmessage = (event) =>
          event.data === "ready"
            ? ready.resolve()
            : done.resolve(event.data as number);
        worker.onerror = (event) => {
          event.preventDefault();
          const error = new Error(event.message);
          ready.reject(error);
          done.reject(error);
        };
        await ready.promise;
        return { worker, done: done.promise };
      }),
    );
    // All loaded: start them together; the window covers the same `ms`.
    const measured = windowOf(ms);
    for (const { worker } of runs) worker.postMessage({ n: WORK, ms });
    const counts = await Promise.all(runs.map((r) => r.done));
    const window = await measured;
    return { rate: counts.reduce((a, b) => a + b, 0) / (ms / 1000), ...window };
  } finally {
    for (const worker of workers) worker.terminate();
  }
}
