// Manager proxy round trips per second: weft's Manager vs Python's
// multiprocessing.Manager, with a shared dict, on this machine, in one run,
// next to the platform's own limit:
//
// - raw Deno ping-pong: 64 B written and echoed back over TCP on 127.0.0.1
//   (plain read/write, no framing) between an echo server on one event
//   loop (this process) and client processes — what a manager call costs
//   at best (a call is one round trip between a client process and the
//   server process, over TCP too), with the same numbers of client
//   processes and calls in flight (one connection per call in flight);
// - 1 and 4 client processes making sequential calls, and 1 client process
//   with 8 calls in flight (weft: 8 async loops over its one multiplexed
//   connection; Python: 8 threads, each with its own proxy connection).
//   Each client waits at a proxied Event, then makes N `get` calls on the
//   dict proxy; throughput is (clients x N) / (slowest client's time).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run --allow-env --allow-sys=loadavg \
//     bench/manager_compare.ts [--calls 8000] [--rounds 3] [--python python3] \
//     [--only weft|platform] [--rows 4x1,1x8] [--profile DIR] [--pin CPU]
//
// `--pin CPU` (e.g. `--pin 1`): re-runs the bench under `taskset -c CPU`,
// so that it and every process it starts (servers, clients, Python) share
// that one CPU; it prints whether it could (taskset found) or not (then it
// runs unpinned). On a small, shared machine the unpinned figures swing with
// cross-core scheduling (±10 % and more between identical runs); pinned
// ones are steady enough to compare two trees run one after the other.
//
// `--only weft` runs the 1x1 row of the first table and the paired line,
// `--only platform` the first table only; `--rows` picks the rows (client
// processes x calls in flight) of the first table; `--profile DIR` adds
// `--cpu-prof` to the weft server and client processes (profiles land in
// DIR).
//
// After the first table: the CPU per call of the server process and of the
// client processes (µs, round with the best rate of each case and row), the
// steadiest figure on a loaded machine; the weft server's is read from
// /proc/PID/stat in 10 ms ticks (give it --calls 32000).
//
// After the first table, a paired measurement of the sequential case: this
// process alternates chunks of raw round trips (with an echo child) and
// dict.get calls (with a manager server process), so that bursts of load
// from elsewhere hit both alike; one ratio per round.
//
// The same file is the weft client process (`--client`, proxies from
// stdin), the raw client process (`--raw-client PORT,CALLS,IN_FLIGHT`) and
// the raw echo child (`--raw-echo PORT`).
//
// A second table runs the same Python client processes (SyncManager
// clients, one proxy connection per thread) against two servers: a weft
// `Manager.serve` speaking Python's managers protocol, and CPython's own
// `SyncManager` server.
import process from "node:process";
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

/**
 * Calls (or raw round trips) each process makes before it is timed, weft and
 * raw alike: enough for V8 to optimize weft's longer call path. With 2000,
 * short rows measured weft partly unoptimized (0.75–0.78× raw pinned at 16 000
 * calls, 0.84–0.88× at 40 000; 0.86–0.89× at 16 000 after this warm-up).
 */
const WARMUP = 20_000;
const RAW_SIZE = 64;

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    calls: { type: "string", default: "8000" },
    python: { type: "string", default: "python3" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
    rows: { type: "string" },
    profile: { type: "string" },
    pin: { type: "string" },
    client: { type: "boolean" },
    "raw-client": { type: "string" },
    "raw-echo": { type: "string" },
  },
});

const profileFlags = options.profile === undefined
  ? []
  : ["--cpu-prof", `--cpu-prof-dir=${options.profile}`];

async function client(): Promise<void> {
  const text = await new Response(Deno.stdin.readable).text();
  const { args } = JSON.parse(text);
  const [dict, ready, go, times, calls, inFlight] = reviveValue(args) as [
    DictProxy<string, number>,
    ValueProxy<number>,
    EventProxy,
    ListProxy<[number, number]>,
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
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(calls);
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  await times.push([ms, user + system]);
}

/** Spawns this file as a child Deno process with `args`. */
function spawnSelf(
  args: string[],
  stdin: "piped" | "null",
  stdout: "piped" | "inherit" = "inherit",
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      ...profileFlags,
      import.meta.filename!,
      ...args,
    ],
    stdin,
    stdout,
    stderr: "inherit",
  }).spawn();
}

/** Echoes RAW_SIZE-byte messages on `conn` until EOF (plain read/write). */
async function echo(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(RAW_SIZE);
  try {
    while (true) {
      let got = 0;
      while (got < RAW_SIZE) {
        const n = await conn.read(buf.subarray(got));
        if (n === null) return;
        got += n;
      }
      let sent = 0;
      while (sent < RAW_SIZE) sent += await conn.write(buf.subarray(sent));
    }
  } finally {
    conn.close();
  }
}

/** One raw round trip on `conn`: RAW_SIZE bytes out, the echo back in. */
function pingPong(conn: Deno.Conn): () => Promise<void> {
  const out = new Uint8Array(RAW_SIZE).fill(1);
  const buf = new Uint8Array(RAW_SIZE);
  return async () => {
    let sent = 0;
    while (sent < RAW_SIZE) sent += await conn.write(out.subarray(sent));
    let got = 0;
    while (got < RAW_SIZE) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) throw new Error("The raw echo peer ended");
      got += n;
    }
  };
}

/**
 * A raw client process: `inFlight` loops, each with its own connection,
 * ping-pong RAW_SIZE bytes with the echo server; prints its time in ms.
 */
async function rawClient(
  port: number,
  calls: number,
  inFlight: number,
): Promise<void> {
  const loop = async (conn: Deno.TcpConn, n: number) => {
    const once = pingPong(conn);
    for (let i = 0; i < n; i++) await once();
  };
  const conns = await Promise.all(
    Array.from({ length: inFlight }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.setNoDelay(true);
      return conn;
    }),
  );
  const run = (n: number) =>
    Promise.all(conns.map((conn) => loop(conn, Math.round(n / inFlight))));
  await run(WARMUP);
  // a barrier: "ready" on stdout, then wait for the parent's byte on stdin
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  await Deno.stdin.read(new Uint8Array(1));
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(calls);
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  await Deno.stdout.write(new TextEncoder().encode(`${ms} ${user + system}\n`));
  for (const conn of conns) conn.close();
}

/**
 * Raw Deno ping-pong round trips/s: this process echoes (one event loop,
 * as the manager server), `clients` child processes each ping-pong with
 * `inFlight` connections.
 */
async function raw(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) echo(conn);
  })().catch(() => {});
  const children = Array.from({ length: clients }, () =>
    spawnSelf(
      ["--raw-client", `${listener.addr.port},${calls},${inFlight}`],
      "piped",
      "piped",
    ));
  const lines = children.map((child) =>
    child.stdout.pipeThrough(new TextDecoderStream()).getReader()
  );
  const line = async (reader: ReadableStreamDefaultReader<string>) => {
    const { value, done } = await reader.read();
    if (done) throw new Error("A raw client process failed");
    return value.trim();
  };
  await Promise.all(lines.map(line)); // every client is warm
  const cpu = process.cpuUsage();
  await Promise.all(children.map(async (child) => {
    const writer = child.stdin.getWriter();
    await writer.write(new Uint8Array([1]));
    await writer.close();
  }));
  const results = (await Promise.all(lines.map(line))).map((text) =>
    text.split(" ").map(Number) as [number, number]
  );
  const { user, system } = process.cpuUsage(cpu);
  await Promise.all(children.map((child) => child.status));
  listener.close();
  await serving;
  return record("raw", clients, calls, inFlight, results, user + system);
}

/**
 * Sequential round trips from this process, raw and weft side by side:
 * an echo child process (raw Deno) and a manager server process are both
 * up, and this process alternates chunks of `CHUNK` raw round trips and
 * `CHUNK` `dict.get` calls, so that load from elsewhere hits both alike.
 * Returns [raw rate, weft rate].
 */
async function paired(calls: number): Promise<[number, number]> {
  const CHUNK = 50;
  await using manager = await Manager.start({
    permissions: ["--allow-net=127.0.0.1", "--allow-read", ...profileFlags],
  });
  const dict = await manager.dict<string, number>({ key: 1 });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = spawnSelf(["--raw-echo", String(listener.addr.port)], "null");
  const conn = await listener.accept();
  conn.setNoDelay(true);
  const rawOnce = pingPong(conn);
  const time = async (n: number, once: () => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) await once();
    return performance.now() - start;
  };
  try {
    await time(WARMUP, rawOnce);
    await time(WARMUP, () => dict.get("key"));
    let rawMs = 0;
    let weftMs = 0;
    for (let done = 0; done < calls; done += CHUNK) {
      rawMs += await time(CHUNK, rawOnce);
      weftMs += await time(CHUNK, () => dict.get("key"));
    }
    const n = Math.ceil(calls / CHUNK) * CHUNK;
    return [n / (rawMs / 1000), n / (weftMs / 1000)];
  } finally {
    conn.close();
    await child.status;
  }
}

async function weft(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  await using manager = await Manager.start({
    permissions: ["--allow-net=127.0.0.1", "--allow-read", ...profileFlags],
  });
  const dict = await manager.dict<string, number>({ key: 1 });
  const ready = await manager.Value(0);
  const go = await manager.Event();
  const times = await manager.list<[number, number]>();
  const args = shareValue(
    [dict, ready, go, times, calls, inFlight],
    "process",
  );
  const children = Array.from({ length: clients }, () => {
    const child = spawnSelf(["--client"], "piped");
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(JSON.stringify({ args })))
      .then(() => writer.close());
    return child;
  });
  while (await ready.get() < clients) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cpu = await processCpu(manager.pid);
  await go.set();
  const statuses = await Promise.all(children.map((child) => child.status));
  const serverCpu = await processCpu(manager.pid) - cpu;
  if (statuses.some((status) => !status.success)) {
    throw new Error("A weft client process failed");
  }
  return record(
    "weft",
    clients,
    calls,
    inFlight,
    await times.toArray(),
    serverCpu,
  );
}

/**
 * CPU time (user + system, µs) of process `pid` so far, from
 * /proc/PID/stat (clock ticks of 10 ms: read it over a long enough run);
 * NaN where there is no /proc.
 */
async function processCpu(pid: number | undefined): Promise<number> {
  try {
    // Deno reads /proc/PID only with --allow-all: ask `cat`
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/stat`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const stat = new TextDecoder().decode(out.stdout);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/** Best round of each case and row: calls/s and CPU µs per call. */
const cpuRecords = new Map<string, { rate: number; text: string }>();

/**
 * Keeps what one round measured (`results`: each client's [ms, CPU µs];
 * `serverCpu`: the server process's CPU µs over the same window) and
 * returns its rate: (clients x calls) / the slowest client's time.
 */
function record(
  kind: string,
  clients: number,
  calls: number,
  inFlight: number,
  results: [number, number][],
  serverCpu: number,
): number {
  const total = clients * calls;
  const rate = total / (Math.max(...results.map(([ms]) => ms)) / 1000);
  const client = results.reduce((sum, [, cpu]) => sum + cpu, 0) / total;
  const key = `${clients}x${inFlight} ${kind}`;
  if ((cpuRecords.get(key)?.rate ?? 0) < rate) {
    cpuRecords.set(key, {
      rate,
      text: `${(serverCpu / total).toFixed(1)} / ${client.toFixed(1)}`,
    });
  }
  return rate;
}

/** Python: `n` sequential `get`s, or spread over `in_flight` threads. */
const PY_LOOPS = `import threading

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
`;

const PYTHON_SOURCE = `
import sys, time, threading
from multiprocessing import Manager, Process

${PY_LOOPS}
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

/** Runs a Python program; its last stdout line is a number. */
async function runPython(
  args: string[],
  input?: Record<string, unknown>,
): Promise<number> {
  const child = new Deno.Command(options.python!, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(input) + "\n"));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) throw new Error("The Python benchmark failed");
  return Number(new TextDecoder().decode(out.stdout).trim());
}

function python(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  return runPython([
    "-c",
    PYTHON_SOURCE,
    String(clients),
    String(calls),
    String(inFlight),
  ]);
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

${PY_LOOPS}
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
const HEX_KEY = Array.from(
  new TextEncoder().encode(BENCH_KEY),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

/** Python clients on a weft manager (Python's protocol). */
async function pythonOnWeft(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  await using manager = await Manager.serve({ port: 0, authkey: BENCH_KEY });
  await manager.dict({ key: 1 }, { name: "bench_dict" });
  await manager.Barrier(clients, { name: "bench_barrier" });
  await manager.list([], { name: "bench_times" });
  const { port } = manager.address as { port: number };
  return await runPython(["-c", PYTHON_CLIENTS], {
    port,
    key: HEX_KEY,
    clients,
    calls,
    in_flight: inFlight,
  });
}

/** The same Python clients on CPython's own SyncManager server. */
async function pythonOnPython(
  clients: number,
  calls: number,
  inFlight: number,
): Promise<number> {
  const server = new Deno.Command(options.python!, {
    args: ["-c", PYTHON_SERVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const writer = server.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify({ key: HEX_KEY, clients }) + "\n",
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
    return await runPython(["-c", PYTHON_CLIENTS], {
      port: Number(line.trim()),
      key: HEX_KEY,
      clients,
      calls,
      in_flight: inFlight,
    });
  } finally {
    server.kill("SIGKILL");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

type Case = (clients: number, calls: number, inFlight: number) => Promise<
  number
>;

/**
 * One table: each row runs every case `rounds` times, interleaved (a burst
 * of load from elsewhere hits all of them alike), and keeps each case's
 * best round. Prints the rows, each case over the first, and returns the
 * best rates of the rows.
 */
async function table(
  title: string,
  heads: [string, string, ...string[]],
  cases: Case[],
  rows: [number, number][],
  calls: number,
  rounds: number,
): Promise<number[][]> {
  console.log(`\n${title}`);
  const ratios = heads.slice(3).map((head) => `${head} / ${heads[2]}`);
  console.log(`| ${[...heads, ...ratios].join(" | ")} |`);
  console.log(`|${" ---: |".repeat(heads.length + ratios.length)}`);
  const results: number[][] = [];
  for (const [clients, inFlight] of rows) {
    const perClient = Math.round(calls / clients / inFlight) * inFlight;
    const best = cases.map(() => 0);
    for (let round = 0; round < rounds; round++) {
      for (const [i, run] of cases.entries()) {
        best[i] = Math.max(best[i], await run(clients, perClient, inFlight));
      }
    }
    const cells = best.map((rate) => String(Math.round(rate)));
    const over = best.slice(1).map((rate) => `${(rate / best[0]).toFixed(2)}x`);
    console.log(
      `| ${clients} | ${inFlight} | ${[...cells, ...over].join(" | ")} |`,
    );
    results.push(best);
  }
  return results;
}

async function main(): Promise<void> {
  const calls = Number(options.calls);
  const rounds = Number(options.rounds);
  const version = new TextDecoder().decode(
    (await new Deno.Command(options.python!, {
      args: ["--version"],
      stdout: "piped",
    }).output()).stdout,
  ).trim();
  let load = "?";
  try {
    load = Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
  } catch {
    // needs --allow-sys=loadavg
  }
  console.log(
    `weft on Deno ${Deno.version.deno} vs ${version}; ${calls} calls per row, best of ${rounds} interleaved rounds; load average ${load}`,
  );
  if (options.only === "weft4") {
    console.log(
      `4 client processes: ${Math.round(await weft(4, calls, 1))} calls/s`,
    );
    return;
  }
  const onlyWeft = options.only === "weft" || options.only === "platform";
  // `--rows 4x1,1x8`: only these (client processes x calls in flight) rows
  const rows = options.rows?.split(",").map((row) =>
    row.split("x").map(Number) as [number, number]
  );
  const [[rawRate, weftRate]] = await table(
    "Against the platform: raw Deno 64 B ping-pong over TCP (an echo server on one event loop, client processes with one connection per call in flight) vs weft Manager dict.get from client processes (round trips/s)",
    ["client processes", "calls in flight each", "raw Deno", "weft"],
    [raw, weft],
    rows ?? (onlyWeft ? [[1, 1]] : [[1, 1], [4, 1], [1, 8]]),
    calls,
    rounds,
  );
  console.log(
    `weft Manager sequential dict.get = ${
      (weftRate / rawRate).toFixed(2)
    }x a raw Deno TCP round trip`,
  );
  console.log(
    `CPU per call, server process / client processes (µs, round with the best rate; the weft server's is read from /proc in 10 ms ticks): ${
      [...cpuRecords].map(([key, { text }]) => `${key} ${text}`).join("; ")
    }`,
  );
  if (options.only === "platform") return;
  const pairs: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const [r, w] = await paired(calls);
    pairs.push(`${Math.round(r)} / ${Math.round(w)} = ${(w / r).toFixed(2)}x`);
  }
  console.log(
    `Sequential, from one process alternating 50-call chunks (raw Deno rt/s / weft dict.get calls/s = ratio), per round: ${
      pairs.join("; ")
    }`,
  );
  if (onlyWeft) return;
  await table(
    `Manager dict.get round trips/s: weft vs ${version}'s Manager`,
    ["client processes", "calls in flight each", "Python", "weft"],
    [python, weft],
    [[1, 1], [4, 1], [1, 8]],
    calls,
    rounds,
  );
  await table(
    `${version} SyncManager clients, dict.get round trips/s: on CPython's server vs on a weft server`,
    ["client processes", "threads each", "Python server", "weft server"],
    [pythonOnPython, pythonOnWeft],
    [[1, 1], [4, 1], [1, 8]],
    calls,
    rounds,
  );
}

const PINNED_ENV = "WEFT_BENCH_PINNED";

/**
 * `--pin CPU`: runs this bench again under `taskset -c CPU` (its child
 * processes inherit the affinity) and returns its exit code; undefined when
 * this process should run the bench itself (no --pin, already pinned, or no
 * taskset).
 */
async function runPinned(cpu: string): Promise<number | undefined> {
  if (Deno.env.get(PINNED_ENV) !== undefined) {
    console.log(`--pin: running pinned to CPU ${cpu} (taskset -c ${cpu})`);
    return undefined;
  }
  if (!/^\d+$/.test(cpu)) {
    throw new TypeError(`Cannot pin: --pin takes a CPU number, got "${cpu}"`);
  }
  const args = [
    "-c",
    cpu,
    Deno.execPath(),
    "run",
    ...PERMISSIONS,
    "--allow-write",
    "--allow-sys=loadavg",
    import.meta.filename!,
    ...Deno.args,
  ];
  try {
    const { code } = await new Deno.Command("taskset", {
      args,
      env: { [PINNED_ENV]: cpu },
      stdin: "null",
    }).spawn().status;
    return code;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.log("--pin: taskset not found; running unpinned");
    return undefined;
  }
}

if (options.client) await client();
else if (options["raw-echo"] !== undefined) {
  await echo(
    await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(options["raw-echo"]),
    }),
  );
} else if (options["raw-client"] !== undefined) {
  const [port, calls, inFlight] = options["raw-client"].split(",").map(Number);
  await rawClient(port, calls, inFlight);
} else {
  const code = options.pin === undefined
    ? undefined
    : await runPinned(options.pin);
  if (code === undefined) await main();
  else Deno.exit(code);
}
