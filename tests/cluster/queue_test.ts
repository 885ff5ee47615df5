// Distributed queues against a real redis-server: order, bounds, waits,
// leases, stale acks, dead letters, join across handles.
import assert from "node:assert/strict";
import { createClient } from "npm:@redis/client@6.3.1";
import {
  JoinableQueue,
  LeaseLost,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  type RedisClientLike,
} from "../../cluster/mod.ts";
import { flushMicrotasks, probe, withTimeout } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

// ---- order ---------------------------------------------------------------

redisTest(
  "Queue / LifoQueue / PriorityQueue hand items out in FIFO, LIFO and priority order",
  async (server) => {
    await using fifo = await Queue.connect<number>(server.url, { name: "o1" });
    await using lifo = await LifoQueue.connect<number>(server.url, {
      name: "o2",
    });
    await using prio = await PriorityQueue.connect<number>(server.url, {
      name: "o3",
    });
    for (const n of [3, 1, 2, 5]) {
      await fifo.put(n);
      await lifo.put(n);
      await prio.put(n);
    }
    const drain = async (q: Queue<number>) => {
      const out = [];
      for (let i = 0; i < 4; i++) out.push(await q.get());
      return out;
    };
    assert.deepEqual(await drain(fifo), [3, 1, 2, 5]);
    assert.deepEqual(await drain(lifo), [5, 2, 1, 3]);
    assert.deepEqual(await drain(prio), [1, 2, 3, 5]);
  },
);

redisTest(
  "PriorityQueue keeps put order among equal priorities and accepts fractional ones",
  async (server) => {
    await using q = await PriorityQueue.connect<[number, string]>(server.url, {
      name: "p",
    });
    await q.put([1.5, "b"]);
    await q.put([1, "a1"]);
    await q.put([-2, "z"]);
    await q.put([1, "a2"]);
    const out = [];
    for (let i = 0; i < 4; i++) out.push((await q.get())[1]);
    assert.deepEqual(out, ["z", "a1", "a2", "b"]);
    await assert.rejects(q.put(["x" as unknown as number, "bad"]), TypeError);
  },
);

redisTest(
  "an expired lease puts the item back at its own place in the order",
  async (server) => {
    await using q = await PriorityQueue.connect<number>(server.url, {
      name: "back",
      visibilityTimeout: 50,
    });
    await q.put(1);
    await q.put(5);
    const t = await q.getTask(); // 1, then never acked
    assert.equal(t.value, 1);
    await q.put(3);
    // after the lease, 1 comes back before 3 and 5
    await new Promise((r) => setTimeout(r, 80));
    const again = await q.getTask();
    assert.equal(again.value, 1);
    assert.equal(again.deliveries, 2);
    await again.ack();
    await assert.rejects(t.ack(), LeaseLost);
  },
);

// ---- values --------------------------------------------------------------

redisTest(
  "items keep their structured-clone types (Date, Map, bigint, bytes, undefined)",
  async (server) => {
    await using q = await Queue.connect<unknown>(server.url, { name: "types" });
    const items = [
      { a: [1, "x", null] },
      new Date(42),
      new Map([[1, { b: 2n }]]),
      new Uint8Array([1, 2, 3]),
      undefined,
      -0,
    ];
    for (const item of items) await q.put(item);
    for (const item of items) assert.deepEqual(await q.get(), item);
  },
);

// ---- bounds and waits ----------------------------------------------------

redisTest(
  "putNowait / getNowait throw QueueFull / QueueEmpty; timeouts throw them too",
  async (server) => {
    await using q = await Queue.connect<number>(server.url, {
      name: "b",
      maxsize: 1,
    });
    await assert.rejects(q.getNowait(), QueueEmpty);
    await assert.rejects(q.get({ timeout: 30 }), QueueEmpty);
    await q.putNowait(1);
    assert.equal(await q.full(), true);
    await assert.rejects(q.putNowait(2), QueueFull);
    await assert.rejects(q.put(2, { timeout: 30 }), QueueFull);
    assert.equal(await q.qsize(), 1);
  },
);

redisTest(
  "maxsize holds across producers: 5 handles racing 50 puts never exceed it",
  async (server) => {
    const maxsize = 4;
    const producers = await Promise.all(
      Array.from(
        { length: 5 },
        () => Queue.connect<number>(server.url, { name: "m", maxsize }),
      ),
    );
    await using consumer = await Queue.connect<number>(server.url, {
      name: "m",
      maxsize,
    });
    let maxSeen = 0;
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        maxSeen = Math.max(maxSeen, await consumer.qsize());
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const puts = producers.map(async (p, i) => {
      for (let s = 0; s < 10; s++) await p.put(i * 100 + s);
    });
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      got.push(await withTimeout(consumer.get(), 10_000, "get"));
      await consumer.taskDone();
    }
    await Promise.all(puts);
    stop = true;
    await watcher;
    for (const p of producers) await p.close();
    assert.equal(got.length, 50);
    assert.equal(new Set(got).size, 50);
    assert.ok(maxSeen <= maxsize, `qsize reached ${maxSeen}`);
    assert.equal(await consumer.join({ timeout: 1000 }), true);
  },
);

redisTest(
  "a get waiting on one handle is woken by a put on another",
  async (server) => {
    await using a = await Queue.connect<string>(server.url, { name: "w" });
    await using b = await Queue.connect<string>(server.url, { name: "w" });
    const waiting = a.get({ timeout: 10_000 });
    const state = probe(waiting);
    await flushMicrotasks();
    assert.equal(state.settled, false);
    await b.put("hello");
    assert.equal(await withTimeout(waiting, 5000, "woken get"), "hello");
  },
);

redisTest(
  "get and put honour signal: already aborted and aborted while waiting",
  async (server) => {
    await using q = await Queue.connect<number>(server.url, {
      name: "ab",
      maxsize: 1,
    });
    const reason = new Error("stop");
    await assert.rejects(
      q.get({ signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    const ac = new AbortController();
    const waiting = q.get({ signal: ac.signal });
    setTimeout(() => ac.abort(reason), 20);
    await assert.rejects(
      withTimeout(waiting, 5000, "aborted get"),
      (e) => e === reason,
    );
    await q.put(1);
    const ac2 = new AbortController();
    const putting = q.put(2, { signal: ac2.signal });
    setTimeout(() => ac2.abort(reason), 20);
    await assert.rejects(
      withTimeout(putting, 5000, "aborted put"),
      (e) => e === reason,
    );
    // the handle still works afterwards
    assert.equal(await q.get({ timeout: 1000 }), 1);
    await q.taskDone();
  },
);

// ---- leases, acks, dead letters ------------------------------------------

redisTest(
  "taskDone acks the oldest delivery of this handle; too many calls throw RangeError",
  async (server) => {
    await using q = await JoinableQueue.connect<number>(server.url, {
      name: "td",
    });
    await q.put(1);
    await q.put(2);
    await q.get();
    await q.get();
    assert.equal(await q.unfinishedTasks(), 2);
    await q.taskDone();
    assert.equal(await q.unfinishedTasks(), 1);
    await q.taskDone();
    assert.equal(await q.join({ timeout: 100 }), true);
    await assert.rejects(q.taskDone(), RangeError);
  },
);

redisTest(
  "a stale holder's taskDone is refused with LeaseLost after the item was delivered again",
  async (server) => {
    await using zombie = await JoinableQueue.connect<string>(server.url, {
      name: "z",
      visibilityTimeout: 50,
    });
    await using healthy = await JoinableQueue.connect<string>(server.url, {
      name: "z",
      visibilityTimeout: 5000,
    });
    await zombie.put("job");
    assert.equal(await zombie.get(), "job");
    const again = await healthy.getTask({ timeout: 5000 }); // waits for the lease to expire
    assert.equal(again.value, "job");
    assert.equal(again.deliveries, 2);
    await assert.rejects(zombie.taskDone(), LeaseLost);
    assert.equal(await healthy.unfinishedTasks(), 1); // the refused ack changed nothing
    await again.ack();
    assert.equal(await healthy.join({ timeout: 1000 }), true);
  },
);

redisTest(
  "touch() keeps a lease alive past visibilityTimeout; release() gives it back at once",
  async (server) => {
    // a lease long enough that a touch every 150 ms keeps it even when a
    // loaded machine delays a timer by a few hundred ms; held 1.5× that long
    await using q = await Queue.connect<string>(server.url, {
      name: "t",
      visibilityTimeout: 600,
    });
    await using other = await Queue.connect<string>(server.url, {
      name: "t",
      visibilityTimeout: 600,
    });
    await q.put("x");
    const task = await q.getTask();
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      await task.touch();
    }
    await assert.rejects(other.getNowait(), QueueEmpty);
    await task.release();
    const again = await other.getTask({ timeout: 1000 });
    assert.equal(again.deliveries, 2);
    await again.ack();
    await assert.rejects(task.ack(), LeaseLost);
  },
);

redisTest(
  "an item delivered maxDeliveries times goes to the dead letters and join() returns",
  async (server) => {
    // the 2nd delivery must still hold its lease when it is released below,
    // so the lease is not tiny (a loaded machine can stall for 100s of ms)
    await using q = await JoinableQueue.connect<string>(server.url, {
      name: "dl",
      visibilityTimeout: 400,
      maxDeliveries: 2,
    });
    await q.put("poison");
    await q.put("fine");
    const a = await q.getTask();
    assert.equal(a.value, "poison");
    await new Promise((r) => setTimeout(r, 450));
    const b = await q.getTask(); // redelivered (2nd)
    assert.equal(b.value, "poison");
    assert.equal(b.deliveries, 2);
    const fine = await q.getTask();
    assert.equal(fine.value, "fine");
    await fine.ack();
    await b.release(); // 2 deliveries done -> dead
    assert.equal(await q.join({ timeout: 1000 }), true);
    const dead = await q.deadLetters();
    assert.deepEqual(dead.map((d) => [d.value, d.deliveries]), [["poison", 2]]);
  },
);

redisTest(
  "join() waits across handles and resolves false on timeout",
  async (server) => {
    await using a = await JoinableQueue.connect<number>(server.url, {
      name: "j",
    });
    await using b = await JoinableQueue.connect<number>(server.url, {
      name: "j",
    });
    await a.put(1);
    assert.equal(await a.join({ timeout: 20 }), false);
    const joined = a.join({ timeout: 10_000 });
    const state = probe(joined);
    await b.get();
    await flushMicrotasks();
    assert.equal(state.settled, false);
    await b.taskDone();
    assert.equal(await withTimeout(joined, 5000, "join"), true);
  },
);

// ---- connection ----------------------------------------------------------

redisTest(
  "a queue accepts the user's own node-redis client and leaves it open",
  async (server) => {
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      const own: RedisClientLike = client; // a node-redis client fits as is
      const q = await Queue.connect<string>(own, { name: "own" });
      await q.put("a");
      assert.equal(await q.get({ timeout: 1000 }), "a");
      await q.taskDone();
      await q.close();
      assert.equal(client.isOpen, true);
      assert.equal(await client.sendCommand(["PING"]), "PONG");
    } finally {
      await client.close();
    }
  },
);

redisTest("connect validates its options with clear errors", async (server) => {
  await assert.rejects(Queue.connect(server.url, { name: "" }), TypeError);
  await assert.rejects(Queue.connect(server.url, { name: "a{b}" }), TypeError);
  await assert.rejects(
    Queue.connect(server.url, { name: "x", maxsize: -1 }),
    RangeError,
  );
  await assert.rejects(
    Queue.connect("http://127.0.0.1:1", { name: "x" }),
    TypeError,
  );
  // nothing listens there: rejects after connectTimeout instead of hanging
  await assert.rejects(
    withTimeout(
      Queue.connect("redis://127.0.0.1:1", { name: "x", connectTimeout: 300 }),
      10_000,
      "connect to a closed port",
    ),
    /no Redis server answers at 127\.0\.0\.1:1/,
  );
  await assert.rejects(
    Queue.connect(server.url, { name: "x", visibilityTimeout: 0 }),
    RangeError,
  );
});

redisTest(
  "tasks(): an ack inside the loop takes the next item in the same step; leaving the loop gives it back uncounted",
  async (server) => {
    await using q = await Queue.connect<number>(server.url, { name: "it" });
    await using other = await Queue.connect<number>(server.url, { name: "it" });
    for (const n of [1, 2, 3, 4]) await q.put(n);
    const seen: number[] = [];
    for await (const task of q.tasks()) {
      seen.push(task.value);
      assert.equal(task.deliveries, 1);
      await task.ack(); // also leases the next item to this loop
      if (seen.length === 2) {
        assert.equal(await q.qsize(), 1); // 3 is prefetched, 4 waits
        break;
      }
    }
    assert.deepEqual(seen, [1, 2]);
    assert.equal(await q.qsize(), 2); // 3 given back at its place
    const t3 = await other.getTask();
    assert.deepEqual([t3.value, t3.deliveries], [3, 1]);
    await t3.ack();
    const ac = new AbortController();
    const loop = (async () => {
      const got: number[] = [];
      for await (const task of other.tasks({ signal: ac.signal })) {
        got.push(task.value);
        await task.ack();
        if (got.length === 1) setTimeout(() => ac.abort(new Error("done")), 20);
      }
      return got;
    })();
    await assert.rejects(withTimeout(loop, 5000, "tasks loop"), /done/);
    assert.equal(await q.join({ timeout: 1000 }), true);
  },
);
