// `deno task demo:cluster`: three Deno processes on 127.0.0.1 behave as one
// fleet through a local Redis. They share a joinable queue and a Pool; the
// demo SIGKILLs one of them mid-task and shows the redelivery, every task
// done, and join() returning. Under ~15 s; needs redis-server on PATH
// (Debian: apt-get install redis-server).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run \
//     --allow-env examples/cluster/demo.ts
//
// Partner program: examples/cluster/node.ts (one per machine).
import {
  JoinableQueue,
  Pool,
  RedisServer,
  redisServerAvailable,
} from "@weft/weft/cluster";

const t0 = performance.now();
const log = (line: string) =>
  console.log(
    `[${String(Math.round(performance.now() - t0)).padStart(5)} ms] ${line}`,
  );

if (!redisServerAvailable()) {
  console.error(
    'redis-server not found: install it with "apt-get install redis-server"',
  );
  Deno.exit(1);
}

// Not `await using`: Deno.exit() below would skip the disposal and leave
// the server running.
const server = await RedisServer.start();
log(`redis-server on ${server.url} (temporary, no persistence)`);

const lease = 1000;
const nodes = ["A", "B", "C"].map((label) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      new URL("./node.ts", import.meta.url).pathname,
      "--url",
      server.url,
      "--label",
      label,
      "--lease",
      String(lease),
    ],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return {
    label,
    child,
    lines: [] as string[],
    onLine: [] as ((l: string) => void)[],
  };
});
for (const node of nodes) {
  (async () => {
    let buf = "";
    for await (
      const chunk of node.child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        node.lines.push(line);
        if (/redelivered|lease|ready/.test(line)) log(line);
        for (const f of node.onLine) f(line);
      }
    }
  })();
}
// Ctrl-C: stop the nodes and the server we started, then leave.
Deno.addSignalListener("SIGINT", async () => {
  for (const n of nodes) {
    try {
      n.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  await server.stop();
  Deno.exit(130);
});
const waitLine = (node: (typeof nodes)[number], re: RegExp) =>
  new Promise<string>((resolve) => {
    const hit = node.lines.find((l) => re.test(l));
    if (hit) return resolve(hit);
    node.onLine.push((l) => re.test(l) && resolve(l));
  });

let ok = false;
try {
  await Promise.all(nodes.map((n) => waitLine(n, /ready/)));
  log("3 node processes ready (each: a queue consumer + a Pool worker)");

  await using jobs = await JoinableQueue.connect<number>(server.url, {
    name: "jobs",
    visibilityTimeout: lease,
  });
  for (let i = 1; i <= 12; i++) await jobs.put(i);
  log("put 12 jobs on the joinable queue");

  await using pool = new Pool({
    module: "examples/cluster/tasks.ts",
    cluster: { url: server.url, name: "render", visibilityTimeout: lease },
  });
  const frames = pool.starmap<{ frame: number; pid: number }>(
    "render",
    Array.from({ length: 9 }, (_, i) => [i, 300]),
    { chunksize: 1 },
  );
  log("submitted 9 render tasks to the Pool");

  const victim = nodes[0];
  const [job, task] = await Promise.all([
    waitLine(victim, /job \d+ start/),
    Promise.race([
      waitLine(victim, /pool task \S+ start/),
      new Promise<string>((r) => setTimeout(() => r("no pool task yet"), 5000)),
    ]),
  ]);
  victim.child.kill("SIGKILL");
  const what = (l: string) => l.replace(/^\[A\] /, "").replace(/ start$/, "");
  log(
    `SIGKILL node ${victim.label} while it runs ${what(job)} and ${what(task)}`,
  );

  const joined = await jobs.join({ timeout: 20_000 });
  log(`jobs.join() -> ${joined}; unfinished ${await jobs.unfinishedTasks()}`);
  const results = await frames;
  const byNode = new Map<number, number>();
  for (const r of results) byNode.set(r.pid, (byNode.get(r.pid) ?? 0) + 1);
  const names = new Map(nodes.map((n) => [n.child.pid, n.label]));
  log(
    `pool.starmap -> ${results.length} frames in order (${
      [...byNode].map(([pid, n]) => `${n} by ${names.get(pid)}`).join(", ")
    })`,
  );
  const done = new Set<string>();
  for (const n of nodes.slice(1)) {
    for (const l of n.lines) {
      const m = l.match(/job (\d+) done/);
      if (m) done.add(m[1]);
    }
  }
  for (const l of victim.lines) {
    const m = l.match(/job (\d+) done/);
    if (m) done.add(m[1]);
  }
  ok = joined && done.size === 12 && results.length === 9 &&
    results.every((r, i) => r.frame === i);
  log(
    `every one of 12 jobs done: ${done.size === 12}; every frame back: ${
      results.length === 9
    }`,
  );
} finally {
  for (const n of nodes) {
    try {
      n.child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  await Promise.all(nodes.map((n) => n.child.status));
  await server.stop();
}
log(ok ? "FLEET OK" : "FLEET FAILED");
Deno.exit(ok ? 0 : 1);
