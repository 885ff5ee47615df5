// The multiprocessing lessons of the tutorials, one part per program, on
// weft Processes (separate Deno processes running functions of
// process_tasks.ts), Pipes, and a Manager for what processes share.
//
//   deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 \
//     --allow-env examples/lessons/processes.ts --part NAME [--scale 1]
//   deno run --allow-read examples/lessons/processes.ts --list
//
// --part picks the program (see --list: each names the seed file and line
// where the tutorial's code starts). --scale multiplies every pause (1 = the
// tutorial's timing; the tests use 0.01). --processes shrinks the parts
// that start many processes (the tutorial's 200 Deno processes take about
// 10 GB of memory, so "hello" starts 20 unless told otherwise); --times and
// --n shrink the long loops. (--allow-run and --allow-net=127.0.0.1 start
// the children and the Manager and talk to them over loopback;
// --allow-read loads process_tasks.ts; --allow-write is for the tickets
// file in a temporary folder.) No partner program.
//
// What differs from Python, and why:
// - `multiprocessing.Queue`, `Lock` and `Manager().dict()` become proxies to
//   objects in a weft Manager (a server process), since Deno processes share
//   no memory; weft's shared-memory Lock and Queue are for threads.
// - A `run()` method cannot be sent to a child; `class MyProcess extends
//   Process` passes the name of an exported function to the base class.
// - Python's `id(obj)` has no JavaScript equivalent; the pipe part prints a
//   label instead.

import { Pool, Thread } from "../../concurrency/mod.ts";
import { Manager, Pipe, Process } from "../../ipc/mod.ts";
import { lessonArgs, type Part, pyRepr, runPart, sleep } from "./_python.ts";

const TASKS = new URL("./process_tasks.ts", import.meta.url);

const { values, scale } = lessonArgs({
  processes: { type: "string" },
  times: { type: "string", default: "20" },
  n: { type: "string" },
  use: { type: "string", default: "process" },
});
const processes = (fallback: number) => Number(values.processes ?? fallback);

/** A Process running one function of process_tasks.ts. */
function proc(fn: string, args: unknown[], name?: string): Process {
  return new Process({ module: TASKS, fn, args, name });
}

/** Python's `class MyProcess(Process)` whose `run()` is `fn`. */
class MyProcess extends Process {
  constructor(fn: string, ...args: unknown[]) {
    super({ module: TASKS, fn, args });
  }
}

async function joinAll(list: Process[]): Promise<void> {
  for (const p of list) await p.join();
}

const PARTS: Record<string, Part> = {
  // 001:1506 — 200 processes, each prints hello
  hello: {
    seed: "001:1506",
    run: async () => {
      const pList: Process[] = [];
      for (let i = 0; i < processes(20); i++) {
        const p = proc("hello", ["alex", scale]);
        pList.push(p);
        await p.start();
      }
      await joinAll(pList);
      console.log("end");
    },
  },
  // 001:1530 — class MyProcess(Process)
  subclass: {
    seed: "001:1530",
    run: async () => {
      const pList: Process[] = [];
      for (let i = 0; i < 3; i++) {
        // Python's run() prints self.name, which is Process-N
        const p = new MyProcess("hello", `Process-${i + 1}`, scale);
        await p.start();
        pList.push(p);
      }
      await joinAll(pList);
      console.log("end");
    },
  },
  // 001:1594 — a process queue
  queue: {
    seed: "001:1594",
    run: async () => {
      await using manager = await Manager.start();
      const q = await manager.Queue<number>();
      const p = proc("putTwo", [q]);
      await p.start();
      console.log(await q.get());
      console.log(await q.get());
      await p.join();
    },
  },
  // 001:1616 — Pipe between parent and child
  pipe: {
    seed: "001:1616",
    run: async () => {
      const [parentConn, childConn] = Pipe();
      const id = "child_conn@parent"; // Python prints id(child_conn)
      console.log("q_ID1", id);
      const p = proc("pipeChild", [childConn, "child_conn@child"]);
      await p.start();
      console.log(pyRepr(await parentConn.recv()));
      await parentConn.send("早上好!");
      await p.join();
      parentConn.close();
    },
  },
  // 001:1647 — Manager dict and list shared by 10 processes
  manager: {
    seed: "001:1647",
    run: async () => {
      await using manager = await Manager.start();
      const dic = await manager.dict<number, string>();
      const li = await manager.list<number>([0, 1, 2, 3, 4]); // range(5)
      const pList: Process[] = [];
      for (let i = 0; i < 10; i++) {
        const p = proc("fill", [dic, li, i]);
        await p.start();
        pList.push(p);
      }
      await joinAll(pList);
      console.log(pyRepr(new Map(await dic.entries())));
      console.log(pyRepr(await li.slice()));
    },
  },
  // 001:1676 — a process Lock around print
  lock: {
    seed: "001:1676",
    run: async () => {
      await using manager = await Manager.start();
      const lock = await manager.Lock();
      const pList: Process[] = [];
      for (let num = 0; num < 10; num++) {
        const p = proc("greet", [lock, num]);
        await p.start();
        pList.push(p);
      }
      await joinAll(pList); // Python waits for non-daemon children at exit
    },
  },
  // 001:1698 — Pool(5).apply_async(..., callback=Bar)
  pool: {
    seed: "001:1698",
    run: async () => {
      // weft's Pool runs tasks on worker threads of this process, so the
      // callback's getpid() is this process, as in Python (callbacks run in
      // the parent); Foo's pause is the worker's.
      const bar = (arg: unknown) => {
        console.log(`pgid-->${Deno.pid}\r`);
        console.log(`ppid-->${Deno.ppid}\r`);
        console.log(`logger:${arg ?? "None"}\r`);
      };
      await using pool = new Pool({
        module: new URL("./pool_task.ts", import.meta.url),
        size: 5,
      });
      bar(1);
      console.log("------------\r");
      const done: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        done.push(pool.applyAsync("foo", [i, scale], { callback: bar }));
      }
      pool.close();
      await pool.join();
      await Promise.allSettled(done);
      console.log("end\r");
    },
  },
  // 002:376 — coding and music in two processes
  "coding-music": {
    seed: "002:376",
    run: async () => {
      const times = Number(values.times);
      const p1 = proc("coding", [times, scale]);
      const p2 = proc("music", [times, scale]);
      await p1.start();
      await p2.start();
      await joinAll([p1, p2]);
    },
  },
  // 002:418 — args and kwargs (an object stands for kwargs)
  "args-kwargs": {
    seed: "002:418",
    run: async () => {
      const times = Number(values.times);
      const p1 = proc(
        "coding",
        [times, scale, { name: "小明", age: 30 }],
        "Process-1",
      );
      const p2 = proc(
        "music",
        [times, scale, { name: "某只羊", age: 33 }],
        "Process-2",
      );
      console.log(p1.name);
      // the tutorial stops here without start(); the next lesson starts them
      await p1.start();
      await p2.start();
      await joinAll([p1, p2]);
    },
  },
  // 002:458 — pids of the children and the parent
  pids: {
    seed: "002:458",
    run: async () => {
      const times = Number(values.times);
      const p1 = proc(
        "coding",
        [times, scale, { name: "小明", age: 30 }, true],
        "Process-1",
      );
      const p2 = proc("music", [
        times,
        scale,
        { name: "某只羊", age: 33 },
        true,
      ], "Process-2");
      await p1.start();
      await p2.start();
      console.log(
        `main进程的pid${Deno.pid},${Deno.pid},父进程id(ppid):${Deno.ppid}`,
      );
      await joinAll([p1, p2]);
    },
  },
  // 002:525 — data isolation: each process has its own list
  isolation: {
    seed: "002:525",
    run: async () => {
      const p1 = proc("writerData", []);
      const p2 = proc("readData", [scale]);
      await p1.start();
      await p2.start();
      await joinAll([p1, p2]);
    },
  },
  // 002:565 — terminate() a working child after 1 s
  terminate: {
    seed: "002:565",
    run: async () => {
      const p1 = proc("work", [scale]);
      // p1.daemon = true would also do (思路1)
      await p1.start();
      await sleep(1, scale);
      await p1.terminate(); // 思路2: stop it by force
      console.log("main进程结束了");
    },
  },
  // 004:20 — Process(target=task, args=("aaa",))
  task: {
    seed: "004:20",
    run: async () => {
      const p = proc("task", ["aaa", scale]);
      await p.start();
      console.log("main");
      await p.join(); // Python waits for a non-daemon child at exit
    },
  },
  // 004:21 — class MyProcess(Process) with a name
  "task-subclass": {
    seed: "004:21",
    run: async () => {
      const p = new MyProcess("task", "进程1", scale);
      await p.start();
      console.log("main");
      await p.join();
    },
  },
  // 004:23 — p.join() before print("main")
  join: {
    seed: "004:23",
    run: async () => {
      const p = proc("task", ["aaa", scale]);
      await p.start();
      await p.join();
      console.log("main");
    },
  },
  // 004:25 — a daemon child ends with the parent
  daemon: {
    seed: "004:25",
    run: async () => {
      const p = proc("task", ["xxx", scale]);
      p.daemon = true;
      await p.start();
      await sleep(1, scale);
      console.log("main"); // the daemon dies here, before "xxx is done"
      await p.terminate();
    },
  },
  // 004:26 — a daemon foo and a normal bar
  "daemon-two": {
    seed: "004:26",
    run: async () => {
      const p1 = proc("foo", [scale]);
      const p2 = proc("bar", [scale]);
      p1.daemon = true;
      await p1.start();
      await p2.start();
      console.log("main");
      // Python's exit: daemon children are terminated, then the others joined
      await p1.terminate();
      await p2.join();
    },
  },
  // 004:28 — ticket grabbing with a process Lock and a JSON file
  tickets: {
    seed: "004:28",
    run: async () => {
      const dir = await Deno.makeTempDir({ prefix: "tickets_" });
      const db = `${dir}/db.txt`;
      await Deno.writeTextFile(db, JSON.stringify({ count: 1 }));
      try {
        await using manager = await Manager.start();
        const mutex = await manager.Lock();
        const pList: Process[] = [];
        for (let i = 0; i < processes(10); i++) {
          const p = proc("buyTicket", [db, mutex, scale]);
          await p.start();
          pList.push(p);
        }
        await joinAll(pList);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  },
  // 004:30 — Queue producer/consumer: the consumer never learns it is over
  "queue-forever": {
    seed: "004:30",
    run: async () => {
      await using manager = await Manager.start();
      const q = await manager.Queue<string>();
      const p1 = proc("cook", ["厨师1", "包子", q, scale]);
      const c1 = proc("eat", ["猪1", q, scale, false]);
      await p1.start();
      await c1.start();
      console.log("main");
      await p1.join();
      // Python's program hangs here forever: c1 waits on an empty queue.
      // Show it, then stop it (the next lesson fixes it with JoinableQueue).
      // (the wait covers the consumer's backlog: up to 3 s a bun, plus room
      // for a loaded machine)
      const stuck = await c1.join({ timeout: 4000 * scale + 2000 });
      if (c1.isAlive()) {
        console.log("(the consumer is still waiting for food: stopping it)");
        await c1.terminate();
      }
      void stuck;
    },
  },
  // 004:33 — JoinableQueue: join() returns once every item was eaten
  joinable: {
    seed: "004:33",
    run: async () => {
      await using manager = await Manager.start();
      const q = await manager.Queue<string>();
      const p1 = proc("cook", ["厨师1", "包子", q, scale]);
      const c1 = proc("eat", ["猪1", q, scale, true]);
      c1.daemon = true; // c1 loops forever: it ends with the main process
      await p1.start();
      await c1.start();
      await p1.join();
      await q.join();
      console.log("main");
      await c1.terminate();
    },
  },
  // 004:50 — CPU-bound: 4 threads vs 4 processes
  "cpu-bound": {
    seed: "004:50",
    run: () => timeWorkers(4, "crunch", [Number(values.n ?? 100_000_000)]),
  },
  // 004:52 — I/O-bound: 400 waits of 2 s, threads vs processes
  "io-bound": {
    seed: "004:52",
    run: () =>
      timeWorkers(
        processes(values.use === "thread" ? 400 : 20),
        "waitIo",
        [scale],
      ),
  },
};

/**
 * The 004 lessons' timing: starts `count` Threads (`--use thread`) or
 * Processes running `fn(...args)`, joins them all, prints the run time.
 */
async function timeWorkers(
  count: number,
  fn: string,
  args: unknown[],
): Promise<void> {
  console.log(navigator.hardwareConcurrency);
  const start = performance.now();
  const l: { join(): Promise<unknown> }[] = [];
  for (let i = 0; i < count; i++) {
    if (values.use === "thread") {
      const t = new Thread({ module: TASKS, fn, args });
      t.start();
      l.push(t);
    } else {
      const p = proc(fn, args);
      await p.start();
      l.push(p);
    }
  }
  for (const p of l) await p.join();
  console.log(`run time is ${(performance.now() - start) / 1000}`);
}

await runPart(PARTS, values);
