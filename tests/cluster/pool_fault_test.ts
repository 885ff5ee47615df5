// The cluster Pool with worker machines as real processes: one SIGKILLed
// mid-task, and a poison task that kills every worker it reaches.
import assert from "node:assert/strict";
import { Pool } from "../../cluster/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { Child, redisTest, TASKS } from "./_redis.ts";

const module = new URL(TASKS);

redisTest(
  "cluster Pool: a worker process SIGKILLed mid-task — its task runs on another, every result arrives",
  async (server) => {
    const name = "fleet";
    const workers = [0, 1].map(() =>
      new Child(["worker", server.url, name, "1", "1000", "3"])
    );
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l === "READY")));
      await using pool = new Pool({
        module,
        cluster: { url: server.url, name, maxDeliveries: 3 },
      });
      const results = pool.starmap<[number, number]>(
        "slow",
        // the first two tasks (one per worker slot) run long enough that
        // the SIGKILL below surely lands while w1 is still inside the task
        // it printed, however loaded the machine is; the rest stay short
        Array.from({ length: 10 }, (_, i) => [i, i < 2 ? 1500 : 150]),
        { chunksize: 1 },
      );
      const [w1, w2] = workers;
      await w1.waitFor((l) => l.startsWith("EV start"));
      w1.kill("SIGKILL");
      await w1.finish(15_000);
      // the task w1 was inside when it died: started, never done
      const starts = w1.lines.filter((l) => l.startsWith("EV start"));
      const inFlight = starts.map((l) => l.split(" ")[3]).filter((t) =>
        !w1.lines.some((l) => l.startsWith("EV done") && l.includes(` ${t} `))
      );
      assert.equal(inFlight.length, 1, `w1: ${w1.lines.join(" | ")}`);
      const task = inFlight[0];
      const got = await withTimeout(
        results,
        30_000,
        "starmap across a killed worker",
      );
      assert.deepEqual(got.map(([, x]) => x), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.ok(got.some(([pid]) => pid === w2.pid));
      assert.ok(
        w2.lines.some((l) => l.startsWith(`EV start slow ${task} 2`)),
        `task ${task} was not redelivered to w2: ${w2.lines.join(" | ")}`,
      );
    } finally {
      for (const w of workers) w.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.finish(15_000)));
    }
  },
);

redisTest(
  "cluster Pool: a task that kills maxDeliveries workers fails with a clear error instead of looping",
  async (server) => {
    const name = "poison";
    const workers = [0, 1].map(() =>
      new Child(["worker", server.url, name, "1", "500", "2"])
    );
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l === "READY")));
      await using pool = new Pool({
        module,
        cluster: { url: server.url, name, maxDeliveries: 2 },
      });
      const error = await withTimeout(
        pool.apply("poison", []).catch((e: Error) => e),
        30_000,
        "poison task",
      ) as Error;
      assert.match(error.message, /delivered 2 times \(maxDeliveries\)/);
      const statuses = await Promise.all(workers.map((w) => w.finish(5000)));
      assert.deepEqual(statuses.map((s) => s.signal), ["SIGKILL", "SIGKILL"]);
    } finally {
      for (const w of workers) w.kill("SIGKILL");
      await Promise.all(workers.map((w) => w.finish(5000)));
    }
  },
);
