// The manager's core, proven in one process: a ManagerServer and clients
// joined by in-memory channels (no sockets, no processes).
import assert from "node:assert/strict";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { ManagerClient } from "../../ipc/_manager_client.ts";
import type { Link } from "../../ipc/_manager_net.ts";
import {
  decodeReply,
  decodeRequest,
  encodeBody,
} from "../../ipc/_manager_codec.ts";
import { ROOT_ID } from "../../ipc/_manager_protocol.ts";
import { makeProxy } from "../../ipc/_manager_revive.ts";
import { ManagerServer } from "../../ipc/_manager_server.ts";
import { memoryChannelPair } from "../../ipc/_manager_transport.ts";
import { RemoteError } from "../../ipc/manager_error.ts";
import { EOFError } from "../../ipc/_wire.ts";
import { QueueEmpty, QueueFull } from "../../concurrency/queue_errors.ts";
import { BrokenBarrierError } from "../../concurrency/barrier.ts";
import type {
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from "../../ipc/manager_proxy.ts";

interface Peer {
  client: ManagerClient;
  link: Link;
  create<P>(typeid: string, ...args: unknown[]): Promise<P>;
  close(): Promise<void>;
}

function connect(server: ManagerServer, maxFrame?: number): Peer {
  const [mine, theirs] = memoryChannelPair(maxFrame);
  const served = server.serve(theirs);
  const client = new ManagerClient(mine);
  const link: Link = {
    call: (o, m, a, opts) => client.call(o, m, a, opts),
    address: undefined,
    authkey: undefined,
  };
  return {
    client,
    link,
    async create<P>(typeid: string, ...args: unknown[]): Promise<P> {
      const { id } = await client.call(ROOT_ID, "create", [typeid, args]) as {
        id: number;
      };
      return makeProxy(link, id, typeid) as P;
    },
    async close() {
      client.close();
      await client.finished;
      await served;
    },
  };
}

async function withServer(
  body: (server: ManagerServer, a: Peer, b: Peer) => Promise<void>,
): Promise<void> {
  const server = new ManagerServer();
  const a = connect(server);
  const b = connect(server);
  try {
    await withTimeout(body(server, a, b), 30_000, "manager core test");
  } finally {
    await a.close();
    await b.close();
    server.close();
  }
}

async function rejectsRemote(
  promise: Promise<unknown>,
  remoteName: string,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RemoteError, `not a RemoteError: ${error}`);
    assert.equal(error.remoteName, remoteName);
    if (message) assert.match(error.message, message);
    return true;
  });
}

// --- protocol ---------------------------------------------------------------

Deno.test("protocol: encodeBody/decodeRequest keep Map, Set, Date, bigint, undefined, bytes and $w keys", () => {
  const args = [
    new Map<unknown, unknown>([[1, "a"], ["1", "b"]]),
    new Set([1, 2]),
    new Date(5),
    10n,
    undefined,
    new Uint8Array([0, 255]),
    { $w: "not a tag", nested: [NaN, -0, Infinity] },
  ];
  const request = decodeRequest(
    encodeBody({ t: "call", o: 3, m: "x", a: args }),
  );
  assert.deepEqual(request, { t: "call", o: 3, m: "x", a: args });
});

Deno.test("protocol: encodeBody throws TypeError for functions and class instances", () => {
  assert.throws(
    () => encodeBody({ t: "ok", v: () => 1 }),
    TypeError,
  );
  assert.throws(
    () => encodeBody({ t: "ok", v: new (class Foo {})() }),
    /Foo is not a plain value/,
  );
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => encodeBody({ t: "ok", v: loop }), /circular/);
});

Deno.test("protocol: the binary tags keep every number, string, array and plain object exactly", () => {
  const values = [
    0,
    -0,
    127,
    -128,
    128,
    -129,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53,
    0.5,
    NaN,
    Infinity,
    -Infinity,
    "",
    "key",
    "é ünïcode ✓ 𝄞",
    "x".repeat(255),
    "x".repeat(256),
    "é".repeat(300),
    true,
    false,
    null,
    undefined,
    [],
    [1, [2, [3, "four"]], { five: 5 }],
    { a: 1, "": 2, "$w": 3, nested: { deeper: [null, undefined, -0] } },
    new Uint8Array([1, 2, 3]),
  ];
  for (const value of values) {
    assert.deepEqual(
      decodeReply(encodeBody({ t: "ok", v: value })),
      { t: "ok", v: value },
    );
  }
  // A "__proto__" key stays an own property; it never sets a prototype.
  const tricky = JSON.parse('{"__proto__": {"polluted": true}}');
  const back = decodeReply(encodeBody({ t: "ok", v: tricky })) as {
    v: Record<string, unknown>;
  };
  assert.equal(Object.getPrototypeOf(back.v), Object.prototype);
  assert.deepEqual(Object.keys(back.v), ["__proto__"]);
  assert.equal((back.v as { polluted?: boolean }).polluted, undefined);
  // Nesting past the binary depth falls back to tagged JSON, exactly.
  let deep: unknown = [new Map([[1, 2]])];
  for (let i = 0; i < 100; i++) deep = { i, next: deep };
  assert.deepEqual(
    decodeReply(encodeBody({ t: "ok", v: deep })),
    { t: "ok", v: deep },
  );
  // Bytes decoded from a frame are a copy, not a view of it.
  const body = encodeBody({ t: "ok", v: new Uint8Array([9]) });
  const bytes = (decodeReply(body) as { v: Uint8Array }).v;
  body.fill(0);
  assert.deepEqual(bytes, new Uint8Array([9]));
});

Deno.test("protocol: truncated, trailing, unknown and too deep bodies are refused with TypeError", () => {
  const good = encodeBody({ t: "call", o: 7, m: "get", a: ["key", 1.5] });
  for (let n = 0; n < good.length; n++) {
    assert.throws(() => decodeRequest(good.subarray(0, n)), TypeError);
  }
  assert.throws(
    () => decodeRequest(new Uint8Array([...good, 0])),
    /trailing bytes/,
  );
  assert.throws(() => decodeRequest(new Uint8Array([3, 0])), TypeError);
  assert.throws(
    () => decodeReply(new Uint8Array([3, 99])),
    /unknown value tag 99/,
  );
  // a string of invalid UTF-8
  assert.throws(
    () =>
      decodeReply(new Uint8Array([3, 8, 0, 0, 0, 40, ...Array(40).fill(0xff)])),
    /invalid UTF-8/,
  );
  // an array claiming more items than the body holds
  assert.throws(
    () => decodeReply(new Uint8Array([3, 9, 0xff, 0xff, 0xff, 0xff])),
    /truncated/,
  );
  // 10 000 nested arrays: refused, not a stack overflow
  const deep = new Uint8Array(1 + 5 * 10_000 + 1);
  deep[0] = 3;
  for (let i = 0; i < 10_000; i++) deep.set([9, 0, 0, 0, 1], 1 + 5 * i);
  deep[deep.length - 1] = 1;
  assert.throws(() => decodeReply(deep), /nested too deep/);
});

Deno.test("memory channel: frames queued before, during and after a drain arrive whole and in order; oversize ones are reported; close ends it", async () => {
  const [a, b] = memoryChannelPair(4096);
  const frame = (i: number) => new Uint8Array((i * 37) % 3000).fill(i & 0xff);
  // queued before anyone drains (the arena grows past its first 1 KiB)
  for (let i = 0; i < 50; i++) a.send(i, frame(i));
  a.send(50, new Uint8Array(5000)); // over b's 4096-byte cap
  const seen: [number, number, boolean][] = [];
  const drained = b.drain((id, body, oversize) => {
    if (body === undefined) {
      seen.push([id, oversize, false]);
      return;
    }
    const whole = body.length === frame(id).length &&
      body.every((byte) => byte === (id & 0xff));
    seen.push([id, body.length, whole]);
    // a send from inside the callback (as a handler calling back in)
    if (id === 10) a.send(1000, frame(7));
  });
  await flushMicrotasks();
  for (let i = 51; i < 60; i++) a.send(i, frame(i));
  await flushMicrotasks();
  a.close();
  await withTimeout(drained, 10_000, "drain ends at close");
  const ids = seen.map(([id]) => id);
  assert.deepEqual(ids, [
    ...Array.from({ length: 51 }, (_, i) => i),
    1000,
    ...Array.from({ length: 9 }, (_, i) => 51 + i),
  ]);
  assert.deepEqual(seen.find(([id]) => id === 50), [50, 5004, false]);
  for (const [id, , whole] of seen) {
    if (id !== 50 && id !== 1000) assert.equal(whole, true, `frame ${id}`);
  }
  assert.equal(b.closed, true);
  assert.throws(() => b.send(1, new Uint8Array(1)), TypeError);
});

Deno.test("protocol: decodeReply rejects junk with TypeError", () => {
  assert.throws(() => decodeReply(new Uint8Array([0xff, 0xfe])), TypeError);
  assert.throws(
    () => decodeReply(new TextEncoder().encode('{"t":"what"}')),
    TypeError,
  );
});

// --- dict / list / Namespace / Value ----------------------------------------

Deno.test("dict proxy: get/set/delete/has/keys/values/entries/size/update/setdefault/pop/increment/clear", async () => {
  await withServer(async (_server, a, b) => {
    const dict = await a.create<DictProxy<unknown, unknown>>("dict", { x: 1 });
    const same = makeProxy(b.link, dict.id, "dict") as DictProxy;
    await dict.set(1, "number one");
    await same.set("1", "string one");
    assert.equal(await dict.get(1), "number one");
    assert.equal(await dict.get("1"), "string one");
    assert.equal(await dict.get("missing", "fallback"), "fallback");
    assert.equal(await dict.has("x"), true);
    assert.equal(await dict.delete("x"), true);
    assert.equal(await dict.delete("x"), false);
    await dict.update([[2, new Map([["deep", new Date(7)]])]]);
    assert.deepEqual(await dict.get(2), new Map([["deep", new Date(7)]]));
    assert.equal(await dict.setdefault(3, "first"), "first");
    assert.equal(await dict.setdefault(3, "second"), "first");
    assert.equal(await dict.increment("n"), 1);
    assert.equal(await dict.increment("n", 4), 5);
    assert.deepEqual(await dict.keys(), [1, "1", 2, 3, "n"]);
    assert.equal(await dict.size(), 5);
    assert.equal((await dict.values()).length, 5);
    assert.equal(await dict.pop("n"), 5);
    const seen: unknown[] = [];
    for await (const [key] of dict) seen.push(key);
    assert.deepEqual(seen, [1, "1", 2, 3]);
    await same.clear();
    assert.deepEqual(await dict.entries(), []);
  });
});

Deno.test("dict proxy: object keys and non-numeric increments reject with RemoteError(TypeError)", async () => {
  await withServer(async (_server, a) => {
    const dict = await a.create<DictProxy<unknown, unknown>>("dict");
    await rejectsRemote(
      dict.set({}, 1),
      "TypeError",
      /keys must be primitives/,
    );
    await dict.set("s", "text");
    await rejectsRemote(dict.increment("s"), "TypeError");
  });
});

Deno.test("list proxy: push/extend/pop/insert/at/set/slice/length/toArray/indexOf and iteration", async () => {
  await withServer(async (_server, a) => {
    const list = await a.create<ListProxy<number>>("list", [0, 1, 2]);
    assert.equal(await list.push(3, 4), 5);
    assert.equal(await list.extend([5, 6]), 7);
    assert.equal(await list.pop(), 6);
    assert.equal(await list.pop(0), 0);
    assert.equal(await list.insert(-100, 9), 6);
    assert.equal(await list.at(0), 9);
    assert.equal(await list.at(-1), 5);
    assert.equal(await list.at(99), undefined);
    await list.set(-1, 50);
    assert.deepEqual(await list.slice(1, 3), [1, 2]);
    assert.equal(await list.length(), 6);
    assert.equal(await list.indexOf(50), 5);
    const seen: number[] = [];
    for await (const item of list) seen.push(item);
    assert.deepEqual(seen, [9, 1, 2, 3, 4, 50]);
    assert.deepEqual(await list.toArray(), seen);
    await rejectsRemote(list.set(6, 0), "RangeError", /out of range/);
    await list.clear();
    await rejectsRemote(
      list.pop(),
      "RangeError",
      /Cannot pop from list: it is empty/,
    );
  });
});

Deno.test("Namespace and Value proxies: attributes and atomic read-modify-write", async () => {
  await withServer(async (_server, a) => {
    const ns = await a.create<NamespaceProxy>("Namespace", { x: 1 });
    await ns.set("y", [2]);
    await ns.update({ z: "three" });
    assert.equal(await ns.has("y"), true);
    assert.equal(await ns.delete("x"), true);
    assert.deepEqual(await ns.toObject(), { y: [2], z: "three" });
    const value = await a.create<ValueProxy<number>>("Value", 10);
    assert.equal(await value.increment(), 11);
    assert.equal(await value.increment(-5), 6);
    assert.equal(await value.compareAndSet(5, 0), false);
    assert.equal(await value.compareAndSet(6, 0), true);
    assert.equal(await value.getAndSet(3), 0);
    assert.equal(await value.get(), 3);
    const text = await a.create<ValueProxy<string>>("Value", "a");
    await rejectsRemote(text.increment(), "TypeError");
  });
});

Deno.test("Value.increment() from two clients, 500 calls each, ends exact", async () => {
  await withServer(async (_server, a, b) => {
    const value = await a.create<ValueProxy<number>>("Value", 0);
    const twin = makeProxy(b.link, value.id, "Value") as ValueProxy<number>;
    await Promise.all([
      Promise.all(Array.from({ length: 500 }, () => value.increment())),
      Promise.all(Array.from({ length: 500 }, () => twin.increment())),
    ]);
    assert.equal(await value.get(), 1000);
  });
});

// --- Queue --------------------------------------------------------------------

Deno.test("Queue proxy: a waiting get() does not hold up other clients' calls", async () => {
  await withServer(async (_server, a, b) => {
    const queue = await a.create<QueueProxy<string>>("Queue", { maxsize: 0 });
    const got = queue.get();
    const state = probe(got);
    const dict = await b.create<DictProxy>("dict");
    await dict.set("k", 1);
    assert.equal(await dict.get("k"), 1);
    await flushMicrotasks();
    assert.equal(state.settled, false);
    await (makeProxy(b.link, queue.id, "Queue") as QueueProxy<string>).put(
      "job",
    );
    assert.equal(await got, "job");
  });
});

Deno.test("Queue proxy: get({ timeout }) and getNowait() reject QueueEmpty; maxsize makes put wait", async () => {
  await withServer(async (_server, a) => {
    const queue = await a.create<QueueProxy<number>>("Queue", { maxsize: 1 });
    await assert.rejects(queue.get({ timeout: 20 }), QueueEmpty);
    await assert.rejects(queue.getNowait(), QueueEmpty);
    await queue.put(1);
    assert.equal(await queue.full(), true);
    await assert.rejects(queue.putNowait(2), QueueFull);
    await assert.rejects(queue.put(2, { timeout: 20 }), QueueFull);
    const put = queue.put(3);
    const state = probe(put);
    await flushMicrotasks();
    assert.equal(state.settled, false);
    assert.equal(await queue.get(), 1);
    await put;
    assert.equal(await queue.qsize(), 1);
    assert.equal(await queue.getNowait(), 3);
    assert.equal(await queue.empty(), true);
  });
});

Deno.test("Queue proxy: join() resolves once taskDone() matched every put", async () => {
  await withServer(async (_server, a) => {
    const queue = await a.create<QueueProxy<number>>("Queue", {});
    await queue.put(1);
    await queue.put(2);
    assert.equal(await queue.join({ timeout: 10 }), false);
    const joined = queue.join();
    await queue.get();
    await queue.taskDone();
    await queue.get();
    await queue.taskDone();
    assert.equal(await joined, true);
    await rejectsRemote(queue.taskDone(), "TypeError");
  });
});

Deno.test("Queue proxy: get() aborted while waiting rejects with signal.reason and loses no item", async () => {
  await withServer(async (_server, a) => {
    const queue = await a.create<QueueProxy<number>>("Queue", {});
    const controller = new AbortController();
    const got = queue.get({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(got, /stop/);
    await queue.put(7);
    assert.equal(await queue.get({ timeout: 10_000 }), 7);
    const aborted = AbortSignal.abort(new Error("already"));
    await assert.rejects(queue.get({ signal: aborted }), /already/);
  });
});

// --- locks ------------------------------------------------------------------------

Deno.test("Lock proxy: a second client waits until the holder releases; timeout resolves false", async () => {
  await withServer(async (_server, a, b) => {
    const lock = await a.create<LockProxy>("Lock");
    const other = makeProxy(b.link, lock.id, "Lock") as LockProxy;
    assert.equal(await lock.acquire(), true);
    assert.equal(await other.acquire({ timeout: 20 }), false);
    assert.equal(await other.acquire({ blocking: false }), false);
    const waiting = other.acquire();
    const state = probe(waiting);
    await flushMicrotasks();
    assert.equal(state.settled, false);
    await lock.release();
    assert.equal(await waiting, true);
    assert.equal(await lock.locked(), true);
    await other.release();
    await rejectsRemote(
      lock.release(),
      "TypeError",
      /Cannot release lock: it is not held/,
    );
  });
});

Deno.test("Lock proxy: the server releases a lock when its holder's connection drops", async () => {
  const server = new ManagerServer();
  const a = connect(server);
  const b = connect(server);
  try {
    const lock = await a.create<LockProxy>("Lock");
    const other = makeProxy(b.link, lock.id, "Lock") as LockProxy;
    assert.equal(await lock.acquire(), true);
    const waiting = other.acquire();
    await a.close();
    assert.equal(await withTimeout(waiting, 20_000, "handoff"), true);
    await other.release();
  } finally {
    await a.close();
    await b.close();
    server.close();
  }
});

Deno.test("Lock proxy: acquire() aborted while waiting rejects and the next waiter proceeds", async () => {
  await withServer(async (_server, a, b) => {
    const lock = await a.create<LockProxy>("Lock");
    const other = makeProxy(b.link, lock.id, "Lock") as LockProxy;
    await lock.acquire();
    const controller = new AbortController();
    const aborted = other.acquire({ signal: controller.signal });
    const next = other.acquire({ timeout: 20_000 });
    controller.abort(new Error("gave up"));
    await assert.rejects(aborted, /gave up/);
    await lock.release();
    assert.equal(await next, true);
    await other.release();
    assert.equal(await lock.locked(), false);
  });
});

Deno.test("Lock proxy: an abort racing the grant never leaves the lock held by nobody", async () => {
  await withServer(async (_server, a, b) => {
    const lock = await a.create<LockProxy>("Lock");
    const other = makeProxy(b.link, lock.id, "Lock") as LockProxy;
    for (let round = 0; round < 20; round++) {
      await lock.acquire();
      const controller = new AbortController();
      const waiting = other.acquire({ signal: controller.signal });
      await flushMicrotasks(round % 5);
      const released = lock.release();
      controller.abort(new Error("late"));
      await released;
      await assert.rejects(waiting, /late/);
      // Granted-then-aborted acquires are handed back by the client
      // (polled up to 10 s: a loaded machine may take a while).
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && await lock.locked()) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(await lock.locked(), false, `round ${round}`);
    }
  });
});

Deno.test("RLock proxy: re-entrant per connection; another connection cannot release it", async () => {
  await withServer(async (_server, a, b) => {
    const rlock = await a.create<RLockProxy>("RLock");
    const other = makeProxy(b.link, rlock.id, "RLock") as RLockProxy;
    assert.equal(await rlock.acquire(), true);
    assert.equal(await rlock.acquire(), true);
    await rejectsRemote(
      other.release(),
      "TypeError",
      /not held by this connection/,
    );
    assert.equal(await other.acquire({ timeout: 10 }), false);
    await rlock.release();
    assert.equal(await rlock.locked(), true);
    await rlock.release();
    assert.equal(await other.acquire({ timeout: 10_000 }), true);
    await other.release();
  });
});

Deno.test("Semaphore proxy: permits count, dropped connections give theirs back, bounded over-release rejects", async () => {
  const server = new ManagerServer();
  const a = connect(server);
  const b = connect(server);
  try {
    const sem = await a.create<SemaphoreProxy>("Semaphore", 2, false);
    const other = makeProxy(b.link, sem.id, "Semaphore") as SemaphoreProxy;
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.value(), 0);
    const waiting = other.acquire();
    await a.close();
    assert.equal(await withTimeout(waiting, 20_000, "permit"), true);
    assert.equal(await other.value(), 1);
    const bounded = makeProxy(
      b.link,
      (await b.client.call(ROOT_ID, "create", ["Semaphore", [1, true]]) as {
        id: number;
      }).id,
      "Semaphore",
    ) as SemaphoreProxy;
    await rejectsRemote(
      bounded.release(),
      "TypeError",
      /exceed its initial value 1/,
    );
  } finally {
    await a.close();
    await b.close();
    server.close();
  }
});

Deno.test("Event proxy: wait() resolves on set(), false on timeout", async () => {
  await withServer(async (_server, a, b) => {
    const event = await a.create<EventProxy>("Event");
    const other = makeProxy(b.link, event.id, "Event") as EventProxy;
    assert.equal(await event.wait({ timeout: 10 }), false);
    const waiting = other.wait();
    await event.set();
    assert.equal(await waiting, true);
    assert.equal(await other.isSet(), true);
    await event.clear();
    assert.equal(await event.isSet(), false);
  });
});

Deno.test("Condition proxy: wait() releases the lock, notify() wakes it holding the lock again", async () => {
  await withServer(async (_server, a, b) => {
    const cond = await a.create<ConditionProxy>("Condition");
    const other = makeProxy(b.link, cond.id, "Condition") as ConditionProxy;
    await rejectsRemote(cond.wait(), "TypeError", /lock is not held/);
    await rejectsRemote(cond.notify(), "TypeError", /lock is not held/);
    await cond.acquire();
    const waiting = cond.wait({ timeout: 20_000 });
    // The waiter gave the lock up, so another connection can take it.
    assert.equal(await other.acquire({ timeout: 10_000 }), true);
    const state = probe(waiting);
    assert.equal(await other.notify(), 1);
    await flushMicrotasks();
    assert.equal(state.settled, false); // it needs the lock back first
    await other.release();
    assert.equal(await waiting, true);
    assert.equal(await other.acquire({ timeout: 0 }), false);
    assert.equal(await cond.wait({ timeout: 10 }), false);
    assert.equal(await cond.notifyAll(), 0);
    await cond.release();
  });
});

Deno.test("Condition proxy: over an existing Lock, given by its proxy id", async () => {
  await withServer(async (_server, a) => {
    const lock = await a.create<LockProxy>("Lock");
    const cond = await a.create<ConditionProxy>("Condition", lock.id);
    await cond.acquire();
    assert.equal(await lock.locked(), true);
    await cond.release();
    assert.equal(await lock.locked(), false);
    await rejectsRemote(
      a.client.call(ROOT_ID, "create", ["Condition", [999]]),
      "TypeError",
      /does not exist/,
    );
  });
});

Deno.test("Barrier proxy: the last arrival releases all; a timeout breaks it for everyone", async () => {
  await withServer(async (_server, a, b) => {
    const barrier = await a.create<BarrierProxy>("Barrier", 3);
    const other = makeProxy(b.link, barrier.id, "Barrier") as BarrierProxy;
    const indexes = await Promise.all([
      barrier.wait(),
      other.wait(),
      barrier.wait(),
    ]);
    assert.deepEqual(indexes.sort(), [0, 1, 2]);
    assert.equal(await barrier.parties(), 3);
    const first = other.wait();
    await assert.rejects(barrier.wait({ timeout: 20 }), BrokenBarrierError);
    await assert.rejects(first, BrokenBarrierError);
    assert.equal(await barrier.broken(), true);
    await assert.rejects(other.wait(), BrokenBarrierError);
    await barrier.reset();
    assert.equal(await barrier.broken(), false);
    assert.equal(await barrier.nWaiting(), 0);
  });
});

// --- bad requests -------------------------------------------------------------------

Deno.test("server: unknown object id, unknown method and prototype names get error replies; serving goes on", async () => {
  await withServer(async (_server, a) => {
    await rejectsRemote(
      a.client.call(999, "get", []),
      "TypeError",
      /object 999 does not exist/,
    );
    const dict = await a.create<DictProxy>("dict");
    for (
      const method of [
        "nope",
        "constructor",
        "__proto__",
        "toString",
        "hasOwnProperty",
      ]
    ) {
      await rejectsRemote(
        a.client.call(dict.id, method, []),
        "TypeError",
        /has no such method/,
      );
    }
    await rejectsRemote(a.client.call(ROOT_ID, "eval", []), "TypeError");
    await rejectsRemote(
      a.client.call(ROOT_ID, "create", ["NoSuchType", []]),
      "TypeError",
      /no such type/,
    );
    await dict.set("still", "serving");
    assert.equal(await dict.get("still"), "serving");
  });
});

Deno.test("server: a malformed frame gets an error reply under its id; the connection keeps serving", async () => {
  const server = new ManagerServer();
  const [mine, theirs] = memoryChannelPair();
  const served = server.serve(theirs);
  try {
    await mine.send(41, new TextEncoder().encode("{not json"));
    const frame = await withTimeout(mine.recv(), 10_000, "reply");
    assert.equal(frame?.id, 41);
    const reply = decodeReply(frame!.body!);
    assert.equal(reply.t, "err");
    await mine.send(
      42,
      encodeBody({ t: "call", o: ROOT_ID, m: "ping", a: [] }),
    );
    const pong = await withTimeout(mine.recv(), 10_000, "pong");
    assert.deepEqual(decodeReply(pong!.body!), { t: "ok", v: "pong" });
  } finally {
    mine.close();
    await served;
    server.close();
  }
});

Deno.test("server: an oversize request gets a RangeError reply; the next call works", async () => {
  const server = new ManagerServer({ maxFrame: 1024 });
  const peer = connect(server, server.maxFrame);
  try {
    const list = await peer.create<ListProxy<string>>("list");
    await rejectsRemote(
      list.push("x".repeat(4096)),
      "RangeError",
      /exceeds the 1024-byte cap/,
    );
    assert.equal(await list.push("small"), 1);
  } finally {
    await peer.close();
    server.close();
  }
});

Deno.test("client: when the connection ends, pending and later calls reject promptly", async () => {
  const server = new ManagerServer();
  const peer = connect(server);
  try {
    const queue = await peer.create<QueueProxy>("Queue", {});
    const pending = queue.get();
    server.close();
    await assert.rejects(withTimeout(pending, 10_000, "pending"), EOFError);
    await assert.rejects(queue.qsize(), /connection to the manager was lost/);
  } finally {
    await peer.close();
  }
});

Deno.test("server: destroy() drops the object; waiting calls on it reject", async () => {
  await withServer(async (server, a) => {
    const queue = await a.create<QueueProxy>("Queue", {});
    const waiting = queue.get();
    assert.equal(await queue.destroy(), true);
    await rejectsRemote(waiting, "TypeError", /was released/);
    await rejectsRemote(queue.qsize(), "TypeError", /does not exist/);
    assert.equal(await queue.destroy(), false);
    assert.equal(server.objectCount, 0);
  });
});

Deno.test("server: create with a name finds the same object; another type under that name rejects", async () => {
  await withServer(async (_server, a, b) => {
    const first = await a.client.call(ROOT_ID, "create", [
      "dict",
      [{ a: 1 }],
      "shared",
    ]) as { id: number };
    const again = await b.client.call(ROOT_ID, "create", [
      "dict",
      [{ b: 2 }],
      "shared",
    ]) as { id: number };
    assert.equal(again.id, first.id);
    await rejectsRemote(
      b.client.call(ROOT_ID, "create", ["list", [], "shared"]),
      "TypeError",
      /holds a dict/,
    );
  });
});

// --- register ------------------------------------------------------------------------

Deno.test("register(): a user class from a module is constructed and its public methods proxied", async () => {
  const source = `export class Counter {
    constructor(start) { this.n = start; }
    add(k) { return this.n += k; }
    async later() { return this.n; }
    _secret() { return "no"; }
  }`;
  const module = "data:text/javascript," + encodeURIComponent(source);
  await withServer(async (_server, a) => {
    await a.client.call(ROOT_ID, "register", ["Counter", module, "Counter"]);
    const counter = await a.create<
      {
        add(k: number): Promise<number>;
        later(): Promise<number>;
        _secret(): Promise<string>;
      }
    >("Counter", 10);
    assert.equal(await counter.add(5), 15);
    assert.equal(await counter.later(), 15);
    await rejectsRemote(counter._secret(), "TypeError", /no such method/);
    await rejectsRemote(
      a.client.call(ROOT_ID, "register", ["dict", module, "Counter"]),
      "TypeError",
      /built-in/,
    );
    // The module kernel's one missing-export message, as for Thread/Pool.
    await rejectsRemote(
      a.client.call(ROOT_ID, "register", ["Other", module, "Missing"]),
      "TypeError",
      /has no exported function "Missing"/,
    );
    const arrow = "data:text/javascript," +
      encodeURIComponent("export const notAClass = () => 1;");
    await rejectsRemote(
      a.client.call(ROOT_ID, "register", ["Arrow", arrow, "notAClass"]),
      "TypeError",
      /is not a class/,
    );
  });
});
