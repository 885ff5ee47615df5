// The threading lessons of the tutorials, one part per program, on weft
// Threads (Web Workers running functions of thread_tasks.ts) and weft's
// shared-memory Lock, RLock, Event, Semaphore and Queue.
//
//   deno run --allow-read examples/lessons/threads.ts --part NAME [--scale 1]
//   deno run --allow-read examples/lessons/threads.ts --list
//
// --part picks the program (see --list, or PARTS below: each names the seed
// file and line where the tutorial's code starts). --scale multiplies every
// pause of the tutorial (1 = the tutorial's own timing; the tests use 0.01).
// --threads, --rounds and --times shrink the parts that start 100 threads,
// loop forever, or count to a million. (--allow-read lets the workers load
// thread_tasks.ts.) No partner program.
//
// What differs from Python, and why:
// - A Python thread shares every global; a weft Thread is a Web Worker that
//   shares only what it is given: a number lives in an Int32Array on a
//   SharedArrayBuffer, a list in a shared Int32Array, and locks, events,
//   semaphores and queues are passed as arguments and arrive live.
// - Python's `setDaemon(True)` thread dies when the main program ends. Deno
//   keeps a process alive while any Worker runs, so a part with a daemon
//   thread joins the non-daemon threads and then exits the process, which
//   is exactly what Python's interpreter does at exit.
// - A `run()` method cannot cross into a worker; `class MyThread extends
//   Thread` passes the function name of its `run` to the base class.

import {
  activeCount,
  Event,
  Lock,
  Queue,
  RLock,
  Semaphore,
  Thread,
} from "../../concurrency/mod.ts";
import { lessonArgs, type Part, py, runPart, sleep } from "./_python.ts";

const TASKS = new URL("./thread_tasks.ts", import.meta.url);

const { values, scale } = lessonArgs({
  threads: { type: "string" },
  rounds: { type: "string", default: "5" },
  times: { type: "string" },
});

/** A Thread running one function of thread_tasks.ts. */
function thread(fn: string, args: unknown[], name?: string): Thread {
  return new Thread({ module: TASKS, fn, args: [...args], name });
}

/** Python's `class MyThread(threading.Thread)` whose `run()` is `fn`. */
class MyThread extends Thread {
  constructor(fn: string, ...args: unknown[]) {
    super({ module: TASKS, fn, args });
  }
}

/** Python's exit: wait for the non-daemon threads, then end the process (daemon threads die with it). */
async function exitLikePython(nonDaemon: Thread[]): Promise<never> {
  await Promise.all(nonDaemon.map((t) => t.join()));
  Deno.exit(0);
}

const count = (fallback: number) => Number(values.threads ?? fallback);

const PARTS: Record<string, Part> = {
  // 001:1078 — Thread(target=...), t2.setDaemon(True), print('end')
  "target-daemon": {
    seed: "001:1078",
    run: async () => {
      const t1 = thread("music", [scale]);
      const t2 = thread("game", [scale]); // the daemon
      t1.start();
      t2.start();
      console.log("end");
      await exitLikePython([t1]);
    },
  },
  // 001:1121 — class MyThread(threading.Thread) with run()
  subclass: {
    seed: "001:1121",
    run: async () => {
      const t1 = new MyThread("runNumber", 1, scale);
      const t2 = new MyThread("runNumber", 2, scale);
      t1.start();
      t2.start();
      console.log("ending......");
      await Promise.all([t1.join(), t2.join()]);
    },
  },
  // 001:1166 — getName(), activeCount(), a daemon thread
  names: {
    seed: "001:1166",
    run: async () => {
      const t1 = thread("music", [scale]);
      const t2 = thread("game", [scale]); // the daemon
      for (const t of [t1, t2]) {
        t.start();
        console.log(t.name);
        console.log("count:", activeCount());
      }
      while (activeCount() === 3) {
        console.log("end");
        await sleep(0.5, scale); // Python spins here; once per 0.5 s is enough
      }
      await exitLikePython([t1]);
    },
  },
  // 001:1212 — 100 threads decrement num under a Lock: prints 0
  lock: {
    seed: "001:1212",
    run: async () => {
      const n = count(100);
      const num = new Int32Array(new SharedArrayBuffer(4));
      num[0] = n;
      const lock = new Lock();
      const li: Thread[] = [];
      for (let i = 0; i < n; i++) {
        const t1 = thread("sub", [lock, num, scale]);
        t1.start();
        li.push(t1);
      }
      for (const l of li) await l.join();
      console.log(num[0]);
    },
  },
  // 001:1245 — RLock taken twice by the same thread, three threads
  rlock: {
    seed: "001:1245",
    run: async () => {
      const lock = new RLock();
      const li: Thread[] = [];
      for (let i = 0; i < 3; i++) {
        const t = new MyThread("rlockActions", lock, scale);
        t.start();
        li.push(t);
      }
      for (const t of li) await t.join();
      console.log("end");
    },
  },
  // 001:1314 — Event: the boss and five workers
  event: {
    seed: "001:1314",
    run: async () => {
      const event = new Event();
      const threads: Thread[] = [];
      for (let i = 0; i < 5; i++) {
        threads.push(new MyThread("employee", event, scale));
      }
      threads.push(new MyThread("boss", event, scale));
      // like Python: each start() returns once its thread runs
      for (const t of threads) await t.start();
      for (const t of threads) await t.join();
      console.log("end");
    },
  },
  // 001:1357 — Semaphore(5) and 100 threads
  semaphore: {
    seed: "001:1357",
    run: async () => {
      const semaphore = new Semaphore(5);
      const threads: Thread[] = [];
      for (let i = 0; i < count(100); i++) {
        threads.push(new MyThread("useSlot", semaphore, scale));
      }
      for (const t of threads) t.start();
      await Promise.all(threads.map((t) => t.join()));
    },
  },
  // 001:1385 — the unsafe shared list
  "unsafe-list": {
    seed: "001:1385",
    run: async () => {
      const li = new Int32Array(new SharedArrayBuffer(4 * 11));
      li.set([10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // [len, 1..10]
      const t1 = thread("unsafeFoo", [li, scale]);
      t1.start();
      const t2 = thread("unsafeFoo", [li, scale]);
      t2.start();
      await Promise.all([t1.join(), t2.join()]);
    },
  },
  // 001:1412 — the queue's methods
  "queue-methods": {
    seed: "001:1412",
    run: async () => {
      const q = new Queue<unknown>(); // maxsize 0: unbounded
      q.putNowait(12);
      q.putNowait("alex");
      q.putNowait({ age: 15 });
      console.log(await q.get()); // 12
      console.log(q.qsize()); // 2
      console.log(py(q.empty())); // False
      console.log(py(q.full())); // False
      // q.join() waits until every item put was marked task_done(); the
      // tutorial never calls task_done(), so Python would wait forever here.
      // Marking the three items done lets it return.
      for (let i = 0; i < 3; i++) q.taskDone();
      await q.join();
    },
  },
  // 001:1442 — producer and consumer threads on a Queue
  "producer-consumer": {
    seed: "001:1442",
    run: async () => {
      const q = new Queue<number>();
      const p1 = thread("producer", [q, "alex", scale]);
      const c1 = thread("consumer", [q, "B", scale]);
      p1.start();
      c1.start();
      await Promise.all([p1.join(), c1.join()]);
    },
  },
  // 000:240 — a MyThread printing forever next to the main loop
  forever: {
    seed: "000:240",
    run: async () => {
      const rounds = Number(values.rounds);
      const mt = new MyThread("runForever", rounds, scale);
      mt.start();
      for (let i = 0; i < rounds; i++) {
        console.log("这是主线程");
        await sleep(1, scale);
      }
      await mt.join();
    },
  },
  // 000:276 — two workers, a million increments each, one Lock
  "lock-counter": {
    seed: "000:276",
    run: async () => {
      const times = Number(values.times ?? 1_000_000);
      const gNumber = new Int32Array(new SharedArrayBuffer(4));
      const lock = new Lock();
      const w1 = thread("addUnderLock", [lock, gNumber, times]);
      w1.start();
      const w2 = thread("addUnderLock", [lock, gNumber, times]);
      w2.start();
      await w1.join();
      await w2.join();
      console.log(`运算结果是${gNumber[0]}`);
    },
  },
  // 002:604 — coding and music threads next to the main loop
  "coding-music": {
    seed: "002:604",
    run: async () => {
      const times = Number(values.times ?? 200);
      const t1 = thread("coding", [times, scale]);
      const t2 = thread("listen", [times, scale]);
      t1.start();
      t2.start();
      for (let i = 1; i < 20; i++) {
        await sleep(0.1, scale);
        console.log(`main${i}`);
      }
      await Promise.all([t1.join(), t2.join()]);
    },
  },
  // 004:43 — Thread(target=task, args=("xxx",))
  "task-function": {
    seed: "004:43",
    run: async () => {
      const t1 = thread("task", ["xxx", scale]);
      t1.start();
      console.log("main");
      await t1.join();
    },
  },
  // 004:44 — class MyThread(Thread) with a name
  "task-subclass": {
    seed: "004:44",
    run: async () => {
      const t1 = new MyThread("task", "xxx", scale);
      t1.start();
      console.log("main");
      await t1.join();
    },
  },
};

await runPart(PARTS, values);
