// What robust locks cost while nobody makes progress: 100 async waiters on
// a Lock held by this thread, for 3 s. Counts the sleeps they start
// (Atomics.waitAsync calls, i.e. wake-ups) per second and the process CPU
// time, for one or more library copies in ONE run (issue #18 item 10).
//
//   deno run -A bench/lock_idle.ts [--waiters 100] [--seconds 3] [--lib other/concurrency/mod.ts ...]
import { parseArgs } from "node:util";
import process from "node:process";

const args = parseArgs({
  args: Deno.args,
  options: {
    waiters: { type: "string", default: "100" },
    seconds: { type: "string", default: "3" },
    lib: { type: "string", multiple: true },
  },
});
const WAITERS = Number(args.values.waiters);
const SECONDS = Number(args.values.seconds);
const LIBS =
  (args.values.lib?.length
    ? args.values.lib
    : [new URL("../concurrency/mod.ts", import.meta.url).href]).map((l) =>
      l.includes(":") ? l : new URL(l, `file://${Deno.cwd()}/`).href
    );

let sleeps = 0;
const waitAsync = Atomics.waitAsync;
Atomics.waitAsync = ((...a: Parameters<typeof Atomics.waitAsync>) => {
  sleeps++;
  return waitAsync(...a);
}) as typeof Atomics.waitAsync;

interface LockLike {
  tryAcquire(): boolean;
  acquire(o?: { signal?: AbortSignal }): Promise<boolean>;
  release(): void;
}

console.log(`\n${WAITERS} async waiters on a held Lock, ${SECONDS} s each`);
console.log(
  "| library | wake-ups/s | CPU ms/s |\n| --- | ---: | ---: |",
);
for (const lib of LIBS) {
  const { Lock } = await import(lib) as { Lock: new () => LockLike };
  const lock = new Lock();
  lock.tryAcquire();
  const stop = new AbortController();
  const waiters = Array.from(
    { length: WAITERS },
    () => lock.acquire({ signal: stop.signal }).catch(() => false),
  );
  await new Promise((r) => setTimeout(r, 500)); // all queued and asleep
  const cpu0 = process.cpuUsage();
  const sleeps0 = sleeps;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rate = (sleeps - sleeps0) / secs;
  console.log(
    `| ${lib} | ${rate.toFixed(0)} | ${
      ((cpu.user + cpu.system) / 1000 / secs).toFixed(1)
    } |`,
  );
  stop.abort();
  await Promise.all(waiters);
  lock.release();
}
