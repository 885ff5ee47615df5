// The cluster Pool with serveWorkers in this process (the multi-process
// fault tests are in fault_test.ts).
import assert from "node:assert/strict";
import {
  Pool,
  serveWorkers,
  type ServeWorkersStats,
  type WorkerEvent,
} from "../../cluster/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { redisTest, TASKS } from "./_redis.ts";

const module = new URL(TASKS);

async function withFleet(
  url: string,
  name: string,
  fn: (pool: Pool) => Promise<void>,
  extra: { taskTimeout?: number } = {},
  events: WorkerEvent[] = [],
): Promise<ServeWorkersStats> {
  const stop = new AbortController();
  const served = serveWorkers({
    module,
    url,
    name,
    size: 2,
    signal: stop.signal,
    onEvent: (e) => events.push(e),
  });
  served.catch(() => {});
  const pool = new Pool({ module, cluster: { url, name }, ...extra });
  try {
    await fn(pool);
  } finally {
    pool.close();
    await pool.join();
    stop.abort();
  }
  return await withTimeout(served, 10_000, "serveWorkers stop");
}

redisTest(
  "cluster Pool: apply, map, starmap, imap, imapUnordered, applyAsync callbacks",
  async (server) => {
    const stats = await withFleet(server.url, "all", async (pool) => {
      assert.equal(await pool.apply("square", [7]), 49);
      assert.deepEqual(
        await pool.map("square", [1, 2, 3, 4, 5], { chunksize: 2 }),
        [1, 4, 9, 16, 25],
      );
      assert.deepEqual(await pool.starmap("add", [[1, 2], [3, 4]]), [3, 7]);
      const ordered: number[] = [];
      for await (const v of pool.imap<number>("square", [3, 2, 1])) {
        ordered.push(v);
      }
      assert.deepEqual(ordered, [9, 4, 1]);
      async function* gen() {
        for (let i = 0; i < 5; i++) yield i;
      }
      const unordered: number[] = [];
      for await (const v of pool.imapUnordered<number>("square", gen())) {
        unordered.push(v);
      }
      assert.deepEqual(unordered.sort((a, b) => a - b), [0, 1, 4, 9, 16]);
      const seen: unknown[] = [];
      await pool.applyAsync("square", [4], { callback: (r) => seen.push(r) });
      await pool.applyAsync("fail", ["boom"], {
        errorCallback: (e) => seen.push((e as Error).name),
      })
        .catch(() => {});
      assert.deepEqual(seen, [16, "RangeError"]);
    });
    assert.ok(stats.completed >= 10);
    assert.equal(stats.failed, 1);
  },
);

redisTest(
  "cluster Pool: a task's error comes back with name and message, no stack",
  async (server) => {
    await withFleet(server.url, "err", async (pool) => {
      const error = await pool.apply("fail", ["bad input"]).catch((e: Error) =>
        e
      ) as Error;
      assert.equal(error.name, "RangeError");
      assert.equal(error.message, "bad input");
      assert.ok(!String(error.stack).includes("_tasks.ts"));
      const missing = await pool.apply("nope", []).catch((e: Error) =>
        e
      ) as Error;
      assert.ok(missing instanceof Error);
    });
  },
);

redisTest(
  "cluster Pool: abort rejects at once and the worker's task signal fires; taskTimeout fails a slow task",
  async (server) => {
    const events: WorkerEvent[] = [];
    await withFleet(
      server.url,
      "abort",
      async (pool) => {
        const reason = new Error("user abort");
        const ac = new AbortController();
        const hanging = pool.apply("hang", [], { signal: ac.signal });
        hanging.catch(() => {});
        await withTimeout(
          (async () => {
            while (!events.some((e) => e.type === "start" && e.fn === "hang")) {
              await new Promise((r) => setTimeout(r, 10));
            }
          })(),
          10_000,
          "the hang task to start",
        );
        ac.abort(reason);
        await assert.rejects(
          withTimeout(hanging, 5000, "abort"),
          (e) => e === reason,
        );
        await assert.rejects(
          pool.apply("square", [1], { signal: AbortSignal.abort(reason) }),
          (e) => e === reason,
        );
        // the fleet still works afterwards (the hung task was cancelled)
        assert.equal(
          await withTimeout(pool.apply("square", [3]), 5000, "after abort"),
          9,
        );
      },
      {},
      events,
    );
    // the running task was told: its worker-side signal aborted it
    assert.ok(
      events.some((e) => e.type === "failed" && e.fn === "hang"),
      JSON.stringify(events),
    );
    await withFleet(server.url, "timeout", async (pool) => {
      const error = await pool.apply("slow", [1, 5000]).catch((e: Error) =>
        e
      ) as Error;
      assert.equal(error.name, "TimeoutError");
    }, { taskTimeout: 200 });
  },
);

redisTest(
  "cluster Pool: a closed pool rejects new tasks; bad options throw TypeError",
  async (server) => {
    const pool = new Pool({
      module,
      cluster: { url: server.url, name: "closed" },
    });
    pool.close();
    await assert.rejects(pool.apply("square", [1]), TypeError);
    await pool.join();
    assert.throws(
      () => new Pool({ module, cluster: { url: server.url, name: "" } }),
      TypeError,
    );
    assert.throws(
      () => new Pool({ module, cluster: { url: server.url, name: "a b" } }),
      TypeError,
    );
    await assert.rejects(
      serveWorkers({ module, url: server.url, name: "{x}" }),
      TypeError,
    );
    assert.throws(
      () => new Pool({ module: "", cluster: { url: server.url, name: "x" } }),
      TypeError,
    );
    assert.throws(
      () =>
        new Pool({
          module,
          cluster: { url: server.url, name: "x" },
          taskTimeout: 0,
        }),
      TypeError,
    );
  },
);

redisTest(
  "cluster Pool: a task for another module is refused by the worker with a clear error",
  async (server) => {
    const stop = new AbortController();
    const served = serveWorkers({
      module,
      url: server.url,
      name: "mm",
      size: 1,
      signal: stop.signal,
    });
    await using pool = new Pool({
      module: "./other_tasks.ts",
      cluster: { url: server.url, name: "mm" },
    });
    const error = await pool.apply("square", [2]).catch((e: Error) =>
      e
    ) as Error;
    assert.match(error.message, /is for module "\.\/other_tasks\.ts"/);
    stop.abort();
    await served;
  },
);

redisTest(
  "cluster Pool: a task cancelled while still queued is taken out of the queue and never runs",
  async (server) => {
    const name = "queued";
    await using pool = new Pool({ module, cluster: { url: server.url, name } });
    const ac = new AbortController();
    const doomed = pool.apply("square", [5], { signal: ac.signal });
    doomed.catch(() => {});
    const kept = pool.apply("square", [6]);
    await new Promise((r) => setTimeout(r, 100)); // both puts answered, no worker yet
    ac.abort(new Error("changed my mind"));
    await assert.rejects(doomed, /changed my mind/);
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    const served = serveWorkers({
      module,
      url: server.url,
      name,
      size: 1,
      signal: stop.signal,
      onEvent: (e) => events.push(e),
    });
    assert.equal(await withTimeout(kept, 10_000, "kept task"), 36);
    stop.abort();
    const stats = await served;
    assert.equal(stats.completed, 1);
    assert.deepEqual(events.filter((e) => e.type === "start").length, 1);
  },
);
