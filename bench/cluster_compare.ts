// weft's cluster queue and Pool against BullMQ (the most used Node job
// queue), on the SAME local redis-server, in ONE run.
//
//   deno run -A bench/cluster_compare.ts [--items 3000] [--tasks 1000] [--rounds 2]
//
// 1. Queue throughput: put + get + ack of small items, one producer handle
//    and one consumer handle, 16 operations in flight on each side.
//    weft: Queue.put / `for await (const task of q.tasks())` + ack (16
//    loops; an ack also takes the next item).  BullMQ: queue.add / Worker
//    (concurrency 16, in-process processor that returns at once).
// 2. put→get latency: one item at a time into an empty queue whose
//    consumer is already waiting; p50 / p99 over --samples.
// 3. Pool of trivial tasks, results back to the submitter: weft
//    `Pool.map(..., { chunksize: 1 })` served by `serveWorkers` (size 2,
//    tasks run in Web Workers) vs BullMQ `add` + `job.waitUntilFinished`
//    (Worker concurrency 16; the processor runs inline on the main thread —
//    cheaper than weft's Web Worker hop; BullMQ's own sandboxed processors
//    would add a process hop).
// Every number is the best of --rounds; ratios are weft / BullMQ.
import { parseArgs } from "node:util";
import { Queue as BullQueue, QueueEvents, Worker } from "npm:bullmq@6.7.0";
import IORedis from "npm:ioredis@6.0.0";
import { Pool, Queue, RedisServer, serveWorkers } from "../cluster/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    items: { type: "string", default: "3000" },
    tasks: { type: "string", default: "1000" },
    samples: { type: "string", default: "300" },
    rounds: { type: "string", default: "2" },
  },
});
const ITEMS = Number(args.values.items);
const TASKS = Number(args.values.tasks);
const SAMPLES = Number(args.values.samples);
const ROUNDS = Number(args.values.rounds);
const IN_FLIGHT = 16;

// Not `await using`: Deno.exit() below would skip the disposal.
const server = await RedisServer.start();
const url = server.url;
let run = 0;
const ioredis = () =>
  new (IORedis as unknown as new (url: string, o: object) => IORedis.Redis)(
    url,
    { maxRetriesPerRequest: null },
  );

async function parallel(n: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// ---- weft -------------------------------------------------------------------

async function weftThroughput(): Promise<number> {
  const name = `tp${++run}`;
  await using producer = await Queue.connect<{ i: number }>(url, { name });
  await using consumer = await Queue.connect<{ i: number }>(url, { name });
  let got = 0;
  const stop = new AbortController();
  const t0 = performance.now();
  const consuming = Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      try {
        // the consumer-loop form: each ack also takes the next item
        for await (const task of consumer.tasks({ signal: stop.signal })) {
          await task.ack();
          if (++got === ITEMS) stop.abort();
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
    }),
  );
  await parallel(ITEMS, (i) => producer.put({ i }));
  await consuming;
  return ITEMS / ((performance.now() - t0) / 1000);
}

async function weftLatency(): Promise<number[]> {
  const name = `lat${++run}`;
  await using producer = await Queue.connect<number>(url, { name });
  await using consumer = await Queue.connect<number>(url, { name });
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const waiting = consumer.get();
    await new Promise((r) => setTimeout(r, 1)); // the consumer is blocked
    const t = performance.now();
    await producer.put(i);
    await waiting;
    out.push(performance.now() - t);
    await consumer.taskDone();
  }
  return out.sort((a, b) => a - b);
}

async function weftPool(): Promise<number> {
  const name = `pool${++run}`;
  const module = new URL("./pool_task.ts", import.meta.url);
  const stop = new AbortController();
  const served = serveWorkers({
    module,
    url,
    name,
    size: 2,
    prefetch: 8,
    signal: stop.signal,
  });
  const pool = new Pool({ module, cluster: { url, name } });
  await pool.apply("inc", [0]); // workers loaded
  const t0 = performance.now();
  const out = await pool.map(
    "inc",
    Array.from({ length: TASKS }, (_, i) => i),
    { chunksize: 1 },
  );
  const rate = TASKS / ((performance.now() - t0) / 1000);
  if (out.length !== TASKS) throw new Error("weft pool lost results");
  pool.close();
  await pool.join();
  stop.abort();
  await served;
  return rate;
}

// ---- BullMQ -----------------------------------------------------------------

async function bullThroughput(): Promise<number> {
  const name = `btp${++run}`;
  const [c1, c2] = [ioredis(), ioredis()];
  const queue = new BullQueue(name, { connection: c1 });
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  const t0 = performance.now();
  const worker = new Worker(name, (job) => Promise.resolve(job.data), {
    connection: c2,
    concurrency: IN_FLIGHT,
  });
  worker.on("completed", () => {
    if (++got === ITEMS) done();
  });
  await parallel(ITEMS, async (i) => {
    await queue.add("j", { i }, { removeOnComplete: true });
  });
  await finished;
  const rate = ITEMS / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.close();
  c1.disconnect();
  c2.disconnect();
  return rate;
}

async function bullLatency(): Promise<number[]> {
  const name = `blat${++run}`;
  const [c1, c2] = [ioredis(), ioredis()];
  const queue = new BullQueue(name, { connection: c1 });
  let resolveGot: (() => void) | undefined;
  let t = 0;
  const out: number[] = [];
  const worker = new Worker(name, () => {
    out.push(performance.now() - t);
    resolveGot?.();
    return Promise.resolve();
  }, { connection: c2, concurrency: 1 });
  await worker.waitUntilReady();
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < SAMPLES; i++) {
    const got = new Promise<void>((r) => resolveGot = r);
    await new Promise((r) => setTimeout(r, 1));
    t = performance.now();
    await queue.add("j", i, { removeOnComplete: true });
    await got;
  }
  await worker.close();
  await queue.close();
  c1.disconnect();
  c2.disconnect();
  return out.sort((a, b) => a - b);
}

async function bullPool(): Promise<number> {
  const name = `bpool${++run}`;
  const [c1, c2, c3] = [ioredis(), ioredis(), ioredis()];
  const queue = new BullQueue(name, { connection: c1 });
  const events = new QueueEvents(name, { connection: c3 });
  await events.waitUntilReady();
  const worker = new Worker(name, (job) => Promise.resolve(job.data), {
    connection: c2,
    concurrency: IN_FLIGHT,
  });
  const t0 = performance.now();
  const results: unknown[] = new Array(TASKS);
  await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const job = await queue.add("t", i);
      results[i] = await job.waitUntilFinished(events);
    }),
  );
  const rate = TASKS / ((performance.now() - t0) / 1000);
  await worker.close();
  await events.close();
  await queue.close();
  for (const c of [c1, c2, c3]) c.disconnect();
  return rate;
}

// ---- run --------------------------------------------------------------------

const best = { wt: 0, bt: 0, wp: 0, bp: 0 };
let wl: number[] = [], bl: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  best.wt = Math.max(best.wt, await weftThroughput());
  best.bt = Math.max(best.bt, await bullThroughput());
  const w = await weftLatency();
  const b = await bullLatency();
  if (!wl.length || pct(w, 0.5) < pct(wl, 0.5)) wl = w;
  if (!bl.length || pct(b, 0.5) < pct(bl, 0.5)) bl = b;
  best.wp = Math.max(best.wp, await weftPool());
  best.bp = Math.max(best.bp, await bullPool());
}
const f = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n.toFixed(2);
console.log(
  `redis-server ${url}; best of ${ROUNDS}; ${ITEMS} items, ${TASKS} tasks, ${SAMPLES} latency samples`,
);
console.log("| measure | weft | BullMQ 6.7.0 | weft / BullMQ |");
console.log("|---|---|---|---|");
console.log(
  `| queue put+get+ack, items/s | ${f(best.wt)} | ${f(best.bt)} | ${
    (best.wt / best.bt).toFixed(2)
  }× |`,
);
console.log(
  `| put→get latency p50, ms | ${ms(pct(wl, 0.5))} | ${ms(pct(bl, 0.5))} | ${
    (pct(wl, 0.5) / pct(bl, 0.5)).toFixed(2)
  }× |`,
);
console.log(
  `| put→get latency p99, ms | ${ms(pct(wl, 0.99))} | ${ms(pct(bl, 0.99))} | ${
    (pct(wl, 0.99) / pct(bl, 0.99)).toFixed(2)
  }× |`,
);
console.log(
  `| Pool of trivial tasks, results back, tasks/s | ${f(best.wp)} | ${
    f(best.bp)
  } | ${(best.wp / best.bp).toFixed(2)}× |`,
);
await server.stop();
Deno.exit(0); // BullMQ leaves timers behind
