// The worker side of examples/lessons/threads.ts: each function is what a
// tutorial thread runs (its `target`, or its `run()` method), executed in a
// weft Thread (a Web Worker). `scale` shortens the tutorial's pauses.
import {
  currentThreadName,
  type Event,
  type Lock,
  type Queue,
  type RLock,
  type Semaphore,
} from "../../concurrency/mod.ts";
import { ctime, py, randint, sleepSync } from "./_python.ts";

/** 001:1078 — `music()`: listen for 3 s. */
export function music(scale: number): void {
  console.log(`begin to listen ${ctime()}`);
  sleepSync(3, scale);
  console.log(`stop to listen ${ctime()}`);
}

/** 001:1078 — `game()`: play for 5 s. */
export function game(scale: number): void {
  console.log(`begin to play game ${ctime()} \r\n`);
  sleepSync(5, scale);
  console.log(`stop to play game ${ctime()} \r\n`);
}

/** 001:1121 — `MyThread.run()`: print the number, sleep 3 s. */
export function runNumber(num: number, scale: number): void {
  console.log(`running on number:${num}`);
  sleepSync(3, scale);
}

/** 001:1212 — `sub()`: read, pause 1 ms, write back minus one, under the lock. */
export function sub(lock: Lock, num: Int32Array, scale: number): void {
  console.log("ok");
  lock.acquireSync();
  const temp = num[0];
  sleepSync(0.001, scale);
  num[0] = temp - 1;
  lock.release();
}

/** 001:1245 — `MyThread.run()`: actionA then actionB, each nesting the RLock. */
export function rlockActions(lock: RLock, scale: number): void {
  const name = currentThreadName();
  const action = (first: string, second: string) => {
    lock.acquireSync();
    console.log(name, `got${first}`, ctime());
    sleepSync(2, scale);
    lock.acquireSync(); // the same thread again: an RLock lets it in
    console.log(name, `got${second}`, ctime());
    sleepSync(1, scale);
    lock.release();
    lock.release();
  };
  action("A", "B");
  action("B", "A");
}

/** 001:1314 — `Boss.run()`: announce overtime, set the event, later set it again. */
export function boss(event: Event, scale: number): void {
  console.log("Boss:今天加班到22:00!\r\n");
  console.log(py(event.isSet())); // False
  event.set();
  sleepSync(6, scale);
  console.log("Boss:可以下班了,明天放假!\r\n");
  console.log(py(event.isSet()));
  event.set();
}

/** 001:1314 — `Worker.run()`: wait, complain, clear, wait again, cheer. */
export function employee(event: Event, scale: number): void {
  event.waitSync(); // once the event is set this is a no-op
  console.log("Worker:唉···命真苦!\r\n");
  sleepSync(1, scale);
  event.clear();
  event.waitSync();
  console.log("Worker:OhYeah!\r\n");
}

/** 001:1357 — `MyThread.run()`: hold one of the Semaphore's 5 slots for 5 s. */
export function useSlot(semaphore: Semaphore, scale: number): void {
  if (semaphore.acquireSync()) {
    console.log(currentThreadName(), "\r");
    sleepSync(5, scale);
    semaphore.release();
  }
}

/**
 * 001:1385 — `Foo()` on the UNSAFE shared list: `li[0]` is the length,
 * `li[1..]` the items, so two threads really share one list and race.
 */
export function unsafeFoo(li: Int32Array, scale: number): void {
  while (li[0] > 0) {
    const last = li[li[0]]; // li[-1]
    try {
      console.log(String(last));
      // li.remove(last): find it, shift the rest down
      const index = li.subarray(1, 1 + li[0]).indexOf(last);
      if (index < 0) throw new Error("list.remove(x): x not in list");
      li.copyWithin(1 + index, 2 + index, 1 + li[0]);
      li[0]--;
      sleepSync(1, scale);
    } catch (error) {
      console.log("错误提示:", last, (error as Error).message);
    }
  }
}

/** 001:1442 — `Producer(name)`: 10 meat buns at random intervals. */
export function producer(q: Queue<number>, name: string, scale: number): void {
  let count = 0;
  while (count < 10) {
    console.log("making..");
    sleepSync(randint(0, 2), scale); // random.randrange(3)
    q.putSync(count);
    console.log(`Producer [${name}] has produced ${count} meat bun。\r`);
    count++;
    console.log("ok\r");
  }
}

/** 001:1442 — `Consumer(name)`: looks 10 times, eats when there is a bun. */
export function consumer(q: Queue<number>, name: string, scale: number): void {
  let count = 0;
  while (count < 10) {
    sleepSync(randint(0, 3), scale); // random.randrange(4)
    if (!q.empty()) {
      const data = q.getSync();
      console.log(`lm Consumer [${name}] has eat ${data} meat bun。\r`);
    } else {
      console.log("---no meat bun anymore----\r");
    }
    count++;
  }
}

/** 000:240 — `MyThread.run()`: print "runnnnnn" every second (`rounds` times). */
export function runForever(rounds: number, scale: number): void {
  for (let i = 0; i < rounds; i++) {
    console.log("runnnnnn");
    sleepSync(1, scale);
  }
}

/** 000:276 — `worker1` / `worker2`: n increments of `g_number` under the lock. */
export function addUnderLock(lock: Lock, gNumber: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    if (lock.acquireSync()) {
      gNumber[0]++;
      lock.release();
    } else {
      console.log("没有成功获取到锁");
    }
  }
}

/** 002:604 — `coding()`: type code 199 times, 0.1 s apart. */
export function coding(times: number, scale: number): void {
  for (let i = 1; i < times; i++) {
    sleepSync(0.1, scale);
    console.log(`正在敲第${i}遍代码`);
  }
}

/** 002:604 — `music()`: listen 199 times, 0.1 s apart. */
export function listen(times: number, scale: number): void {
  for (let i = 1; i < times; i++) {
    sleepSync(0.1, scale);
    console.log(`正在听第${i}遍音乐`);
  }
}

/** 004:43 / 004:44 — `task(name)` and `MyThread.run()`: run 1–3 s. */
export function task(name: string, scale: number): void {
  console.log(`${name} is running`);
  sleepSync(randint(1, 3), scale);
  console.log(`${name} is done`);
}
