// Cross-worker queue throughput: small items/s from a producer worker to a
// consumer worker through weft's Queue (shared memory), against a plain
// MessageChannel postMessage baseline and Python's multiprocessing.Queue
// (producer process -> consumer process), in ONE run.
//
//   deno run -A bench/queue_compare.ts [--items 200000] [--rounds 3]
//
// Item kinds: a number, a short string, a small object { a: i, b: "x" }.
// weft: Queue({ maxsize: 1024 }), producer putSync, consumer getSync.
// Baseline: producer posts every item on a MessagePort, consumer counts.
// Python: multiprocessing.Queue(1024), producer put, consumer get.
// Best of --rounds; the clock runs from start until the consumer is done.
import { parseArgs } from "node:util";
import { Queue, share } from "../concurrency/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    items: { type: "string", default: "200000" },
    rounds: { type: "string", default: "3" },
  },
});
const N = Number(args.values.items);
const ROUNDS = Number(args.values.rounds);
const KINDS = ["number", "string", "object"] as const;

function startWorker(): Worker {
  return new Worker(new URL("./queue_worker.ts", import.meta.url), {
    type: "module",
  });
}

function done(worker: Worker): Promise<void> {
  return new Promise((resolve) => worker.onmessage = () => resolve());
}

async function once(via: "queue" | "port", kind: string): Promise<number> {
  const producer = startWorker();
  const consumer = startWorker();
  try {
    // Warm the workers up (module load) before the clock starts.
    await new Promise((r) => setTimeout(r, 300));
    const consumed = done(consumer);
    const produced = done(producer);
    const t0 = performance.now();
    if (via === "queue") {
      const queue = new Queue({ maxsize: 1024 });
      consumer.postMessage(share({ role: "consume", via, n: N, kind, queue }));
      producer.postMessage(share({ role: "produce", via, n: N, kind, queue }));
    } else {
      const { port1, port2 } = new MessageChannel();
      consumer.postMessage({ role: "consume", via, n: N, kind, port: port2 }, [
        port2,
      ]);
      producer.postMessage({ role: "produce", via, n: N, kind, port: port1 }, [
        port1,
      ]);
    }
    await Promise.all([consumed, produced]);
    return N / ((performance.now() - t0) / 1000);
  } finally {
    producer.terminate();
    consumer.terminate();
  }
}

const PY = `
import sys, time, json
from multiprocessing import Process, Queue
def produce(q, n, kind):
    for i in range(n):
        q.put(i if kind == "number" else ("item %d" % i if kind == "string" else {"a": i, "b": "x"}))
def consume(q, n):
    for _ in range(n):
        q.get()
if __name__ == "__main__":
    n, rounds = int(sys.argv[1]), int(sys.argv[2])
    out = {}
    for kind in ("number", "string", "object"):
        best = 0
        for _ in range(rounds):
            q = Queue(1024)
            c = Process(target=consume, args=(q, n)); p = Process(target=produce, args=(q, n, kind))
            c.start(); p.start()
            t0 = time.perf_counter()
            p.join(); c.join()
            best = max(best, n / (time.perf_counter() - t0))
        out[kind] = best
    print(json.dumps(out))
`;

async function python(): Promise<Record<string, number> | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "weft-queue-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/q.py`, PY);
    const out = await new Deno.Command("python3", {
      args: [`${dir}/q.py`, String(Math.min(N, 100_000)), String(ROUNDS)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return out.success
      ? JSON.parse(new TextDecoder().decode(out.stdout))
      : undefined;
  } catch {
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const rows: string[] = [];
const py = await python();
for (const kind of KINDS) {
  let queue = 0;
  let port = 0;
  for (let r = 0; r < ROUNDS; r++) {
    queue = Math.max(queue, await once("queue", kind));
    port = Math.max(port, await once("port", kind));
  }
  const p = py?.[kind];
  rows.push(
    `| ${kind} | ${queue.toFixed(0)} | ${port.toFixed(0)} | ${
      (queue / port).toFixed(2)
    }× | ${p ? p.toFixed(0) : "n/a"} | ${
      p ? (queue / p).toFixed(2) + "×" : "n/a"
    } |`,
  );
}
console.log(
  `\nproducer worker -> consumer worker, ${N} items per run (Python: ${
    Math.min(N, 100_000)
  }), best of ${ROUNDS}`,
);
console.log(
  `load average at end: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`,
);
console.log(
  "| item | weft Queue items/s | MessageChannel items/s | weft / MessageChannel | Python mp.Queue items/s | weft / Python |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(row);
