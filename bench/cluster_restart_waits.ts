// Waits around a Redis restart: do `join()`, `Event.wait()` and `get()`
// started while Redis restarts (with AOF data, so it answers LOADING for a
// while) end without an error, and by their timeout plus the outage?
//
//   deno run -A bench/cluster_restart_waits.ts [rounds=30]
//
// Each round opens 14 handles of each kind (connected before the restart,
// so each wait's subscriber / blocking connection is first opened during
// it), restarts Redis and starts one wait of each kind 0–120 ms into the
// restart, each with a 1500 ms timeout. Prints per round the restart's
// duration, the longest wait and the waits that failed; last, how far any
// wait ran past its timeout plus that round's restart.
import { JoinableQueue, RedisManager, RedisServer } from "../cluster/mod.ts";

const rounds = Number(Deno.args[0] ?? 30);
const TIMEOUT = 1500;
const offsets = [0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 60, 80, 120];
const server = await RedisServer.start({ persistence: true });
let worst = -Infinity;
let failed = 0;
try {
  await using base = await JoinableQueue.connect<number>(server.url, {
    name: "busy",
  });
  await base.put(1); // keeps every join() waiting
  {
    // enough data that the restarted server answers LOADING for a while
    await using m = await RedisManager.connect(server.url);
    const bulk = await m.dict<number>(undefined, { name: "bulk" });
    for (let i = 0; i < 200; i++) {
      await bulk.update(
        Object.fromEntries(
          Array.from({ length: 500 }, (_, j) => [`k${i}-${j}`, j]),
        ),
      );
    }
  }
  for (let r = 0; r < rounds; r++) {
    const qs = await Promise.all(
      offsets.map(() =>
        JoinableQueue.connect<number>(server.url, { name: "busy" })
      ),
    );
    const gs = await Promise.all(
      offsets.map(() =>
        JoinableQueue.connect<number>(server.url, { name: "empty" })
      ),
    );
    const ms = await Promise.all(
      offsets.map(() => RedisManager.connect(server.url)),
    );
    const es = await Promise.all(ms.map((m) => m.Event({ name: "never" })));
    const waits: Promise<[string, number, boolean]>[] = [];
    const start = (label: string, fn: () => Promise<unknown>) => {
      const t0 = Date.now();
      waits.push(
        fn().then(
          () => [label, Date.now() - t0, true],
          (e) => [`${label}: ${e}`, Date.now() - t0, false],
        ),
      );
    };
    const r0 = Date.now();
    let restartMs = 0;
    const restarting = server.restart().then(() => restartMs = Date.now() - r0);
    await Promise.all(
      offsets.map((off, i) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            start(`join@${off}`, () => qs[i].join({ timeout: TIMEOUT }));
            start(`event@${off}`, () => es[i].wait({ timeout: TIMEOUT }));
            start(`get@${off}`, () =>
              gs[i].get({ timeout: TIMEOUT }).catch((e) => {
                if ((e as Error).name !== "QueueEmpty") throw e;
              }));
            resolve();
          }, off)
        )
      ),
    );
    await restarting;
    const results = await Promise.all(waits);
    const longest = Math.max(...results.map((x) => x[1]));
    const bad = results.filter((x) => !x[2]);
    failed += bad.length;
    worst = Math.max(worst, longest - TIMEOUT - restartMs);
    console.log(
      `round ${r}: restart ${restartMs} ms, longest wait ${longest} ms, ${results.length} waits, ${bad.length} failed${
        bad.length ? ` (e.g. ${bad[0][0]})` : ""
      }`,
    );
    for (const h of [...qs, ...gs, ...ms]) await h.close();
  }
} finally {
  await server.stop();
}
console.log(
  `${
    rounds * offsets.length * 3
  } waits, ${failed} failed; the longest ran ${worst} ms past its timeout + the restart`,
);
