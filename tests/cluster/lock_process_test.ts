// Leased locks across real processes: exact counts under contention, a
// SIGKILLed holder, a stale holder's fencing token.
import assert from "node:assert/strict";
import { LeaseLost, RedisManager } from "../../cluster/mod.ts";
import { Child, redisTest } from "./_redis.ts";

redisTest(
  "Lock across 4 processes × 500 read-modify-write increments = exactly 2000",
  async (server) => {
    const lockers = [0, 1, 2, 3].map(() =>
      new Child(["locker", server.url, "counter", "500", "5000"])
    );
    try {
      await Promise.all(
        lockers.map((c) => c.waitFor((l) => l === "DONE", 60_000)),
      );
      await using m = await RedisManager.connect(server.url);
      const counter = await m.Value<number>(undefined, {
        name: "counter-counter",
      });
      assert.equal(await counter.get(), 2000);
    } finally {
      await Promise.all(lockers.map((c) => c.finish(15_000)));
    }
  },
);

redisTest(
  "a holder SIGKILLed while holding: the next process acquires after about one lease, with a larger fencing token",
  async (server) => {
    const lease = 1000;
    const holder = new Child(["holder", server.url, "office", String(lease)]);
    try {
      const held = await holder.waitFor((l) => l.startsWith("HELD "));
      const holderToken = Number(held.split(" ")[1]);
      await using m = await RedisManager.connect(server.url);
      const lock = await m.Lock({ name: "office", lease });
      assert.equal(await lock.acquire({ blocking: false }), false);
      holder.kill("SIGKILL");
      const t0 = Date.now();
      assert.equal(await lock.acquire({ timeout: 10 * lease }), true);
      const waited = Date.now() - t0;
      assert.ok(lock.token! > holderToken);
      console.log(
        `acquired ${waited} ms after the SIGKILL (lease ${lease} ms)`,
      );
      await lock.release();
    } finally {
      await holder.finish(5000);
    }
  },
);

redisTest(
  "a SIGSTOPped holder loses its lease: its fencing token is refused after SIGCONT",
  async (server) => {
    const lease = 300;
    const holder = new Child(["holder", server.url, "fenced", String(lease)]);
    try {
      const held = await holder.waitFor((l) => l.startsWith("HELD "));
      const staleToken = Number(held.split(" ")[1]);
      holder.kill("SIGSTOP"); // frozen: its renewals stop
      await using m = await RedisManager.connect(server.url);
      const lock = await m.Lock({ name: "fenced", lease: 5000 });
      assert.equal(await lock.acquire({ timeout: 10_000 }), true);
      const resource = await m.Value<string>("", { name: "ledger" });
      await resource.set("written by the new holder", { fence: lock.token });
      holder.kill("SIGCONT");
      // whatever the woken holder (or anyone with its token) now writes is refused
      await assert.rejects(
        resource.set("late write", { fence: staleToken }),
        LeaseLost,
      );
      assert.equal(await resource.get(), "written by the new holder");
      assert.equal(await lock.locked(), true);
      await lock.release();
    } finally {
      holder.kill("SIGKILL");
      await holder.finish(5000);
    }
  },
);
