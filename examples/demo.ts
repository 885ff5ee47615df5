// weft's guided tour: `deno task demo` (no arguments, under 20 s).
//
// Starts real workers, sockets and processes on 127.0.0.1, drives them and
// prints a short report. Exits 0 only if every step worked.
//
//   deno run --allow-net=127.0.0.1,localhost --allow-read --allow-write \
//     --allow-run --allow-env --allow-sys examples/demo.ts
//
// Each step lives in examples/demo/ as one file exporting `step`.

import { steps } from "./demo/steps.ts";

const started = performance.now();
let failures = 0;
console.log("weft demo: what weft does on this machine (127.0.0.1 only)\n");
for (const step of steps) {
  const t0 = performance.now();
  try {
    const lines = await step.run();
    const ms = (performance.now() - t0).toFixed(0);
    console.log(`ok   ${step.title} (${ms} ms)`);
    for (const line of lines) console.log(`     ${line}`);
  } catch (error) {
    failures++;
    console.log(`FAIL ${step.title}: ${(error as Error)?.stack ?? error}`);
  }
}
const total = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `\n${steps.length - failures} of ${steps.length} steps worked in ${total} s`,
);
Deno.exit(failures === 0 ? 0 : 1);
