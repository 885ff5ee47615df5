// The child side of examples/lessons/processes.ts: each function is what a
// tutorial process runs (its `target`, or its `run()` method), executed in
// a weft Process (a separate Deno process). Proxies to Manager objects and
// Pipe ends arrive live as arguments. `scale` shortens the tutorial's pauses.
import type {
  Connection,
  DictProxy,
  ListProxy,
  LockProxy,
  QueueProxy,
} from "../../ipc/mod.ts";
import { ctime, pyRepr, randint, sleep } from "./_python.ts";

/** 001:1506 — `Foo(name)`; 001:1530 — `MyProcess.run()`. */
export async function hello(name: string, scale: number): Promise<void> {
  await sleep(1, scale);
  console.log("hello", name, ctime());
}

/** 001:1594 — `Foo(q)`: put two numbers on a process queue. */
export async function putTwo(q: QueueProxy<number>): Promise<void> {
  await q.put(123);
  await q.put(456);
}

/** 001:1616 — `Foo(child_conn)`: send a list, print the answer. */
export async function pipeChild(conn: Connection, id: string): Promise<void> {
  await conn.send([12, { name: "alice" }, "hello"]);
  const response = await conn.recv();
  console.log("response:", response);
  conn.close();
  console.log("q_id2:", id);
}

/** 001:1647 — `Foo(dic, li, i)`: write into a Manager dict and list. */
export async function fill(
  dic: DictProxy<number, string>,
  li: ListProxy<number>,
  i: number,
): Promise<void> {
  await dic.set(i, "1");
  await li.push(i);
}

/** 001:1676 — `Foo(lk, i)`: print under a process-wide lock. */
export async function greet(lk: LockProxy, i: number): Promise<void> {
  await using _ = await lk.guard(); // Python's `with lk:`
  console.log(`hello world ${i}`);
}

/** 002:376, 002:418, 002:458 — `coding()` and `music()`: a line every 0.1 s. */
async function everyTenth(
  label: string,
  doing: (i: number) => string,
  times: number,
  scale: number,
  who?: { name: string; age: number },
  pids = false,
): Promise<void> {
  for (let i = 1; i < times; i++) {
    const prefix = who ? `${who.name} ${who.age}` : "";
    await sleep(0.1, scale);
    console.log(`${prefix}${doing(i)}`);
  }
  if (pids) {
    console.log(
      `${label}进程的pid${Deno.pid},${Deno.pid},父进程id(ppid):${Deno.ppid}`,
    );
  }
}

/** 002:376, 002:418, 002:458 — `coding(name, age)`. */
export function coding(
  times: number,
  scale: number,
  who?: { name: string; age: number },
  pids = false,
): Promise<void> {
  return everyTenth("p1", (i) => `正在敲第${i}遍代码`, times, scale, who, pids);
}

/** 002:376, 002:418, 002:458 — `music(name, age)`. */
export function music(
  times: number,
  scale: number,
  who?: { name: string; age: number },
  pids = false,
): Promise<void> {
  return everyTenth("p2", (i) => `正在听第${i}遍音乐`, times, scale, who, pids);
}

/** 002:525 — the module-level list each process has its own copy of. */
const myList: number[] = [];

/** 002:525 — `writer_data()`: append 1..5 to this process's own list. */
export function writerData(): void {
  for (let i = 1; i < 6; i++) {
    myList.push(i);
    console.log(`添加数据:${i}`);
  }
}

/** 002:525 — `read_data()`: this process's list is still empty. */
export async function readData(scale: number): Promise<void> {
  await sleep(3, scale);
  console.log(`read_data函数:${pyRepr(myList)}`);
}

/** 002:565 — `work()`: 100 rounds of work, 0.2 s apart. */
export async function work(scale: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    console.log("我努力工作中.....");
    await sleep(0.2, scale);
  }
}

/** 004:20–25 — `task(name)`: run for 3 s. */
export async function task(name: string, scale: number): Promise<void> {
  console.log(`${name} is running`);
  await sleep(3, scale);
  console.log(`${name} is done`);
}

/** 004:26 — `foo()`. */
export async function foo(scale: number): Promise<void> {
  console.log(123);
  await sleep(1, scale);
  console.log("end123");
}

/** 004:26 — `bar()`. */
export async function bar(scale: number): Promise<void> {
  console.log(456);
  await sleep(3, scale);
  console.log("end456");
}

/** 004:28 — `task(mutex)`: look at the tickets, then buy one under the lock. */
export async function buyTicket(
  db: string,
  mutex: LockProxy,
  scale: number,
): Promise<void> {
  // search()
  await sleep(randint(1, 3), scale);
  let dic = JSON.parse(await Deno.readTextFile(db));
  console.log(`${Deno.pid}查看剩余票数为${dic.count}`);
  await mutex.acquire();
  try {
    // get()
    dic = JSON.parse(await Deno.readTextFile(db));
    if (dic.count > 0) {
      dic.count -= 1;
      await sleep(randint(1, 3), scale);
      await Deno.writeTextFile(db, JSON.stringify(dic));
      console.log(`${Deno.pid}购票成功`);
    }
  } finally {
    await mutex.release();
  }
}

/** 004:30, 004:33 — `producer(name, food, q)`: ten items. */
export async function cook(
  name: string,
  food: string,
  q: QueueProxy<string>,
  scale: number,
): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const res = `${food}${i}`;
    await sleep(randint(1, 3), scale);
    await q.put(res);
    console.log(`厨师[${name}]生产了[${res}]`);
  }
}

/** 004:30, 004:33 — `consumer(name, q)`: eats forever (`task_done()` when joinable). */
export async function eat(
  name: string,
  q: QueueProxy<string>,
  scale: number,
  joinable: boolean,
): Promise<void> {
  while (true) {
    const res = await q.get();
    await sleep(randint(1, 3), scale);
    console.log(`吃货[${name}]吃了[${res}]`);
    if (joinable) await q.taskDone();
  }
}

/** 004:50 — `work()`: a CPU-bound loop (`res *= i`, 10^8 times by default). */
export function crunch(n: number): number {
  let res = 0;
  for (let i = 0; i < n; i++) res *= i;
  return res;
}

/** 004:52 — `work()`: an I/O-bound wait of 2 s. */
export async function waitIo(scale: number): Promise<void> {
  await sleep(2, scale);
  console.log("==>");
}
