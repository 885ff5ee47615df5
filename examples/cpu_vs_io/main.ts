// CPU-bound vs I/O-bound work: plain async vs threads vs processes (the
// tutorials' experiment), measured on this machine, explained for
// JavaScript.
//
// Two workloads, each run three ways:
//   CPU: --tasks prime counts (pure computation)
//   I/O: --tasks requests to a local TCP server that answers after --delay ms
// Ways:
//   async      the main thread alone: CPU tasks one after another (nothing
//              else can run meanwhile), I/O tasks all at once with Promise.all
//   threads    weft Pool of N Web Workers, each running one task at a time
//   processes  N weft Processes (separate Deno processes), each running its
//              share of the tasks one at a time, results back over a Pipe
// where N = the number of CPU cores.
//
//   deno run --allow-read --allow-run --allow-net=127.0.0.1 --allow-env \
//     examples/cpu_vs_io/main.ts [--tasks 8] [--limit 300000] [--delay 200]
//
// (--allow-run / --allow-net=127.0.0.1 start the processes and the local
// slow server; --allow-read loads task.ts.) No partner program; the work
// is in examples/cpu_vs_io/task.ts.

import { parseArgs } from "node:util";
import { Pool } from "../../concurrency/mod.ts";
import { Pipe, Process } from "../../ipc/mod.ts";
import { DelimiterCodec, FramedConnection, serveTcp } from "../../net/mod.ts";
import { cpuTask, ioTask } from "./task.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    tasks: { type: "string", default: "8" },
    limit: { type: "string", default: "300000" },
    delay: { type: "string", default: "200" },
  },
});
const tasks = Number(values.tasks);
const limit = Number(values.limit);
const delay = Number(values.delay);
const cores = navigator.hardwareConcurrency;
const module = new URL("./task.ts", import.meta.url);

// The "remote service" of the I/O workload: answers each request after the
// delay it asks for. It runs on this event loop and never blocks it.
const codec = new DelimiterCodec({ delimiter: "\n", maxFrameSize: 64 });
await using slowServer = await serveTcp({
  port: 0,
  handler: async (conn) => {
    const framed = new FramedConnection(conn, codec);
    for await (const frame of framed) {
      const ms = Number(new TextDecoder().decode(frame));
      await new Promise((resolve) => setTimeout(resolve, ms));
      await framed.send(String(ms));
    }
  },
});
const port = slowServer.addr.port;

type Kind = "cpu" | "io";
const items = (kind: Kind) =>
  Array<number>(tasks).fill(kind === "cpu" ? limit : delay);

async function viaAsync(kind: Kind): Promise<number[]> {
  if (kind === "cpu") return items(kind).map(cpuTask);
  return await Promise.all(items(kind).map((ms) => ioTask(port, ms)));
}

async function viaThreads(pool: Pool, kind: Kind): Promise<number[]> {
  if (kind === "cpu") {
    return await pool.map<number>("cpuTask", items(kind), { chunksize: 1 });
  }
  return await pool.starmap<number>(
    "ioTask",
    items(kind).map((ms) => [port, ms]),
    { chunksize: 1 },
  );
}

async function viaProcesses(kind: Kind): Promise<number[]> {
  const shares: number[][] = Array.from({ length: cores }, () => []);
  items(kind).forEach((item, i) => shares[i % cores].push(item));
  const ends = shares.map(() => Pipe());
  const procs = shares.map((share, i) =>
    new Process({
      module,
      fn: "processShare",
      args: [ends[i][1], kind, share, port],
    })
  );
  try {
    await Promise.all(procs.map((p) => p.start()));
    const results = await Promise.all(
      ends.map(([here]) => here.recv() as Promise<number[]>),
    );
    await Promise.all(procs.map((p) => p.join()));
    return results.flat();
  } finally {
    for (const p of procs) if (p.isAlive()) p.kill();
    for (const [here] of ends) here.close();
  }
}

async function measure(
  run: () => Promise<number[]>,
  expected: number,
): Promise<number> {
  const t0 = performance.now();
  const results = await run();
  const ms = performance.now() - t0;
  if (results.length !== tasks || results.some((r) => r !== expected)) {
    throw new Error(`Wrong results: ${results}`);
  }
  return ms;
}

const primes = cpuTask(limit);
await using pool = new Pool({ module, size: cores });
await pool.map("cpuTask", Array(cores).fill(10), { chunksize: 1 }); // start the workers first
const rows: [string, number, number][] = [];
for (
  const [name, run] of [
    ["async (main thread)", viaAsync],
    [`threads (Pool of ${cores})`, (kind: Kind) => viaThreads(pool, kind)],
    [`processes (${cores})`, viaProcesses],
  ] as const
) {
  const cpu = await measure(() => run("cpu"), primes);
  const io = await measure(() => run("io"), delay);
  rows.push([name, cpu, io]);
}

console.log(
  `${tasks} CPU tasks (primes below ${limit}) and ${tasks} I/O tasks (${delay} ms each), ${cores} cores:\n`,
);
console.log(
  `${"way".padEnd(24)}${"CPU-bound".padStart(12)}${"I/O-bound".padStart(12)}`,
);
for (const [name, cpu, io] of rows) {
  console.log(
    `${name.padEnd(24)}${`${cpu.toFixed(0)} ms`.padStart(12)}${
      `${io.toFixed(0)} ms`.padStart(12)
    }`,
  );
}
const [asyncRow, threadRow, processRow] = rows;
const speedup = (asyncRow[1] / threadRow[1]).toFixed(1);
console.log(`
What the numbers say, for JavaScript:
- CPU-bound work needs more threads: one JavaScript thread computes one
  thing at a time, so "async" ran the ${tasks} prime counts back to back
  (${
  asyncRow[1].toFixed(0)
} ms). Web Workers are real OS threads, each with its own
  isolate and NO global interpreter lock, so the Pool can keep all ${cores}
  cores busy: ${
  threadRow[1].toFixed(0)
} ms here, ${speedup}x (at best ${cores}x; less when other
  programs hold the cores). In CPython, threads would not help here (the
  GIL); in Deno they do.
- Processes parallelize CPU work too (${
  processRow[1].toFixed(0)
} ms) but each one starts a
  whole runtime and every argument and result is copied between address
  spaces; in JavaScript they buy isolation (crashes, memory, permissions),
  not speed.
- I/O-bound work needs no threads at all: while one request waits, the
  event loop serves the others, so async finished ${tasks} waits of ${delay} ms in
  ${
  asyncRow[2].toFixed(0)
} ms. ${cores} workers running one request at a time need about
  ${Math.ceil(tasks / cores)} rounds (${
  threadRow[2].toFixed(0)
} ms); processes the same plus start-up (${processRow[2].toFixed(0)} ms).
- Rule of thumb: async for waiting, a worker Pool for computing, Process
  when you need isolation.`);
