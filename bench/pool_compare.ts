// Tiny-task throughput and one-task latency: weft's Pool against piscina and
// tinypool (under Node) and Python's multiprocessing.Pool, in ONE run.
//
//   deno run -A bench/pool_compare.ts [--tasks 50000] [--rounds 3]
//     [--lib /path/to/other/weft ...] [--weft-only]
//
// Every contender: 2 workers, task `x => x + 1`.
// - throughput: N tasks submitted one call per task, all in flight, awaited
//   together (weft `pool.apply`, piscina/tinypool `pool.run`, Python
//   `Pool(2).map(inc, range(N), chunksize=1)`); best of `--rounds`.
// - latency: p50 of 2000 sequential single-task round trips (weft
//   `apply`, piscina/tinypool `run`, Python `apply`).
// `--lib DIR` (repeatable) also measures the weft copy in DIR (e.g. an older
// commit extracted with `git archive`) in the same run, alternating with
// this tree's for `--rounds` passes; `--weft-only` skips the other contenders.
// Node packages are installed with npm into a temp dir (needs the npm
// registry); Python is `python3`. A contender that cannot run is reported
// as "n/a".
import { parseArgs } from "node:util";
import { Pool as ThisPool } from "../concurrency/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    tasks: { type: "string", default: "50000" },
    rounds: { type: "string", default: "3" },
    lib: { type: "string", multiple: true, default: [] },
    "weft-only": { type: "boolean", default: false },
  },
});
const N = Number(args.values.tasks);
const ROUNDS = Number(args.values.rounds);
const LAT = 2000;

interface Result {
  name: string;
  tasksPerSec: number | undefined;
  p50us: number | undefined;
  note?: string;
}

function p50(samples: number[]): number {
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

type PoolClass = typeof ThisPool;

/** One pass over a weft Pool: throughput of one round, then `lat` samples. */
async function weftPass(
  Pool: PoolClass,
  lat: number,
): Promise<{ tasksPerSec: number; samples: number[] }> {
  await using pool = new Pool({
    module: new URL("./pool_task.ts", import.meta.url),
    size: 2,
  });
  await Promise.all(
    Array.from({ length: 2000 }, (_, i) => pool.apply("inc", [i])),
  );
  const t0 = performance.now();
  const all = new Array(N);
  for (let i = 0; i < N; i++) all[i] = pool.apply("inc", [i]);
  await Promise.all(all);
  const tasksPerSec = N / ((performance.now() - t0) / 1000);
  const samples: number[] = [];
  for (let i = 0; i < lat; i++) {
    const t0 = performance.now();
    await pool.apply("inc", [i]);
    samples.push(performance.now() - t0);
  }
  return { tasksPerSec, samples };
}

/**
 * This tree's Pool and each `--lib` copy, alternating pass by pass (best
 * throughput of `ROUNDS` passes, p50 over all latency samples).
 */
async function weft(): Promise<Result[]> {
  const libs: { name: string; Pool: PoolClass }[] = [
    { name: "weft Pool (Deno)", Pool: ThisPool },
  ];
  for (const dir of args.values.lib as string[]) {
    const url = new URL(
      `${dir.replace(/\/$/, "")}/concurrency/mod.ts`,
      `file://${Deno.cwd()}/`,
    );
    const mod = await import(url.href);
    libs.push({ name: `weft Pool (Deno, ${dir})`, Pool: mod.Pool });
  }
  const best = libs.map(() => 0);
  const lat = libs.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < libs.length; k++) {
      const pass = await weftPass(libs[k].Pool, Math.ceil(LAT / ROUNDS));
      best[k] = Math.max(best[k], pass.tasksPerSec);
      lat[k].push(...pass.samples);
    }
  }
  return libs.map((lib, k) => ({
    name: lib.name,
    tasksPerSec: best[k],
    p50us: p50(lat[k]) * 1000,
  }));
}

const NODE_WORKER = `module.exports = (x) => x + 1;\n`;
const NODE_RUNNER = `
const path = require("node:path");
const [,, lib, n, rounds, lat] = process.argv;
const N = Number(n), ROUNDS = Number(rounds), LAT = Number(lat);
(async () => {
  let pool;
  const filename = path.join(__dirname, "worker.js");
  if (lib === "piscina") {
    const { Piscina } = require("piscina");
    pool = new Piscina({ filename, minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 1 });
  } else {
    const { Tinypool } = require("tinypool");
    pool = new Tinypool({ filename, minThreads: 2, maxThreads: 2 });
  }
  await Promise.all(Array.from({ length: 2000 }, (_, i) => pool.run(i)));
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const all = new Array(N);
    for (let i = 0; i < N; i++) all[i] = pool.run(i);
    await Promise.all(all);
    best = Math.max(best, N / ((performance.now() - t0) / 1000));
  }
  const lat = [];
  for (let i = 0; i < LAT; i++) {
    const t0 = performance.now();
    await pool.run(i);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ tasksPerSec: best, p50us: lat[Math.floor(lat.length / 2)] * 1000 }));
  await pool.destroy();
})();
`;

const PY_RUNNER = `
import sys, time, json
from multiprocessing import Pool
def inc(x):
    return x + 1
if __name__ == "__main__":
    n, rounds, lat = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    with Pool(2) as pool:
        pool.map(inc, range(2000), chunksize=1)
        best = 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            pool.map(inc, range(n), chunksize=1)
            best = max(best, n / (time.perf_counter() - t0))
        samples = []
        for i in range(lat):
            t0 = time.perf_counter()
            pool.apply(inc, (i,))
            samples.append(time.perf_counter() - t0)
        samples.sort()
        print(json.dumps({"tasksPerSec": best, "p50us": samples[len(samples) // 2] * 1e6}))
`;

async function run(cmd: string, argv: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args: argv,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(new TextDecoder().decode(out.stderr).slice(0, 500));
  }
  return new TextDecoder().decode(out.stdout);
}

async function nodeLib(dir: string | undefined, lib: string): Promise<Result> {
  if (!dir) {
    return {
      name: `${lib} (Node)`,
      tasksPerSec: undefined,
      p50us: undefined,
      note: "npm install failed",
    };
  }
  try {
    const json = JSON.parse(
      await run("node", [
        `${dir}/runner.cjs`,
        lib,
        String(N),
        String(ROUNDS),
        String(LAT),
      ]),
    );
    const version = JSON.parse(
      await Deno.readTextFile(`${dir}/node_modules/${lib}/package.json`),
    ).version;
    return {
      name: `${lib} ${version} (Node ${
        (await run("node", ["--version"])).trim()
      })`,
      ...json,
    };
  } catch (error) {
    return {
      name: `${lib} (Node)`,
      tasksPerSec: undefined,
      p50us: undefined,
      note: String(error).slice(0, 80),
    };
  }
}

async function prepareNode(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "weft-pool-bench-" });
  try {
    await run("npm", [
      "install",
      "--silent",
      "--prefix",
      dir,
      "piscina",
      "tinypool",
    ]);
    await Deno.writeTextFile(`${dir}/worker.js`, NODE_WORKER);
    await Deno.writeTextFile(`${dir}/runner.cjs`, NODE_RUNNER);
    return dir;
  } catch (error) {
    console.error("npm install failed:", String(error).slice(0, 200));
    return undefined;
  }
}

async function python(): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "weft-pool-bench-py-" });
  try {
    await Deno.writeTextFile(`${dir}/runner.py`, PY_RUNNER);
    const json = JSON.parse(
      await run("python3", [
        `${dir}/runner.py`,
        String(N),
        String(ROUNDS),
        String(LAT),
      ]),
    );
    const version = (await run("python3", ["--version"])).trim();
    return { name: `multiprocessing.Pool(2) (${version})`, ...json };
  } catch (error) {
    return {
      name: "multiprocessing.Pool(2)",
      tasksPerSec: undefined,
      p50us: undefined,
      note: String(error).slice(0, 80),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const weftOnly = args.values["weft-only"];
const nodeDir = weftOnly ? undefined : await prepareNode();
const results: Result[] = [];
results.push(...await weft());
if (!weftOnly) {
  results.push(await nodeLib(nodeDir, "piscina"));
  results.push(await nodeLib(nodeDir, "tinypool"));
  results.push(await python());
}
if (nodeDir) await Deno.remove(nodeDir, { recursive: true });

// The reference column: piscina, or this tree's Pool with --weft-only.
const piscina = results.find((r) => r.name.startsWith("piscina")) ??
  results[0];
const refName = piscina.name.split(" ")[0];
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? "n/a" : n.toFixed(digits);
console.log(
  `\n2 workers, x => x + 1, ${N} tasks (best of ${ROUNDS}), latency p50 of ${LAT} round trips`,
);
console.log(
  `load average at end: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`,
);
console.log(
  `| contender | tasks/s | vs ${refName} (higher is better) | round trip p50 (µs) | vs ${refName} (lower is better) |`,
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const tr = r.tasksPerSec && piscina?.tasksPerSec
    ? `${(r.tasksPerSec / piscina.tasksPerSec).toFixed(2)}×`
    : "n/a";
  const lr = r.p50us && piscina?.p50us
    ? `${(r.p50us / piscina.p50us).toFixed(2)}×`
    : "n/a";
  console.log(
    `| ${r.name} | ${fmt(r.tasksPerSec)} | ${tr} | ${fmt(r.p50us)} | ${lr} |${
      r.note ? " " + r.note : ""
    }`,
  );
}
