// Demo step: real worker threads (weft Thread) share a Lock, a counter in a
// SharedArrayBuffer and two Queues.
import { Lock, Queue, Thread } from "../../concurrency/mod.ts";
import type { DemoStep } from "./step.ts";

const TASKS = new URL("./_tasks.ts", import.meta.url);
const THREADS = 4;
const ROUNDS = 1_000;
const JOBS = 300;

export const step: DemoStep = {
  title: "concurrency: 4 worker threads share a Lock and joinable Queues",
  async run() {
    const lock = new Lock();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const jobs = new Queue<number | null>({ maxsize: 16 });
    const results = new Queue<number>();
    const threads: Thread[] = [];
    try {
      const t0 = performance.now();
      for (let i = 0; i < THREADS; i++) {
        threads.push(
          new Thread({
            module: TASKS,
            fn: "addUnderLock",
            args: [lock, counter, ROUNDS],
          }),
        );
      }
      for (const t of threads) t.start();
      for (const t of threads) await t.join();
      const lockMs = performance.now() - t0;
      if (counter[0] !== THREADS * ROUNDS) {
        throw new Error(
          `Lost updates: counter is ${counter[0]}, expected ${
            THREADS * ROUNDS
          }`,
        );
      }

      const workers = Array.from(
        { length: THREADS },
        () =>
          new Thread({
            module: TASKS,
            fn: "squareWorker",
            args: [jobs, results],
          }),
      );
      threads.push(...workers);
      for (const t of workers) t.start();
      for (let n = 1; n <= JOBS; n++) await jobs.put(n);
      await jobs.join();
      for (let i = 0; i < THREADS; i++) await jobs.put(null);
      const handled = [];
      for (const t of workers) handled.push(await t.join() as number);
      let sum = 0;
      for (let i = 0; i < JOBS; i++) sum += results.getNowait();
      const expected = JOBS * (JOBS + 1) * (2 * JOBS + 1) / 6;
      if (sum !== expected) {
        throw new Error(`Sum of squares ${sum}, expected ${expected}`);
      }
      return [
        `${THREADS} threads x ${ROUNDS} locked read-modify-writes: counter = ${
          counter[0]
        }, none lost (${lockMs.toFixed(0)} ms)`,
        `${JOBS} jobs through a bounded Queue(maxsize 16), split ${
          handled.join("/")
        } between threads; join() + sum of squares ok`,
      ];
    } finally {
      jobs.close();
      results.close();
      for (const t of threads) await t[Symbol.asyncDispose]();
    }
  },
};
