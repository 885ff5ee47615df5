// Manager across real processes: a server process (Manager.start), client
// processes (ipc's Process) that receive proxies as arguments, a served
// manager reached by address + authkey, and the fault cases (manager
// killed, client killed, wrong key).
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { EOFError } from "../../ipc/_wire.ts";
import { Manager } from "../../ipc/manager.ts";
import { RemoteError } from "../../ipc/manager_error.ts";
import { Pipe } from "../../ipc/pipe.ts";
import { Process } from "../../ipc/process.ts";

const TASKS = new URL("./_tasks/manager_tasks.ts", import.meta.url);

/** Starts one Process per argument list running `fn` and joins them all. */
async function runAll(
  fn: string,
  argLists: unknown[][],
  what: string,
): Promise<Process[]> {
  const processes = argLists.map((args) =>
    new Process({ module: TASKS, fn, args })
  );
  try {
    await withTimeout(
      (async () => {
        await Promise.all(processes.map((p) => p.start()));
        await Promise.all(processes.map((p) => p.join()));
      })(),
      50_000,
      what,
    );
    return processes;
  } finally {
    for (const p of processes) if (p.isAlive()) p.kill();
  }
}

Deno.test("Manager.start(): the tutorial — 10 processes set dict[i] and push i onto a pre-filled list", async () => {
  await using manager = await Manager.start();
  const dict = await manager.dict<number, string>();
  const list = await manager.list<number>([0, 1, 2, 3, 4]);
  const processes = await runAll(
    "tutorial",
    Array.from({ length: 10 }, (_, i) => [dict, list, i]),
    "10 tutorial processes",
  );
  assert.deepEqual(processes.map((p) => p.exitCode), Array(10).fill(0));
  const keys = (await dict.keys()).sort((a, b) => a - b);
  assert.deepEqual(keys, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(await dict.values(), Array(10).fill("1"));
  const items = await list.toArray();
  assert.deepEqual(items.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.deepEqual(
    items.slice(5).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

Deno.test("Manager.start(): 8 processes x 200 increments under a proxied Lock end at 1600, and 8 x 200 atomic increments too", async () => {
  await using manager = await Manager.start();
  const locked = await manager.Value(0);
  const lock = await manager.Lock();
  const atomic = await manager.Value(0);
  const processes = await runAll(
    "lockedIncrements",
    Array.from({ length: 8 }, () => [locked, lock, 200]),
    "8 processes counting under a lock",
  );
  processes.push(
    ...await runAll(
      "atomicIncrements",
      Array.from({ length: 8 }, () => [atomic, 200]),
      "8 processes counting atomically",
    ),
  );
  assert.ok(processes.every((p) => p.exitCode === 0));
  assert.equal(await locked.get(), 1600);
  assert.equal(await atomic.get(), 1600);
  assert.equal(await lock.locked(), false);
});

Deno.test("Manager.start(): ticket grabbing — 10 buyers, 1 ticket, a lock: exactly one succeeds", async () => {
  await using manager = await Manager.start();
  const tickets = await manager.Value(1);
  const lock = await manager.Lock();
  const buyers = await manager.list<number>();
  await runAll(
    "buyTicket",
    Array.from({ length: 10 }, (_, i) => [tickets, lock, buyers, i]),
    "10 buyers",
  );
  assert.equal(await tickets.get(), 0);
  assert.equal((await buyers.toArray()).length, 1);
});

Deno.test("Manager.start(): 3 producer and 3 consumer processes on a bounded proxied Queue lose and duplicate nothing", async () => {
  await using manager = await Manager.start();
  const queue = await manager.Queue<number>({ maxsize: 5 });
  const seen = await manager.list<number>();
  const consumers = Array.from(
    { length: 3 },
    () => new Process({ module: TASKS, fn: "consume", args: [queue, seen] }),
  );
  try {
    await withTimeout(
      Promise.all(consumers.map((p) => p.start())),
      30_000,
      "consumers start",
    );
    await runAll(
      "produce",
      [[queue, 1, 60], [queue, 2, 60], [queue, 3, 60]],
      "3 producers",
    );
    for (let i = 0; i < consumers.length; i++) await queue.put(-1);
    await withTimeout(
      Promise.all(consumers.map((p) => p.join())),
      30_000,
      "consumers finish",
    );
    assert.ok(consumers.every((p) => p.exitCode === 0));
  } finally {
    for (const p of consumers) if (p.isAlive()) p.kill();
  }
  const items = (await seen.toArray()).sort((a, b) => a - b);
  const expected = [1, 2, 3].flatMap((me) =>
    Array.from({ length: 60 }, (_, i) => me * 1000 + i)
  );
  assert.deepEqual(items, expected);
  assert.equal(await queue.qsize(), 0);
});

Deno.test("Manager.serve(): one process serves on 127.0.0.1, two others join with the authkey, a third with a wrong key is refused", async () => {
  const authkey = "tests-" + crypto.randomUUID();
  const [here, there] = Pipe();
  const server = new Process({
    module: TASKS,
    fn: "serveRemote",
    args: [there, authkey],
  });
  try {
    await withTimeout(server.start(), 20_000, "server start");
    const port = await withTimeout(here.recv(), 20_000, "server port");
    const address = { hostname: "127.0.0.1", port: port as number };
    const clients = await runAll("joinRemote", [
      [address, authkey, 1],
      [address, authkey, 2],
      [address, "wrong key", 3],
    ], "three clients");
    assert.deepEqual(clients.map((p) => p.exitCode), [0, 0, 1]);
    assert.equal(clients[2].error?.name, "AuthenticationError");
    await using viewer = await Manager.connect({ address, authkey });
    const members = await viewer.list<number>([], { name: "members" });
    assert.deepEqual((await members.toArray()).sort(), [1, 2]);
    await assert.rejects(
      Manager.connect({ address, authkey: "also wrong" }),
      (error: Error) => error.name === "AuthenticationError",
    );
    here.close();
    await withTimeout(server.join(), 20_000, "server exit");
    assert.equal(server.exitCode, 0);
  } finally {
    here.close();
    there.close();
    if (server.isAlive()) server.kill();
    await server.join().catch(() => {});
  }
});

Deno.test("Manager.start(): killing the manager process rejects pending and later calls within a bounded time", async () => {
  const manager = await Manager.start();
  try {
    const queue = await manager.Queue();
    const lock = await manager.Lock();
    await lock.acquire();
    const pending = [
      queue.get(),
      lock.acquire(),
      queue.get({ timeout: 60_000 }),
    ];
    Deno.kill(manager.pid!, "SIGKILL");
    for (const call of pending) {
      await assert.rejects(
        withTimeout(call, 5_000, "pending call"),
        (error: unknown) =>
          error instanceof EOFError &&
          /connection to the manager was lost/.test(error.message),
      );
    }
    await assert.rejects(queue.qsize(), EOFError);
  } finally {
    await manager.shutdown();
  }
});

Deno.test("Manager.start(): a client process killed while holding a proxied Lock — the manager releases it", async () => {
  await using manager = await Manager.start();
  const lock = await manager.Lock();
  const flags = await manager.dict<string, boolean>();
  const holder = new Process({
    module: TASKS,
    fn: "holdLockForever",
    args: [lock, flags],
  });
  try {
    await withTimeout(holder.start(), 20_000, "holder start");
    for (let i = 0; i < 400 && !await flags.get("held"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await flags.get("held"), true);
    assert.equal(await lock.acquire({ timeout: 0 }), false);
    const waiting = lock.acquire({ timeout: 20_000 });
    holder.kill();
    assert.equal(await withTimeout(waiting, 25_000, "lock handoff"), true);
    await lock.release();
  } finally {
    holder.kill();
    await holder.join().catch(() => {});
  }
});

Deno.test("Manager.start(): remote errors arrive as RemoteError; shutdown() is idempotent and later calls reject", async () => {
  const manager = await Manager.start();
  const list = await manager.list<number>();
  await assert.rejects(
    list.pop(),
    (error: unknown) =>
      error instanceof RemoteError && error.remoteName === "RangeError",
  );
  await manager.shutdown();
  await manager.shutdown();
  assert.equal(manager.closed, true);
  await assert.rejects(list.length(), EOFError);
});

Deno.test("Manager.register(): a class from a file module lives in the manager process; its proxy works here and in child Processes", async () => {
  await using manager = await Manager.start();
  const module = new URL("./_tasks/manager_counter.ts", import.meta.url);
  await manager.register("Counter", module, "Counter");
  await manager.register("Counter", module, "Counter"); // same triple: no-op
  const counter = await manager.create<
    { add(k: number): number; get(): number; _hidden(): string }
  >("Counter", [10]);
  assert.equal(await counter.add(5), 15);
  await assert.rejects(
    counter._hidden(),
    (error: unknown) =>
      error instanceof RemoteError && /no such method/.test(error.message),
  );
  await runAll(
    "addToCounter",
    [[counter, 50], [counter, 50]],
    "2 processes adding",
  );
  assert.equal(await counter.get(), 115);
});
