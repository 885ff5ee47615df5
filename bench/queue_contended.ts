// Contended queue throughput: P producer workers and C consumer workers on
// ONE weft Queue (shared memory), blocking putSync/getSync, small items.
// Measures the wake-up policy (issue #18 item 5: a put wakes one getter, a
// get wakes one putter, FIFO). Compare two library copies in ONE run:
//
//   deno run -A bench/queue_contended.ts [--items 200000] [--rounds 3]
//     [--producers 4] [--consumers 4] [--maxsize 64] [--lib other/concurrency/mod.ts ...]
//
// `--lib` may be given several times (default: this checkout); each row is
// one library, best of --rounds, rounds alternating between libraries.
import { parseArgs } from "node:util";

const args = parseArgs({
  args: Deno.args,
  options: {
    items: { type: "string", default: "200000" },
    rounds: { type: "string", default: "3" },
    producers: { type: "string", default: "4" },
    consumers: { type: "string", default: "4" },
    maxsize: { type: "string", default: "64" },
    lib: { type: "string", multiple: true },
  },
});
const N = Number(args.values.items);
const ROUNDS = Number(args.values.rounds);
const P = Number(args.values.producers);
const C = Number(args.values.consumers);
const MAXSIZE = Number(args.values.maxsize);
const LIBS =
  (args.values.lib?.length
    ? args.values.lib
    : [new URL("../concurrency/mod.ts", import.meta.url).href]).map((l) =>
      l.includes(":") ? l : new URL(l, `file://${Deno.cwd()}/`).href
    );

interface Lib {
  Queue: new (o: { maxsize: number }) => unknown;
  share(value: unknown): unknown;
}

async function once(libUrl: string): Promise<number> {
  const lib = await import(libUrl) as Lib;
  const workers = Array.from(
    { length: P + C },
    () =>
      new Worker(new URL("./queue_contended_worker.ts", import.meta.url), {
        type: "module",
      }),
  );
  try {
    const ready = workers.map((w) =>
      new Promise<void>((resolve) => w.onmessage = () => resolve())
    );
    for (const w of workers) w.postMessage({ role: "load", lib: libUrl });
    await Promise.all(ready);
    const queue = lib.Queue ? new lib.Queue({ maxsize: MAXSIZE }) : undefined;
    const done = workers.map((w) =>
      new Promise<void>((resolve) => w.onmessage = () => resolve())
    );
    const t0 = performance.now();
    workers.forEach((w, i) => {
      const role = i < P ? "produce" : "consume";
      const count = i < P
        ? Math.floor(N / P) + (i < N % P ? 1 : 0)
        : Math.floor(N / C) + (i - P < N % C ? 1 : 0);
      w.postMessage(lib.share({ role, n: count, queue }));
    });
    await Promise.all(done);
    return N / ((performance.now() - t0) / 1000);
  } finally {
    for (const w of workers) w.terminate();
  }
}

const best = LIBS.map(() => 0);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < LIBS.length; i++) {
    best[i] = Math.max(best[i], await once(LIBS[i]));
  }
}
console.log(
  `\n${P} producers × ${C} consumers (workers, putSync/getSync), Queue(maxsize ${MAXSIZE}), ${N} items, best of ${ROUNDS}`,
);
console.log(
  `load average at end: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`,
);
console.log("| library | items/s | vs first |");
console.log("| --- | ---: | ---: |");
LIBS.forEach((lib, i) =>
  console.log(
    `| ${lib} | ${best[i].toFixed(0)} | ${(best[i] / best[0]).toFixed(2)}× |`,
  )
);
