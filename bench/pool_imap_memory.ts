// imap over 10^6 items with chunksize 1: heap stays flat (bounded in-flight).
//   deno run --allow-read bench/pool_imap_memory.ts [items]
import { Pool } from "../concurrency/mod.ts";

const N = Number(Deno.args[0] ?? 1_000_000);
await using pool = new Pool({
  module: new URL("./pool_task.ts", import.meta.url),
  size: 2,
});
function* numbers() {
  for (let i = 0; i < N; i++) yield i;
}
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const t0 = performance.now();
let count = 0;
let peakHeap = 0;
for await (const _ of pool.imap("inc", numbers())) {
  if (++count % 100_000 === 0) {
    const { heapUsed, rss } = Deno.memoryUsage();
    peakHeap = Math.max(peakHeap, heapUsed);
    console.log(
      `${count} items  heapUsed ${mb(heapUsed)} MiB  rss ${mb(rss)} MiB`,
    );
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  `${count} items in ${secs.toFixed(1)} s (${
    Math.round(count / secs)
  } items/s), peak heapUsed ${mb(peakHeap)} MiB`,
);
