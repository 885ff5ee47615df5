// Producer/consumer with real threads and a joinable queue: Python's
// `threading.Thread` + `queue.Queue` with `task_done()` / `join()`.
//
// Producers and consumers are weft Threads (Web Workers running functions
// of task.ts). They share one bounded Queue living in a SharedArrayBuffer:
// a producer blocks in `putSync` while the queue is full (backpressure),
// a consumer blocks in `getSync` while it is empty, and the main thread
// `await queue.join()`s until every job was marked `taskDone()` — then it
// sends one `null` per consumer to stop them.
//
//   deno run --allow-read examples/producer_consumer/main.ts \
//     [--producers 2] [--consumers 3] [--jobs 200] [--maxsize 10]
//
// (--allow-read lets the workers load task.ts.) No partner program; the
// worker side is examples/producer_consumer/task.ts.

import { parseArgs } from "node:util";
import { Queue, Thread } from "../../concurrency/mod.ts";
import type { consume, Job } from "./task.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    producers: { type: "string", default: "2" },
    consumers: { type: "string", default: "3" },
    jobs: { type: "string", default: "200" },
    maxsize: { type: "string", default: "10" },
  },
});
const producers = Number(values.producers);
const consumers = Number(values.consumers);
const jobs = Number(values.jobs);
const task = new URL("./task.ts", import.meta.url);

const queue = new Queue<Job | null>({ maxsize: Number(values.maxsize) });
const started = performance.now();
const consumerThreads = Array.from(
  { length: consumers },
  (_, i) =>
    new Thread({
      module: task,
      fn: "consume",
      args: [queue],
      name: `consumer-${i + 1}`,
    }),
);
const producerThreads = Array.from(
  { length: producers },
  (_, i) =>
    new Thread({
      module: task,
      fn: "produce",
      args: [queue, i + 1, jobs],
      name: `producer-${i + 1}`,
    }),
);
try {
  for (const t of [...consumerThreads, ...producerThreads]) t.start();
  for (const t of producerThreads) {
    console.log(`${t.name} put ${await t.join()} jobs`);
  }
  await queue.join(); // every job put so far was taken and marked done
  console.log(`queue.join() returned: all ${producers * jobs} jobs done`);
  for (let i = 0; i < consumers; i++) await queue.put(null);
  let handled = 0;
  let checksum = 0;
  for (const t of consumerThreads) {
    const result = await t.join() as ReturnType<typeof consume>;
    handled += result.handled;
    checksum += result.checksum;
    const from = Object.entries(result.byProducer).map(([p, n]) =>
      `${n} from producer-${p}`
    );
    console.log(
      `${t.name} handled ${result.handled} jobs (${from.join(", ") || "none"})`,
    );
  }
  const expected = producers * (jobs * (jobs + 1)) / 2;
  const ms = (performance.now() - started).toFixed(0);
  console.log(
    `total: ${handled} jobs handled by ${consumers} threads in ${ms} ms, ` +
      `checksum ${checksum} ${
        checksum === expected ? "ok" : `WRONG (expected ${expected})`
      }`,
  );
  if (handled !== producers * jobs || checksum !== expected) Deno.exitCode = 1;
} finally {
  queue.close();
}
