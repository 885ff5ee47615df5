// deno bench --allow-read bench/queue_bench.ts
// One thread, no contention: the cost of encoding + storing + decoding one
// item of each kind (cross-worker numbers: bench/queue_compare.ts).
import { PriorityQueue, Queue } from "../concurrency/mod.ts";

const queue = new Queue<unknown>({ maxsize: 1024 });
const priority = new PriorityQueue<[number, string]>({ maxsize: 1024 });
for (let i = 0; i < 512; i++) priority.putNowait([i % 97, "x"]);
const bytes = new Uint8Array(256);
const map = new Map([["a", 1]]);
let i = 0;

Deno.bench("Queue putNowait+getNowait: number", {
  group: "queue",
  baseline: true,
}, () => {
  queue.putNowait(i++);
  queue.getNowait();
});
Deno.bench(
  "Queue putNowait+getNowait: short string",
  { group: "queue" },
  () => {
    queue.putNowait(`item ${i++}`);
    queue.getNowait();
  },
);
Deno.bench("Queue putNowait+getNowait: small object (JSON path)", {
  group: "queue",
}, () => {
  queue.putNowait({ a: i++, b: "x" });
  queue.getNowait();
});
Deno.bench(
  "Queue putNowait+getNowait: 256-byte Uint8Array",
  { group: "queue" },
  () => {
    queue.putNowait(bytes);
    queue.getNowait();
  },
);
Deno.bench(
  "Queue putNowait+getNowait: Map (node:v8 path)",
  { group: "queue" },
  () => {
    queue.putNowait(map);
    queue.getNowait();
  },
);
Deno.bench(
  "PriorityQueue put+get with 512 queued (heap)",
  { group: "queue" },
  () => {
    priority.putNowait([i++ % 97, "x"]);
    priority.getNowait();
  },
);
Deno.bench("MessageChannel-free baseline: structuredClone of a small object", {
  group: "queue",
}, () => {
  structuredClone({ a: i++, b: "x" });
});
