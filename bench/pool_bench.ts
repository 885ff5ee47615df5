// deno bench --allow-read bench/pool_bench.ts
// Pool dispatch costs with 2 workers and `x => x + 1` (comparison with
// piscina, tinypool and Python: bench/pool_compare.ts).
import { Pool } from "../concurrency/mod.ts";

const pool = new Pool({
  module: new URL("./pool_task.ts", import.meta.url),
  size: 2,
});
await pool.map("inc", [1, 2, 3, 4]);
addEventListener("unload", () => pool.terminate());

Deno.bench(
  "Pool.apply: one round trip",
  { group: "pool", baseline: true },
  async () => {
    await pool.apply("inc", [1]);
  },
);
Deno.bench("Pool.apply x1000 in flight", { group: "pool" }, async () => {
  const all = [];
  for (let i = 0; i < 1000; i++) all.push(pool.apply("inc", [i]));
  await Promise.all(all);
});
Deno.bench("Pool.map 1000 items, chunksize 1", { group: "pool" }, async () => {
  await pool.map("inc", Array.from({ length: 1000 }, (_, i) => i), {
    chunksize: 1,
  });
});
Deno.bench(
  "Pool.map 1000 items, default chunksize",
  { group: "pool" },
  async () => {
    await pool.map("inc", Array.from({ length: 1000 }, (_, i) => i));
  },
);
