// One machine of the cluster fleet: consumes the joinable queue "jobs" and
// serves the Pool "render" (a local weft Pool of Web Workers). Run one per
// machine, all pointing at the same Redis; examples/cluster/demo.ts starts
// three of them on 127.0.0.1.
//
//   WEFT_REDIS_URL=redis://:<password>@<redis host>:6379 \
//   deno run --allow-net=<redis host> --allow-read \
//     --allow-env=WEFT_REDIS_URL,REDIS_DEBUG_MAINTENANCE \
//     examples/cluster/node.ts [--size 2]      (or --url redis://<host>:6379)
//
// (Run it from the repository root: the Pool's module is the relative path
// "examples/cluster/tasks.ts", which must resolve on every machine.)
import { parseArgs } from "node:util";
import { JoinableQueue, serveWorkers } from "@weft/weft/cluster";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    size: { type: "string", default: "1" },
    label: { type: "string", default: String(Deno.pid) },
    lease: { type: "string", default: "1000" },
  },
});
// A URL with a password belongs in the environment, not on a command line.
const url = values.url ?? Deno.env.get("WEFT_REDIS_URL") ??
  "redis://127.0.0.1:6379";
const label = values.label!;
const say = (line: string) => console.log(`[${label}] ${line}`);
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
Deno.addSignalListener("SIGINT", () => stop.abort());

// 1. The pool: run "render" tasks for any client of the fleet.
const served = serveWorkers({
  module: "examples/cluster/tasks.ts",
  url,
  name: "render",
  size: Number(values.size),
  prefetch: 1,
  visibilityTimeout: Number(values.lease),
  signal: stop.signal,
  onEvent: (e) => {
    if (e.type !== "start") return;
    say(
      `pool task ${e.task} start${
        e.deliveries > 1 ? ` (delivery ${e.deliveries}: redelivered)` : ""
      }`,
    );
  },
});

// 2. The queue: take jobs, work, mark them done.
const jobs = await JoinableQueue.connect<number>(url, {
  name: "jobs",
  visibilityTimeout: Number(values.lease),
});
say("ready");
while (!stop.signal.aborted) {
  let task;
  try {
    task = await jobs.getTask({ signal: stop.signal });
  } catch {
    break;
  }
  say(
    `job ${task.value} start${
      task.deliveries > 1 ? ` (delivery ${task.deliveries}: redelivered)` : ""
    }`,
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  try {
    await task.ack();
    say(`job ${task.value} done`);
  } catch (error) {
    say(`job ${task.value}: ${(error as Error).message}`);
  }
}
await jobs.close();
await served;
