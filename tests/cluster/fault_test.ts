// Fault tests with real processes and a real redis-server: consumers
// SIGKILLed and SIGSTOPped mid-task, Redis restarted mid-run, 8 producers ×
// 8 consumers with sequence numbers.
import assert from "node:assert/strict";
import { createClient } from "npm:@redis/client@6.3.1";
import { JoinableQueue, RedisManager } from "../../cluster/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { Child, redisTest } from "./_redis.ts";

type Item = { p: number; s: number } | number | null;

async function stopAll(children: Child[]): Promise<void> {
  for (const c of children) c.kill("SIGCONT");
  await Promise.all(children.map((c) => c.finish(15_000)));
}

/**
 * Resolves once Redis counts a subscriber on `channel`, or once `unless`
 * settled (a join that found nothing unfinished never subscribes).
 */
async function subscribed(
  url: string,
  channel: string,
  unless: Promise<unknown>,
): Promise<void> {
  let over = false;
  unless.finally(() => over = true).catch(() => {});
  const raw = createClient({ url });
  raw.on("error", () => {}); // a reset while polling is retried
  await raw.connect();
  try {
    while (!over) {
      const reply = await raw.sendCommand(["PUBSUB", "NUMSUB", channel]);
      if (Number((reply as unknown as unknown[])[1]) > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await raw.close();
  }
}

async function runs(url: string, name: string): Promise<string[]> {
  await using m = await RedisManager.connect(url);
  return await (await m.list<string>(undefined, { name: `${name}-runs` }))
    .toArray();
}

redisTest(
  "JoinableQueue across processes: a SIGKILLed and a SIGSTOPped consumer lose nothing, join() returns, the zombie's ack is refused",
  async (server) => {
    const name = "fleet";
    // c1 and c2 (killed / frozen) spend 3 s on each task, so the signal
    // surely lands inside the first task they print, however late their
    // line reaches us on a loaded machine; c3 does the rest at 100 ms a task,
    // far inside its 1500 ms lease
    const consumers = ["3000", "3000", "100"].map((taskMs) =>
      new Child(["consumer", server.url, name, "1500", taskMs])
    );
    try {
      await Promise.all(consumers.map((c) => c.waitFor((l) => l === "READY")));
      await using q = await JoinableQueue.connect<Item>(server.url, { name });
      for (let i = 0; i < 20; i++) await q.put(i);
      const [c1, c2, c3] = consumers;
      const killedLine = await c1.waitFor((l) => l.startsWith("START "));
      c1.kill("SIGKILL");
      const killed = killedLine.split(" ")[1];
      const frozenLine = await c2.waitFor((l) => l.startsWith("START "));
      c2.kill("SIGSTOP");
      const frozen = frozenLine.split(" ")[1];
      assert.equal(await q.join({ timeout: 30_000 }), true);
      // both leased items were delivered again, to someone else
      for (const item of [killed, frozen]) {
        assert.ok(
          c3.lines.includes(`START ${item} 2`) ||
            c2.lines.includes(`START ${item} 2`),
          `item ${item} was not redelivered: ${c3.lines.join(" | ")}`,
        );
      }
      c2.kill("SIGCONT");
      // the zombie finishes its task and learns it lost the lease
      assert.match(
        await c2.waitFor((l) =>
          l.startsWith(`LOST ${frozen}`) || l.startsWith(`DONE ${frozen}`)
        ),
        /^LOST/,
      );
      await q.put(null);
      await q.put(null);
      assert.equal(await q.join({ timeout: 20_000 }), true);
      await Promise.all([c2, c3].map((c) => c.waitFor((l) => l === "EXIT")));
      const executed = await runs(server.url, name);
      const byItem = new Map<string, number>();
      for (const r of executed) {
        const item = r.split(":")[0];
        byItem.set(item, (byItem.get(item) ?? 0) + 1);
      }
      for (let i = 0; i < 20; i++) {
        assert.ok(byItem.get(String(i))! >= 1, `item ${i} never ran`);
      }
      const twice = [...byItem].filter(([, n]) => n > 1).map(([k]) => k);
      // duplicates only where a lease expired mid-task (the frozen one; the
      // killed one only if it got as far as recording its run)
      for (const item of twice) {
        assert.ok(
          [killed, frozen].includes(item),
          `unexpected duplicate ${item}`,
        );
      }
      console.log(
        `killed ${killed}, froze ${frozen}; executed twice: ${
          JSON.stringify(twice)
        }`,
      );
    } finally {
      await stopAll(consumers);
    }
  },
);

redisTest(
  "Redis restarted mid-run (with AOF): producers and consumers reconnect and nothing is lost",
  async (server) => {
    const name = "restart";
    const consumers = [0, 1].map(() =>
      new Child(["consumer", server.url, name, "30000", "10"])
    );
    try {
      await Promise.all(consumers.map((c) => c.waitFor((l) => l === "READY")));
      await using q = await JoinableQueue.connect<Item>(server.url, { name });
      await using watcher = await JoinableQueue.connect<Item>(server.url, {
        name,
      });
      const total = 60;
      let restarted = false;
      let early: Promise<boolean> | undefined;
      for (let i = 0; i < total; i++) {
        await q.put(i);
        if (i === 20) {
          // a join() already waiting (subscribed) when Redis goes away: its
          // pub/sub wake-up may be lost, its re-checks are not
          early = watcher.join({ timeout: 30_000 });
          // restart only once Redis reports the join's subscription, so the
          // restart hits a join that is already waiting (not one still
          // setting up its subscriber connection); a join that found every
          // item done already has nothing to wait for
          await withTimeout(
            subscribed(server.url, `weft:q:{${name}}:joined`, early),
            10_000,
            "join subscribed",
          );
          await server.restart();
          restarted = true;
        }
      }
      assert.ok(restarted);
      assert.equal(await q.join({ timeout: 30_000 }), true);
      assert.equal(await early, true);
      await q.put(null);
      await q.put(null);
      await Promise.all(
        consumers.map((c) => c.waitFor((l) => l === "EXIT", 30_000)),
      );
      const executed = await runs(server.url, name);
      const seen = new Set(executed.map((r) => r.split(":")[0]));
      for (let i = 0; i < total; i++) {
        assert.ok(seen.has(String(i)), `item ${i} lost`);
      }
      console.log(
        `${executed.length} runs for ${total} items across a Redis restart`,
      );
    } finally {
      await stopAll(consumers);
    }
  },
  { persistence: true },
);

redisTest(
  "waits started while Redis restarts and loads its data neither fail (LOADING) nor hang",
  async (server) => {
    // Enough data that the restarted server answers "LOADING" for a while
    // (~0.3 s): every wait that starts during the restart (and its
    // subscription) must ride it out.
    const raw = createClient({ url: server.url });
    await raw.connect();
    await raw.sendCommand([
      "EVAL",
      "for i = 1, 150000 do redis.call('SET', 'bulk:' .. i, i) end",
      "0",
    ]);
    await raw.close();
    const offsets = [0, 5, 20, 60, 120];
    for (let round = 0; round < 2; round++) {
      const handles = await Promise.all(offsets.map(async () => {
        const q = await JoinableQueue.connect<Item>(server.url, {
          name: `busy${round}`,
        });
        const empty = await JoinableQueue.connect<Item>(server.url, {
          name: "empty",
        });
        const m = await RedisManager.connect(server.url);
        return { q, empty, m, event: await m.Event({ name: "never" }) };
      }));
      await handles[0].q.put(1); // keeps every join() of this round waiting
      const restarting = server.restart();
      const waits = handles.map((h, i) =>
        new Promise((r) => setTimeout(r, offsets[i])).then(() =>
          Promise.all([
            h.q.join({ timeout: 1000 }),
            h.event.wait({ timeout: 1000 }),
            h.empty.get({ timeout: 1000 }).then(
              () => "item",
              (e: Error) => e.name,
            ),
          ])
        )
      );
      await restarting;
      const results = await withTimeout(
        Promise.all(waits),
        20_000,
        "waits around a restart",
      );
      for (const r of results) {
        assert.deepEqual(r, [false, false, "QueueEmpty"]);
      }
      for (const h of handles) {
        await h.q.close();
        await h.empty.close();
        await h.m.close();
      }
    }
  },
  { persistence: true },
);

redisTest(
  "8 producer × 8 consumer processes: every sequence number arrives, maxsize holds, duplicates only with an expired lease",
  async (server) => {
    const name = "many";
    const perProducer = 40;
    const consumers = Array.from(
      { length: 8 },
      () => new Child(["consumer", server.url, name, "20000", "0"]),
    );
    const producers = Array.from(
      { length: 8 },
      (_, p) =>
        new Child([
          "producer",
          server.url,
          name,
          String(p),
          String(perProducer),
        ]),
    );
    const all = [...consumers, ...producers];
    try {
      await using q = await JoinableQueue.connect<Item>(server.url, {
        name,
        maxsize: 20,
      });
      let maxSeen = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          maxSeen = Math.max(maxSeen, await q.qsize());
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await Promise.all(
        producers.map((p) => p.waitFor((l) => l === "PRODUCED", 60_000)),
      );
      assert.equal(await q.join({ timeout: 30_000 }), true);
      watching = false;
      await watcher;
      for (let i = 0; i < consumers.length; i++) await q.put(null);
      await Promise.all(
        consumers.map((c) => c.waitFor((l) => l === "EXIT", 30_000)),
      );
      const executed = await runs(server.url, name);
      const counts = new Map<string, number>();
      for (const r of executed) {
        const [p, s] = r.split(":");
        counts.set(`${p}:${s}`, (counts.get(`${p}:${s}`) ?? 0) + 1);
      }
      for (let p = 0; p < 8; p++) {
        for (let s = 0; s < perProducer; s++) {
          assert.ok(counts.has(`${p}:${s}`), `lost ${p}:${s}`);
        }
      }
      const duplicates = executed.length - counts.size;
      const redelivered = consumers.flatMap((c) =>
        c.lines
      ).filter((l) => / [2-9]$/.test(l) && l.startsWith("START")).length;
      assert.ok(
        duplicates <= redelivered,
        `${duplicates} duplicates but ${redelivered} redeliveries`,
      );
      assert.ok(maxSeen <= 20, `qsize reached ${maxSeen}`);
      console.log(
        `${executed.length} runs of ${counts.size} items; duplicates ${duplicates}; max qsize seen ${maxSeen}`,
      );
    } finally {
      await stopAll(all);
    }
  },
);
