// RedisManager's shared objects against a real redis-server (in-process
// handles; the multi-process lock tests are in lock_process_test.ts).
import assert from "node:assert/strict";
import { BrokenBarrierError } from "../../concurrency/mod.ts";
import { createClient } from "npm:@redis/client@6.3.1";
import { LeaseLost, RedisManager } from "../../cluster/mod.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

redisTest(
  "dict: the Manager's methods, shared by name, initial contents only when new",
  async (server) => {
    await using a = await RedisManager.connect(server.url, { prefix: "t" });
    await using b = await RedisManager.connect(server.url, { prefix: "t" });
    const d1 = await a.dict<string | number, unknown>({ x: 1 }, { name: "d" });
    const d2 = await b.dict<string | number, unknown>({ x: 99, y: 2 }, {
      name: "d",
    });
    assert.equal(await d2.get("x"), 1);
    assert.equal(await d2.has("y"), false);
    await d1.set(1, "number key");
    await d1.set("1", "string key");
    assert.equal(await d2.get(1), "number key");
    assert.equal(await d2.get("1"), "string key");
    assert.equal(await d2.size(), 3);
    await d2.update([["k", new Date(5)]]);
    assert.deepEqual(await d1.get("k"), new Date(5));
    assert.equal(await d1.setdefault("x", 7), 1);
    assert.equal(await d1.setdefault("n", 7), 7);
    assert.equal(await d1.increment("n", 3), 10);
    assert.equal(await d1.increment("fresh"), 1);
    assert.equal(await d1.pop("n"), 10);
    assert.equal(await d1.pop("n", "gone"), "gone");
    assert.equal(await d1.delete("fresh"), true);
    assert.deepEqual((await d2.keys()).map(String).sort(), [
      "1",
      "1",
      "k",
      "x",
    ]);
    assert.equal((await d2.entries()).length, 4);
    assert.equal((await d2.values()).length, 4);
    await d1.clear();
    assert.equal(await d2.size(), 0);
    // another prefix is another namespace
    await using c = await RedisManager.connect(server.url, { prefix: "other" });
    assert.equal(await (await c.dict(undefined, { name: "d" })).size(), 0);
  },
);

redisTest(
  "dict.increment: 4 handles × 100 concurrent increments = exactly 400",
  async (server) => {
    const managers = await Promise.all(
      [0, 1, 2, 3].map(() => RedisManager.connect(server.url)),
    );
    try {
      const dicts = await Promise.all(
        managers.map((m) => m.dict<string, number>(undefined, { name: "c" })),
      );
      await Promise.all(
        dicts.map((d) =>
          Promise.all(Array.from({ length: 100 }, () => d.increment("n")))
        ),
      );
      assert.equal(await dicts[0].get("n"), 400);
    } finally {
      for (const m of managers) {
        await m.close();
      }
    }
  },
);

redisTest(
  "list: push/pop/insert/at/set/slice/indexOf like the Manager's list",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const l = await m.list<number>([1, 2, 3], { name: "l" });
    assert.equal(await l.push(4, 5), 5);
    assert.equal(await l.pop(), 5);
    assert.equal(await l.pop(0), 1);
    assert.equal(await l.insert(1, 9), 4);
    assert.deepEqual(await l.toArray(), [2, 9, 3, 4]);
    assert.equal(await l.at(-1), 4);
    assert.equal(await l.at(10), undefined);
    await l.set(0, 7);
    assert.deepEqual(await l.slice(1, 3), [9, 3]);
    assert.deepEqual(await l.slice(2), [3, 4]);
    assert.equal(await l.indexOf(3), 2);
    assert.equal(await l.indexOf(42), -1);
    await assert.rejects(l.set(10, 1), RangeError);
    await assert.rejects(l.pop(10), RangeError);
    assert.equal(await l.extend([1, 1]), 6);
    assert.equal(await l.length(), 6);
  },
);

redisTest(
  "Namespace and Value: attributes, increment, compareAndSet, getAndSet",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const ns = await m.Namespace<{ a: number; b: string }>({ a: 1 }, {
      name: "ns",
    });
    await ns.update({ b: "x" });
    assert.deepEqual(await ns.toObject(), { a: 1, b: "x" });
    assert.equal(await ns.delete("a"), true);
    assert.equal(await ns.has("a"), false);
    assert.equal(await ns.get("a"), undefined);
    const v = await m.Value<number>(5, { name: "v" });
    const again = await m.Value<number>(100, { name: "v" });
    assert.equal(await again.get(), 5);
    assert.equal(await v.increment(2.5), 7.5);
    assert.equal(await v.compareAndSet(7, 0), false);
    assert.equal(await v.compareAndSet(7.5, 1), true);
    assert.equal(await v.getAndSet(2), 1);
    assert.equal(await again.get(), 2);
  },
);

redisTest(
  "Lock: handles exclude each other; tokens increase; release of a lock not held throws",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const a = await m.Lock({ name: "L", lease: 5000 });
    const b = await m.Lock({ name: "L", lease: 5000 });
    assert.equal(await a.acquire(), true);
    const t1 = a.token!;
    assert.equal(await b.acquire({ blocking: false }), false);
    assert.equal(await b.acquire({ timeout: 30 }), false);
    const waiting = b.acquire({ timeout: 10_000 });
    const state = probe(waiting);
    await flushMicrotasks();
    assert.equal(state.settled, false);
    await a.release();
    assert.equal(
      await withTimeout(waiting, 5000, "acquire after release"),
      true,
    );
    assert.ok(b.token! > t1);
    await assert.rejects(a.release(), TypeError);
    await b.release();
    assert.equal(await a.locked(), false);
    const reason = new Error("abort");
    await a.acquire();
    await assert.rejects(
      b.acquire({ signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    await a.release();
  },
);

redisTest(
  "Lock: a holder whose lease lapsed gets LeaseLost, and its stale fencing token is refused",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const stale = await m.Lock({ name: "F", lease: 100 });
    const fresh = await m.Lock({ name: "F", lease: 5000 });
    const resource = await m.Value<string>("", { name: "resource" });
    assert.equal(await stale.acquire(), true);
    const staleToken = stale.token!;
    // the holder is cut off (paused, partitioned): its lease lapses in Redis
    // while its renewer cannot reach it. The lapse is simulated with DEL, in
    // one step: a PEXPIRE of 1 ms left a window in which stale's (still
    // running) renewer could extend the lease again, and then keep it for
    // ever (seen under load: fresh timed out)
    const raw = createClient({ url: server.url });
    await raw.connect();
    await raw.sendCommand(["DEL", "weft:lock:{F}"]);
    await raw.close();
    assert.equal(await fresh.acquire({ timeout: 5000 }), true);
    assert.ok(fresh.token! > staleToken);
    await resource.set("fresh work", { fence: fresh.token });
    await assert.rejects(
      resource.set("stale work", { fence: staleToken }),
      LeaseLost,
    );
    assert.equal(await resource.get(), "fresh work");
    await assert.rejects(stale.release(), LeaseLost);
    assert.equal(await fresh.locked(), true); // the stale release did not free it
    await fresh.release();
  },
);

redisTest(
  "Lock: the lease is renewed while held (held 5 leases long, nobody else gets in)",
  async (server) => {
    // renewed every lease/3: a 400 ms lease survives a timer delayed by
    // ~250 ms on a loaded machine (a 60 ms one did not)
    await using m = await RedisManager.connect(server.url);
    const a = await m.Lock({ name: "R", lease: 400 });
    const b = await m.Lock({ name: "R", lease: 400 });
    await a.acquire();
    assert.equal(await b.acquire({ timeout: 2000 }), false);
    await a.release();
    assert.equal(await b.acquire({ timeout: 1000 }), true);
    await b.release();
  },
);

redisTest(
  "RLock: re-entrant for its handle, exclusive for others",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const a = await m.RLock({ name: "RL" });
    const b = await m.RLock({ name: "RL" });
    assert.equal(await a.acquire(), true);
    const token = a.token;
    assert.equal(await a.acquire(), true);
    assert.equal(a.token, token);
    assert.equal(await b.acquire({ blocking: false }), false);
    await a.release();
    assert.equal(await b.acquire({ blocking: false }), false);
    await a.release();
    assert.equal(await b.acquire({ blocking: false }), true);
    await b.release();
  },
);

redisTest(
  "Semaphore: at most value holders across handles; a waiter gets the released slot",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const s1 = await m.Semaphore(2, { name: "S", lease: 5000 });
    const s2 = await m.Semaphore(99, { name: "S", lease: 5000 }); // first creator fixed 2
    assert.equal(await s1.acquire(), true);
    assert.equal(await s2.acquire(), true);
    assert.equal(await s2.value(), 0);
    const waiting = s2.acquire({ timeout: 10_000 });
    await flushMicrotasks();
    await s1.release();
    assert.equal(await withTimeout(waiting, 5000, "semaphore waiter"), true);
    await s2.release();
    await s2.release();
    assert.equal(await s1.value(), 2);
    await assert.rejects(s1.release(), TypeError);
  },
);

redisTest(
  "Event: set wakes waiters on other handles; wait times out with false",
  async (server) => {
    await using a = await RedisManager.connect(server.url);
    await using b = await RedisManager.connect(server.url);
    const e1 = await a.Event({ name: "E" });
    const e2 = await b.Event({ name: "E" });
    assert.equal(await e2.wait({ timeout: 20 }), false);
    const waiters = [
      e2.wait({ timeout: 10_000 }),
      e2.wait({ timeout: 10_000 }),
    ];
    await e1.set();
    assert.deepEqual(await withTimeout(Promise.all(waiters), 5000, "event"), [
      true,
      true,
    ]);
    await e1.clear();
    assert.equal(await e2.isSet(), false);
  },
);

redisTest(
  "Barrier: indices, reuse for a second round, abort breaks waiters",
  async (server) => {
    await using m = await RedisManager.connect(server.url);
    const parts = await Promise.all(
      [0, 1, 2].map(() => m.Barrier(3, { name: "B" })),
    );
    for (let round = 0; round < 2; round++) {
      const got = await withTimeout(
        Promise.all(parts.map((p) => p.wait())),
        5000,
        "barrier",
      );
      assert.deepEqual([...got].sort(), [0, 1, 2]);
    }
    const waiting = parts[0].wait();
    waiting.catch(() => {});
    await parts[1].abort();
    await assert.rejects(
      withTimeout(waiting, 5000, "broken"),
      BrokenBarrierError,
    );
    assert.equal(await parts[2].broken(), true);
    await assert.rejects(parts[2].wait(), BrokenBarrierError);
    await parts[2].reset();
    assert.equal(await parts[2].broken(), false);
    // a wait that times out breaks the barrier, like Python's
    await assert.rejects(parts[0].wait({ timeout: 30 }), BrokenBarrierError);
    assert.equal(await parts[1].broken(), true);
  },
);

redisTest(
  "closing a manager releases the locks and semaphore slots its handles hold",
  async (server) => {
    await using m1 = await RedisManager.connect(server.url);
    const m2 = await RedisManager.connect(server.url);
    const held = await m2.Lock({ name: "C", lease: 60_000 });
    const slot = await m2.Semaphore(1, { name: "CS", lease: 60_000 });
    assert.equal(await held.acquire(), true);
    assert.equal(await slot.acquire(), true);
    await m2.close();
    const lock = await m1.Lock({ name: "C" });
    const sem = await m1.Semaphore(1, { name: "CS" });
    assert.equal(await lock.acquire({ blocking: false }), true);
    assert.equal(await sem.acquire({ blocking: false }), true);
    await lock.release();
    await sem.release();
  },
);
