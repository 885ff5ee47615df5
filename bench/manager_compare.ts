// Manager proxy round trips per second: weft's Manager vs Python's
// multiprocessing.Manager, with a shared dict, on this machine, in one run:
// 1 and 4 client processes making sequential calls, and 1 client process
// with 8 calls in flight (weft: 8 async loops over its one multiplexed
// connection; Python: 8 threads, each with its own proxy connection). Each
// client waits at a proxied barrier, then makes N `get` calls on the dict
// proxy; throughput is (clients x N) / (slowest client's time).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-run --allow-env bench/manager_compare.ts [--calls 8000] [--rounds 3] [--python python3]
//
// The same file is the weft client process (`--client`), which reads its
// proxies from stdin.
//
// A second table runs the same Python client processes (SyncManager
// clients, one proxy connection per thread) against two servers: a weft
// `Manager.serve` speaking Python's managers protocol, and CPython's own
// `SyncManager` server.
import { parseArgs } from "node:util";
import { reviveValue, shareValue } from "../_internal/share.ts";
import { Manager } from "../ipc/manager.ts";
import type {
  DictProxy,
  EventProxy,
  ListProxy,
  ValueProxy,
} from "../ipc/manager_proxy.ts";

const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-run",
  "--allow-env",
];

const WARMUP = 2000;

async function client(): Promise<void> {
  const text = await new Response(Deno.stdin.readable).text();
  const { args } = JSON.parse(text);
  const [dict, ready, go, times, calls, inFlight] = reviveValue(args) as [
    DictProxy<string, number>,
    ValueProxy<number>,
    EventProxy,
    ListProxy<number>,
    number,
    number,
  ];
  const loop = async (n: number) => {
    for (let i = 0; i < n; i++) await dict.get("key");
  };
  const run = (n: number) =>
    Promise.all(
      Array.from({ length: inFlight }, () => loop(Math.round(n / inFlight))),
    );
  await run(WARMUP);
  await ready.increment();
  await go.wait();
  const start = performance.now();
  await run(calls);
  await times.push(performance.now() - start);
}

async function weft(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  await using manager = await Manager.start();
  const dict = await manager.dict<string, number>({ key: 1 });
  const ready = await manager.Value(0);
  const go = await manager.Event();
  const times = await manager.list<number>();
  const args = shareValue(
    [dict, ready, go, times, calls, inFlight],
    "process",
  );
  const children = Array.from({ length: clients }, () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, import.meta.filename!, "--client"],
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(JSON.stringify({ args })))
      .then(() => writer.close());
    return child;
  });
  while (await ready.get() < clients) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await go.set();
  const statuses = await Promise.all(children.map((child) => child.status));
  if (statuses.some((status) => !status.success)) {
    throw new Error("A weft client process failed");
  }
  const elapsed = Math.max(...await times.toArray());
  return (clients * calls) / (elapsed / 1000);
}

const PYTHON_SOURCE = `
import sys, time, threading
from multiprocessing import Manager, Process

def loop(d, n):
    for _ in range(n):
        d.get("key")

def run(d, n, in_flight):
    # A proxy opens one connection per thread: threads give calls in flight.
    if in_flight == 1:
        return loop(d, n)
    ts = [threading.Thread(target=loop, args=(d, n // in_flight)) for _ in range(in_flight)]
    for t in ts: t.start()
    for t in ts: t.join()

def client(d, barrier, times, calls, in_flight):
    run(d, ${WARMUP}, in_flight)
    barrier.wait()
    start = time.perf_counter()
    run(d, calls, in_flight)
    times.append(time.perf_counter() - start)

if __name__ == "__main__":
    clients, calls, in_flight = (int(a) for a in sys.argv[1:4])
    with Manager() as m:
        d = m.dict({"key": 1})
        barrier = m.Barrier(clients)
        times = m.list()
        ps = [Process(target=client, args=(d, barrier, times, calls, in_flight)) for _ in range(clients)]
        for p in ps: p.start()
        for p in ps: p.join()
        print(clients * calls / max(times))
`;

async function python(
  executable: string,
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  const out = await new Deno.Command(executable, {
    args: [
      "-c",
      PYTHON_SOURCE,
      String(clients),
      String(calls),
      String(inFlight),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("The Python benchmark failed");
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** Python SyncManager clients of an already running server (either kind). */
const PYTHON_CLIENTS = `
import sys, json, time, threading
from multiprocessing import Process
from multiprocessing.managers import SyncManager, DictProxy, ListProxy, BarrierProxy
cfg = json.loads(sys.stdin.readline())
class M(SyncManager): pass
M.register("bench_dict", proxytype=DictProxy)
M.register("bench_barrier", proxytype=BarrierProxy)
M.register("bench_times", proxytype=ListProxy)

def connect():
    m = M(address=("127.0.0.1", cfg["port"]), authkey=bytes.fromhex(cfg["key"]))
    m.connect()
    return m

def loop(d, n):
    for _ in range(n):
        d.get("key")

def run(d, n, in_flight):
    if in_flight == 1:
        return loop(d, n)
    ts = [threading.Thread(target=loop, args=(d, n // in_flight)) for _ in range(in_flight)]
    for t in ts: t.start()
    for t in ts: t.join()

def client(calls, in_flight):
    m = connect()
    d, barrier, times = m.bench_dict(), m.bench_barrier(), m.bench_times()
    run(d, ${WARMUP}, in_flight)
    barrier.wait()
    start = time.perf_counter()
    run(d, calls, in_flight)
    times.append(time.perf_counter() - start)

if __name__ == "__main__":
    clients, calls, in_flight = cfg["clients"], cfg["calls"], cfg["in_flight"]
    ps = [Process(target=client, args=(calls, in_flight)) for _ in range(clients)]
    for p in ps: p.start()
    for p in ps: p.join()
    print(clients * calls / max(connect().bench_times()))
`;

/** CPython's SyncManager server holding the three bench objects. */
const PYTHON_SERVER = `
import sys, json, threading
from multiprocessing.managers import SyncManager, DictProxy, ListProxy, BarrierProxy
cfg = json.loads(sys.stdin.readline())
d, b, t = {"key": 1}, threading.Barrier(cfg["clients"]), []
class M(SyncManager): pass
M.register("bench_dict", callable=lambda: d, proxytype=DictProxy)
M.register("bench_barrier", callable=lambda: b, proxytype=BarrierProxy)
M.register("bench_times", callable=lambda: t, proxytype=ListProxy)
server = M(address=("127.0.0.1", 0), authkey=bytes.fromhex(cfg["key"])).get_server()
print(server.address[1], flush=True)
server.serve_forever()
`;

const BENCH_KEY = "bench key";

function hexKey(): string {
  return Array.from(
    new TextEncoder().encode(BENCH_KEY),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function runPythonClients(
  executable: string,
  port: number,
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  const child = new Deno.Command(executable, {
    args: ["-c", PYTHON_CLIENTS],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      JSON.stringify({
        port,
        key: hexKey(),
        clients,
        calls,
        in_flight: inFlight,
      }) + "\n",
    ),
  );
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error("The Python clients failed");
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** Python clients on a weft manager (Python's protocol). */
async function pythonOnWeft(
  executable: string,
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  await using manager = await Manager.serve({ port: 0, authkey: BENCH_KEY });
  await manager.dict({ key: 1 }, { name: "bench_dict" });
  await manager.Barrier(clients, { name: "bench_barrier" });
  await manager.list([], { name: "bench_times" });
  const { port } = manager.address as { port: number };
  return await runPythonClients(executable, port, clients, calls, inFlight);
}

/** The same Python clients on CPython's own SyncManager server. */
async function pythonOnPython(
  executable: string,
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  const server = new Deno.Command(executable, {
    args: ["-c", PYTHON_SERVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const writer = server.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify({ key: hexKey(), clients }) + "\n",
      ),
    );
    await writer.close();
    const reader = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("The Python server exited");
      line += value;
    }
    reader.releaseLock();
    return await runPythonClients(
      executable,
      Number(line.trim()),
      clients,
      calls,
      inFlight,
    );
  } finally {
    server.kill("SIGKILL");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      calls: { type: "string", default: "8000" },
      python: { type: "string", default: "python3" },
      rounds: { type: "string", default: "3" },
    },
  });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const version = new TextDecoder().decode(
    (await new Deno.Command(values.python!, {
      args: ["--version"],
      stdout: "piped",
    }).output()).stdout,
  ).trim();
  console.log(
    `Manager dict.get round trips/s (best of ${rounds}), ${calls} calls in all per row; weft on Deno ${Deno.version.deno} vs ${version}`,
  );
  console.log(
    "| client processes | calls in flight each | weft (calls/s) | Python (calls/s) | weft / Python |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (const [clients, inFlight] of [[1, 1], [4, 1], [1, 8]]) {
    const perClient = Math.round(calls / clients / inFlight) * inFlight;
    let best = 0;
    let bestPython = 0;
    for (let round = 0; round < rounds; round++) {
      best = Math.max(best, await weft(clients, perClient, inFlight));
      bestPython = Math.max(
        bestPython,
        await python(values.python!, clients, perClient, inFlight),
      );
    }
    console.log(
      `| ${clients} | ${inFlight} | ${Math.round(best)} | ${
        Math.round(bestPython)
      } | ${(best / bestPython).toFixed(2)}x |`,
    );
  }
  console.log(
    `\nPython (${version}) SyncManager clients, dict.get round trips/s (best of ${rounds}): on a weft server vs on CPython's server`,
  );
  console.log(
    "| client processes | threads each | weft server (calls/s) | Python server (calls/s) | weft / Python |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (const [clients, inFlight] of [[1, 1], [4, 1], [1, 8]]) {
    const perClient = Math.round(calls / clients / inFlight) * inFlight;
    let onWeft = 0;
    let onPython = 0;
    for (let round = 0; round < rounds; round++) {
      onWeft = Math.max(
        onWeft,
        await pythonOnWeft(values.python!, clients, perClient, inFlight),
      );
      onPython = Math.max(
        onPython,
        await pythonOnPython(values.python!, clients, perClient, inFlight),
      );
    }
    console.log(
      `| ${clients} | ${inFlight} | ${Math.round(onWeft)} | ${
        Math.round(onPython)
      } | ${(onWeft / onPython).toFixed(2)}x |`,
    );
  }
}

if (Deno.args.includes("--client")) await client();
else await main();
