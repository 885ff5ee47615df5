// Child process of the cluster fault tests: one role per run, chosen by the
// first argument. Prints one line per event on stdout for the parent.
import {
  JoinableQueue,
  RedisManager,
  serveWorkers,
} from "../../cluster/mod.ts";

const [role, url, ...rest] = Deno.args;
const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Item = { p: number; s: number } | number | null;

switch (role) {
  case "consumer": {
    // consumer <url> <queue> <visibilityMs> <taskMs>
    const [name, vis, taskMs] = rest;
    await using q = await JoinableQueue.connect<Item>(url, {
      name,
      visibilityTimeout: Number(vis),
      maxDeliveries: 10,
    });
    await using m = await RedisManager.connect(url);
    const executed = await m.list<string>(undefined, { name: `${name}-runs` });
    say("READY");
    for (;;) {
      const task = await q.getTask();
      if (task.value === null) {
        await task.ack();
        break;
      }
      const v = task.value;
      const label = typeof v === "number" ? String(v) : `${v.p}:${v.s}`;
      say(`START ${label} ${task.deliveries}`);
      if (Number(taskMs) > 0) await sleep(Number(taskMs));
      await executed.push(`${label}:${task.deliveries}`);
      try {
        await task.ack();
        say(`DONE ${label}`);
      } catch (error) {
        say(`LOST ${label} ${(error as Error).name}`);
      }
    }
    say("EXIT");
    break;
  }
  case "producer": {
    // producer <url> <queue> <id> <count>
    const [name, id, count] = rest;
    await using q = await JoinableQueue.connect<Item>(url, {
      name,
      maxsize: 20,
    });
    say("READY");
    for (let s = 0; s < Number(count); s++) await q.put({ p: Number(id), s });
    say("PRODUCED");
    break;
  }
  case "locker": {
    // locker <url> <lock> <n> <lease>
    const [name, n, lease] = rest;
    await using m = await RedisManager.connect(url);
    const lock = await m.Lock({ name, lease: Number(lease) });
    const counter = await m.Value<number>(0, { name: `${name}-counter` });
    say("READY");
    for (let i = 0; i < Number(n); i++) {
      await lock.acquire();
      const v = await counter.get();
      await counter.set(v + 1); // read-modify-write: only the lock makes it safe
      await lock.release();
    }
    say("DONE");
    break;
  }
  case "holder": {
    // holder <url> <lock> <lease>
    const [name, lease] = rest;
    await using m = await RedisManager.connect(url);
    const lock = await m.Lock({ name, lease: Number(lease) });
    await lock.acquire();
    say(`HELD ${lock.token}`);
    await sleep(60_000);
    break;
  }
  case "worker": {
    // worker <url> <pool> <size> <visibilityMs> <maxDeliveries>
    const [name, size, vis, maxd] = rest;
    const stop = new AbortController();
    Deno.addSignalListener("SIGTERM", () => stop.abort());
    say("READY");
    await serveWorkers({
      module: new URL("./_tasks.ts", import.meta.url),
      url,
      name,
      size: Number(size),
      prefetch: 1,
      visibilityTimeout: Number(vis),
      maxDeliveries: Number(maxd),
      signal: stop.signal,
      onEvent: (e) => say(`EV ${e.type} ${e.fn} ${e.task} ${e.deliveries}`),
    });
    say("EXIT");
    Deno.exit(0);
    break;
  }
  default:
    throw new TypeError(`unknown role ${role}`);
}
