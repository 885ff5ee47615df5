// A Manager's dict and list shared by 10 processes: Python's
// `multiprocessing.Manager().dict()` / `.list()`.
//
// Each child process (weft's Process running `work` in task.ts) writes its
// pid into the dict, adds its index to a shared total and pushes its square
// onto the list — through proxies to objects living in the Manager's own
// server process. A plain array passed alongside is only copied: the
// children's pushes never reach the parent.
//
//   deno run --allow-read --allow-run --allow-net=127.0.0.1 --allow-env \
//     examples/manager_shared/main.ts [--processes 10]
//
// (--allow-run and --allow-net=127.0.0.1 start the Manager and the
// processes and talk to them; --allow-read loads task.ts.) No partner
// program; the child side is examples/manager_shared/task.ts.

import { parseArgs } from "node:util";
import { Manager, Process } from "../../ipc/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { processes: { type: "string", default: "10" } },
});
const count = Number(values.processes);

await using manager = await Manager.start();
console.log(`manager process started (pid ${manager.pid})`);
const dict = await manager.dict<string, number>({ total: 0 });
const list = await manager.list<number>();
const plain: number[] = [];
const processes = Array.from({ length: count }, (_, i) =>
  new Process({
    module: new URL("./task.ts", import.meta.url),
    fn: "work",
    args: [dict, list, plain, i + 1],
  }));
try {
  await Promise.all(processes.map((p) => p.start()));
  await Promise.all(processes.map((p) => p.join()));
} finally {
  for (const p of processes) if (p.isAlive()) p.kill();
}
const failed = processes.filter((p) => p.exitCode !== 0).length;
const pids = new Set<number>();
for (const [key, value] of await dict.entries()) {
  if (key.startsWith("worker-")) pids.add(value);
}
const total = await dict.get("total");
const squares = (await list.toArray()).sort((a, b) => a - b);
console.log(
  `dict: ${await dict
    .size()} keys, ${pids.size} distinct worker pids, total = ${total}`,
);
console.log(`list: ${squares.join(" ")}`);
console.log(
  `plain array in the parent: [${
    plain.join(", ")
  }] (children only changed their copies)`,
);
const expectedTotal = count * (count + 1) / 2;
const ok = failed === 0 && pids.size === count && total === expectedTotal &&
  squares.length === count && squares.every((v, i) => v === (i + 1) ** 2) &&
  plain.length === 0;
console.log(
  ok ? `all ${count} processes' updates are there` : "MISSING UPDATES",
);
if (!ok) Deno.exitCode = 1;
