// Producer/consumer across PROCESSES with a Manager queue: Python's
// `multiprocessing.Manager().Queue()` shared by `Process`es.
//
// Processes share no memory, so the queue lives in a Manager: a small
// server process that owns a joinable Queue and a dict, handing every
// producer and consumer process a proxy (authenticated TCP on 127.0.0.1,
// random key). `await queue.join()` returns once every job put was marked
// `taskDone()`; then one `null` per consumer stops them.
//
//   deno run --allow-read --allow-run --allow-net=127.0.0.1 --allow-env \
//     examples/producer_consumer/processes.ts [--producers 2] [--consumers 3] [--jobs 30]
//
// (--allow-run and --allow-net=127.0.0.1 start the Manager and the child
// processes and talk to them; --allow-read loads task.ts.) The child side
// is examples/producer_consumer/task.ts; the thread version is main.ts.

import { parseArgs } from "node:util";
import { Manager, Process } from "../../ipc/mod.ts";
import type { Job } from "./task.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    producers: { type: "string", default: "2" },
    consumers: { type: "string", default: "3" },
    jobs: { type: "string", default: "30" },
  },
});
const producers = Number(values.producers);
const consumers = Number(values.consumers);
const jobs = Number(values.jobs);
const module = new URL("./task.ts", import.meta.url);

await using manager = await Manager.start();
const queue = await manager.Queue<Job | null>();
const tally = await manager.dict<string, number>();
const started = performance.now();
const consumerProcs = Array.from(
  { length: consumers },
  (_, i) =>
    new Process({
      module,
      fn: "consumeRemote",
      args: [queue, tally, `consumer-${i + 1}`],
    }),
);
const producerProcs = Array.from(
  { length: producers },
  (_, i) =>
    new Process({ module, fn: "produceRemote", args: [queue, i + 1, jobs] }),
);
const all = [...consumerProcs, ...producerProcs];
try {
  await Promise.all(all.map((p) => p.start()));
  console.log(
    `${producers} producer and ${consumers} consumer processes started (pids ${
      all.map((p) => p.pid).join(" ")
    })`,
  );
  await Promise.all(producerProcs.map((p) => p.join()));
  await queue.join();
  console.log(`queue.join() returned: all ${producers * jobs} jobs done`);
  for (let i = 0; i < consumers; i++) await queue.put(null);
  await Promise.all(consumerProcs.map((p) => p.join()));
} finally {
  for (const p of all) if (p.isAlive()) p.kill();
}
const failed = all.filter((p) => p.exitCode !== 0).length;
const counts = Object.fromEntries(await tally.entries());
let handled = 0;
for (let i = 1; i <= consumers; i++) {
  const n = counts[`consumer-${i}`] ?? 0;
  handled += n;
  console.log(`consumer-${i} handled ${n} jobs`);
}
const expected = producers * jobs * (jobs + 1) / 2;
const ms = (performance.now() - started).toFixed(0);
console.log(
  `total: ${handled} jobs handled by ${consumers} processes in ${ms} ms, checksum ${counts.checksum} ${
    counts.checksum === expected ? "ok" : `WRONG (expected ${expected})`
  }`,
);
if (failed || handled !== producers * jobs || counts.checksum !== expected) {
  Deno.exitCode = 1;
}
