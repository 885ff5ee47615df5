// Demo step: weft's Pool spreads CPU-bound tasks over worker threads.
import { Pool } from "../../concurrency/mod.ts";
import type { DemoStep } from "./step.ts";

const TASKS = 40;
const LIMIT = 30_000;

export const step: DemoStep = {
  title:
    "concurrency: Pool of 2 workers runs CPU-bound tasks (map + callbacks)",
  async run() {
    await using pool = new Pool({
      module: new URL("./_tasks.ts", import.meta.url),
      size: 2,
    });
    await pool.apply("countPrimes", [10]); // start the workers before timing
    const t0 = performance.now();
    let callbacks = 0;
    const results = await Promise.all(
      Array.from(
        { length: TASKS },
        () =>
          pool.applyAsync<number>("countPrimes", [LIMIT], {
            callback: () => callbacks++,
          }),
      ),
    );
    const ms = performance.now() - t0;
    if (callbacks !== TASKS || results.some((r) => r !== 3245)) {
      throw new Error(
        `Wrong results: ${callbacks} callbacks, ${results.slice(0, 3)}...`,
      );
    }
    const mapped = await pool.map<number>("countPrimes", [10, 100, 1000]);
    if (mapped.join() !== "4,25,168") throw new Error(`map gave ${mapped}`);
    return [
      `${TASKS} prime counts (below ${LIMIT}) in ${ms.toFixed(0)} ms: ${
        (TASKS / ms * 1000).toFixed(0)
      } tasks/s, ${callbacks} callbacks`,
      `map([10, 100, 1000]) = [${mapped.join(", ")}] in order`,
    ];
  },
};
