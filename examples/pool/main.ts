// A worker pool with callbacks: Python's `multiprocessing.Pool` with
// `apply_async(callback=..., error_callback=...)`, `map` and
// `imap_unordered`, on weft's Pool (Web Workers, one per core by default).
//
// Callbacks run on the main thread, in the order tasks finish; a task that
// throws calls errorCallback with its error and does not break the pool.
//
//   deno run --allow-read examples/pool/main.ts [--size 4] [--tasks 8]
//
// (--allow-read lets the workers load task.ts.) No partner program; the
// worker side is examples/pool/task.ts.

import { parseArgs } from "node:util";
import { Pool } from "../../concurrency/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "4" },
    tasks: { type: "string", default: "8" },
  },
});
const size = Number(values.size);
const tasks = Number(values.tasks);

await using pool = new Pool({
  module: new URL("./task.ts", import.meta.url),
  size,
});

// 1. applyAsync with callbacks: results arrive as workers finish.
const workers = new Set<string>();
const done: number[] = [];
const pending = [];
for (let i = 1; i <= tasks; i++) {
  pending.push(pool.applyAsync<{ n: number; value: number; worker: string }>(
    "crunch",
    [200_000 * i],
    {
      callback: (r) => {
        workers.add(r.worker);
        done.push(r.n / 200_000);
        console.log(
          `callback: task ${r.n / 200_000} finished on worker ${r.worker}`,
        );
      },
    },
  ));
}
await Promise.all(pending);
console.log(
  `applyAsync: ${done.length} callbacks from ${workers.size} different workers`,
);

// 2. errorCallback: a failing task reports its error; the pool goes on.
const errors: string[] = [];
const outcomes = await Promise.allSettled(
  [12, 13, 14].map((x) =>
    pool.applyAsync<number>("unlucky", [x], {
      errorCallback: (error) => errors.push((error as Error).message),
    })
  ),
);
console.log(
  `errorCallback: ${errors.join("; ")} (${
    outcomes.filter((o) => o.status === "fulfilled").length
  } of 3 tasks succeeded)`,
);

// 3. map keeps order; imapUnordered yields in completion order.
const cubes = await pool.map<number>("cube", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
console.log(`map cube 1..10: ${cubes.join(" ")}`);
let count = 0;
for await (const _ of pool.imapUnordered("cube", [1, 2, 3, 4, 5])) count++;
console.log(`imapUnordered: ${count} results`);

pool.close();
await pool.join();
console.log("pool closed and joined");
