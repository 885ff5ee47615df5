// Compares weft's Lock with a raw Atomics futex lock (and Python's
// threading.Lock) in one run and prints the ratios.
//
//   deno run --allow-read --allow-run --allow-env bench/lock_compare.ts
//
// Goals (issue 3): uncontended acquireSync+release <= 2x the raw lock's
// time; 2-worker contended acquireSync >= 0.7x raw throughput; 2-worker
// contended async acquire >= 0.25x raw throughput; Python for comparison.
import { Event } from "../concurrency/event.ts";
import { Lock } from "../concurrency/lock.ts";
import { Thread } from "../concurrency/thread.ts";
import { rawLock, rawUnlock } from "./_lock_tasks.ts";

const TASKS = new URL("./_lock_tasks.ts", import.meta.url);
const UNCONTENDED = 3_000_000;
const CONTENDED = 500_000; // per worker
const ASYNC_CONTENDED = 100_000; // per worker

/** Best ns/op of each body over alternating rounds (fair under noise). */
function nsPerOp(n: number, bodies: ((n: number) => void)[]): number[] {
  for (const body of bodies) body(Math.min(n, 200_000)); // warm up
  const best = bodies.map(() => Infinity);
  for (let round = 0; round < 7; round++) {
    bodies.forEach((body, i) => {
      const start = performance.now();
      body(n);
      best[i] = Math.min(best[i], ((performance.now() - start) * 1e6) / n);
    });
  }
  return best;
}

function uncontended(): { raw: number; weft: number } {
  const v = new Int32Array(new SharedArrayBuffer(8));
  const lock = new Lock();
  const [raw, weft] = nsPerOp(UNCONTENDED, [(n) => {
    for (let i = 0; i < n; i++) {
      rawLock(v);
      rawUnlock(v);
    }
  }, (n) => {
    for (let i = 0; i < n; i++) {
      lock.acquireSync();
      lock.release();
    }
  }]);
  return { raw, weft };
}

/** Runs `fn` on 2 threads once and returns total ops per second. */
async function twoWorkersOnce(
  fn: string,
  args: (go: Event, done: Int32Array) => unknown[],
  perWorker: number,
): Promise<number> {
  const go = new Event();
  const done = new Int32Array(new SharedArrayBuffer(4));
  const threads = [0, 1].map(() =>
    new Thread({ module: TASKS, fn, args: args(go, done) })
  );
  threads.forEach((t) => t.start());
  await new Promise((r) => setTimeout(r, 400)); // let both workers boot
  const start = performance.now();
  go.set();
  while (Atomics.load(done, 0) < 2) {
    await Atomics.waitAsync(done, 0, Atomics.load(done, 0), 50).value;
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(threads.map((t) => t.join()));
  return (2 * perWorker) / seconds;
}

async function python(): Promise<number | undefined> {
  const script = `
import threading, time
N = ${CONTENDED}
lock = threading.Lock()
counter = [0]
go = threading.Event()
def work():
    go.wait()
    for _ in range(N):
        with lock:
            counter[0] += 1
ts = [threading.Thread(target=work) for _ in range(2)]
for t in ts: t.start()
start = time.perf_counter(); go.set()
for t in ts: t.join()
print(2 * N / (time.perf_counter() - start))
`;
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", script],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success
      ? Number(new TextDecoder().decode(out.stdout))
      : undefined;
  } catch {
    return undefined;
  }
}

const u = uncontended();
let rawSync = 0, weftSync = 0, weftAsync = 0;
for (let round = 0; round < 3; round++) { // alternate; keep each one's best
  rawSync = Math.max(
    rawSync,
    await twoWorkersOnce("rawLoop", (go, done) => {
      const v = new Int32Array(new SharedArrayBuffer(8));
      return [v, CONTENDED, go, done];
    }, CONTENDED),
  );
  const lockA = new Lock();
  const counterA = new Int32Array(new SharedArrayBuffer(4));
  weftSync = Math.max(
    weftSync,
    await twoWorkersOnce(
      "syncLoop",
      (go, done) => [lockA, counterA, CONTENDED, go, done],
      CONTENDED,
    ),
  );
  const lockB = new Lock();
  const counterB = new Int32Array(new SharedArrayBuffer(4));
  weftAsync = Math.max(
    weftAsync,
    await twoWorkersOnce(
      "asyncLoop",
      (go, done) => [lockB, counterB, ASYNC_CONTENDED, go, done],
      ASYNC_CONTENDED,
    ),
  );
}
const py = await python();

const f = (n: number) => Math.round(n).toLocaleString("en-US");
const rows: [string, string, string, string][] = [
  [
    "uncontended acquireSync+release",
    `${u.weft.toFixed(1)} ns/op`,
    `${u.raw.toFixed(1)} ns/op`,
    `${(u.weft / u.raw).toFixed(2)}x time (goal <= 2x)`,
  ],
  [
    "2 workers, contended acquireSync",
    `${f(weftSync)} ops/s`,
    `${f(rawSync)} ops/s`,
    `${(weftSync / rawSync).toFixed(2)}x throughput (goal >= 0.7x)`,
  ],
  [
    "2 workers, contended async acquire",
    `${f(weftAsync)} ops/s`,
    `${f(rawSync)} ops/s`,
    `${(weftAsync / rawSync).toFixed(2)}x throughput (goal >= 0.25x)`,
  ],
  [
    "Python threading.Lock, 2 threads",
    py === undefined ? "python3 not found" : `${f(py)} ops/s`,
    `weft sync ${f(weftSync)} ops/s`,
    py === undefined ? "-" : `weft/python ${(weftSync / py).toFixed(2)}x`,
  ],
];
console.log("| case | weft | baseline | ratio |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
