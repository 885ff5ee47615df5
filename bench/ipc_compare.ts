// Round trips/s and MB/s for weft's Pipe (between workers, between
// processes), TCP Connection (Listener <-> Client in a child process) and
// sequential Manager dict.get calls, side by side with Python's
// multiprocessing.Pipe (threads, processes), connection.Listener/Client and
// Manager, and with raw Deno ping-pong (plain read/write of 64 B between
// two processes over TCP and over a Unix socket, no framing) as the
// platform's own limit, all in one run. Also messages/s with 16 messages
// in flight (sent, then their echoes read) against Python doing the same.
// Prints three ratio tables.
//
//   deno run --allow-net=127.0.0.1,localhost --allow-read --allow-write \
//     --allow-run --allow-env --allow-sys bench/ipc_compare.ts [--quick] [--rounds 3] \
//     [--pin CPU]
//
// `--pin CPU` (e.g. `--pin 1`): re-runs the bench under `taskset -c CPU`, so
// that it, its workers and every process it starts share that one CPU; it
// prints whether it could (taskset found) or not (then it runs unpinned).
// Pinned figures are steadier on a small, shared machine (no cross-core
// wake-ups), so two trees can be compared run after run.
//
// (A plain --allow-net adds the raw Unix-socket reference, and lets a Pipe
// passed to a Process meet its peer over a Unix socket instead of TCP; the
// tables say which one was used.) Each case runs
// once per round, interleaved with the others; the table keeps each case's
// best round.
//
// Python: python3.12 (or python3) from PATH/pyenv; its numbers come from a
// script on stdin that prints JSON.
import { Thread } from "../concurrency/thread.ts";
import {
  type Connection,
  Listener,
  Manager,
  Pipe,
  Process,
} from "../ipc/mod.ts";
// which socket a process Pipe met over (reported with the tables)
import { lastUnixMeeting } from "../ipc/_relay.ts";

const quick = Deno.args.includes("--quick");
const roundsAt = Deno.args.indexOf("--rounds");
const ROUNDS = roundsAt >= 0 ? Number(Deno.args[roundsAt + 1]) : quick ? 1 : 3;
const RT_COUNT = quick ? 500 : 3000;
/**
 * Round trips before each timed run, for weft and raw Deno alike, so both
 * are measured with their code optimized (a few hundred leave weft's larger
 * call path partly unoptimized, which once read as a 10 % slower manager).
 */
const WARMUP = quick ? 500 : 10_000;
const RT_SIZE = 64;
const BULK_SIZE = 1 << 20;
const BULK_COUNT = quick ? 16 : 64;
const TASKS = new URL("./ipc_tasks.ts", import.meta.url);

// `--pin CPU`: this bench again under `taskset -c CPU` (children inherit it)
const pinAt = Deno.args.indexOf("--pin");
if (pinAt >= 0) {
  const cpu = Deno.args[pinAt + 1] ?? "";
  if (!/^\d+$/.test(cpu)) {
    throw new TypeError(`Cannot pin: --pin takes a CPU number, got "${cpu}"`);
  }
  if (Deno.env.get("WEFT_BENCH_PINNED") !== undefined) {
    console.log(`--pin: running pinned to CPU ${cpu} (taskset -c ${cpu})`);
  } else {
    const net = Deno.permissions.querySync({ name: "net" }).state === "granted"
      ? "--allow-net"
      : "--allow-net=127.0.0.1,localhost";
    let code: number | undefined;
    try {
      ({ code } = await new Deno.Command("taskset", {
        args: [
          "-c",
          cpu,
          Deno.execPath(),
          "run",
          net,
          "--allow-read",
          "--allow-write",
          "--allow-run",
          "--allow-env",
          "--allow-sys",
          import.meta.filename!,
          ...Deno.args,
        ],
        env: { WEFT_BENCH_PINNED: cpu },
        stdin: "null",
      }).spawn().status);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      console.log("--pin: taskset not found; running unpinned");
    }
    if (code !== undefined) Deno.exit(code);
  }
}

interface Result {
  rtPerSec: number;
  /** Messages echoed per second with WINDOW of them in flight. */
  inflightPerSec?: number;
  mbPerSec: number;
}

/** Messages in flight in the pipelined case. */
const WINDOW = 16;

async function measure(conn: Connection): Promise<Result> {
  const small = new Uint8Array(RT_SIZE).fill(1);
  for (let i = 0; i < WARMUP; i++) {
    await conn.sendBytes(small);
    await conn.recvBytes();
  }
  let t0 = performance.now();
  for (let i = 0; i < RT_COUNT; i++) {
    await conn.sendBytes(small);
    await conn.recvBytes();
  }
  const rtPerSec = RT_COUNT / ((performance.now() - t0) / 1000);
  console.error(`  ${rtPerSec.toFixed(0)} round trips/s`);
  // WINDOW messages sent, then their WINDOW echoes read
  const burst = async () => {
    const sent: Promise<void>[] = [];
    for (let k = 0; k < WINDOW; k++) sent.push(conn.sendBytes(small));
    for (let k = 0; k < WINDOW; k++) await conn.recvBytes();
    await Promise.all(sent);
  };
  for (let i = 0; i < 50; i++) await burst();
  t0 = performance.now();
  for (let i = 0; i < RT_COUNT / WINDOW; i++) await burst();
  const inflightPerSec = RT_COUNT / ((performance.now() - t0) / 1000);
  console.error(
    `  ${inflightPerSec.toFixed(0)} messages/s, ${WINDOW} in flight`,
  );
  const big = new Uint8Array(BULK_SIZE).fill(2);
  await conn.sendBytes(big);
  await conn.recvBytes();
  t0 = performance.now();
  for (let i = 0; i < BULK_COUNT; i++) {
    await conn.sendBytes(big);
    await conn.recvBytes();
  }
  const mbPerSec = (BULK_COUNT * BULK_SIZE / 2 ** 20) /
    ((performance.now() - t0) / 1000);
  return { rtPerSec, inflightPerSec, mbPerSec };
}

async function weftWorkers(): Promise<Result> {
  const [here, there] = Pipe();
  const t = new Thread({ module: TASKS, fn: "echoBytes", args: [there] });
  t.start();
  try {
    return await measure(here);
  } finally {
    here.close();
    await t.join();
  }
}

let pipeVia: "tcp" | "unix" = "tcp";

// The child of the TCP case may not use the Unix socket, so its Pipe
// falls back to TCP (the path taken without a plain --allow-net).
const TCP_CHILD = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
];

async function weftProcesses(tcpOnly = false): Promise<Result> {
  const [here, there] = Pipe();
  const p = new Process({
    module: TASKS,
    fn: "echoBytes",
    args: [there],
    permissions: tcpOnly ? TCP_CHILD : undefined,
  });
  await p.start();
  try {
    await here.sendBytes(new Uint8Array(1)); // met once this comes back
    await here.recvBytes();
    const via = lastUnixMeeting()?.transport ?? "tcp";
    if (tcpOnly && via !== "tcp") throw new Error("expected the TCP path");
    if (!tcpOnly) pipeVia = via;
    return await measure(here);
  } finally {
    here.close();
    await p.join();
  }
}

/** A small object echoed with send/recv (serializer + transport). */
const VALUE = { id: 7, op: "get", args: ["key", 1.5, true], meta: null };

async function weftValues(): Promise<number> {
  const [here, there] = Pipe();
  const p = new Process({ module: TASKS, fn: "echoValues", args: [there] });
  await p.start();
  try {
    for (let i = 0; i < WARMUP; i++) {
      await here.send(VALUE);
      await here.recv();
    }
    const t0 = performance.now();
    for (let i = 0; i < RT_COUNT; i++) {
      await here.send(VALUE);
      await here.recv();
    }
    const rt = RT_COUNT / ((performance.now() - t0) / 1000);
    console.error(`  ${rt.toFixed(0)} round trips/s`);
    return rt;
  } finally {
    here.close();
    await p.join();
  }
}

async function weftTcp(): Promise<Result> {
  const authkey = crypto.getRandomValues(new Uint8Array(32));
  using listener = new Listener({
    address: { hostname: "127.0.0.1", port: 0 },
    authkey,
  });
  const p = new Process({
    module: TASKS,
    fn: "tcpEcho",
    args: [listener.address, authkey],
  });
  await p.start();
  const conn = await listener.accept();
  try {
    return await measure(conn);
  } finally {
    conn.close();
    await p.join();
  }
}

/** Raw Deno ping-pong of RT_SIZE bytes with a child process. */
async function rawPingPong(kind: "tcp" | "unix"): Promise<Result> {
  const dir = kind === "unix" ? await Deno.makeTempDir() : undefined;
  const listener = kind === "unix"
    ? Deno.listen({ transport: "unix", path: `${dir}/raw.sock` })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = kind === "unix"
    ? { path: `${dir}/raw.sock` }
    : { port: (listener.addr as Deno.NetAddr).port };
  const p = new Process({
    module: TASKS,
    fn: "rawEcho",
    args: [address, RT_SIZE],
  });
  await p.start();
  const conn = await listener.accept();
  if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  const out = new Uint8Array(RT_SIZE).fill(1);
  const buf = new Uint8Array(RT_SIZE);
  const once = async () => {
    let sent = 0;
    while (sent < RT_SIZE) sent += await conn.write(out.subarray(sent));
    let got = 0;
    while (got < RT_SIZE) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) throw new Error("raw echo ended");
      got += n;
    }
  };
  try {
    for (let i = 0; i < WARMUP; i++) await once();
    const t0 = performance.now();
    for (let i = 0; i < RT_COUNT; i++) await once();
    const rt = RT_COUNT / ((performance.now() - t0) / 1000);
    console.error(`  ${rt.toFixed(0)} round trips/s`);
    // WINDOW chunks in one write, then their echoes (the child still
    // answers chunk by chunk, one read and one write each)
    const outs = new Uint8Array(RT_SIZE * WINDOW).fill(1);
    const ins = new Uint8Array(RT_SIZE * WINDOW);
    const burst = async () => {
      let sent = 0;
      while (sent < outs.length) sent += await conn.write(outs.subarray(sent));
      let got = 0;
      while (got < ins.length) {
        const n = await conn.read(ins.subarray(got));
        if (n === null) throw new Error("raw echo ended");
        got += n;
      }
    };
    for (let i = 0; i < 50; i++) await burst();
    const t1 = performance.now();
    for (let i = 0; i < RT_COUNT / WINDOW; i++) await burst();
    const inflightPerSec = RT_COUNT / ((performance.now() - t1) / 1000);
    console.error(
      `  ${inflightPerSec.toFixed(0)} chunks/s, ${WINDOW} in flight`,
    );
    return { rtPerSec: rt, inflightPerSec, mbPerSec: 0 };
  } finally {
    conn.close();
    listener.close();
    await p.join();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Raw reference between threads: Atomics ping-pong with a worker (no
 * framing, no copy), both sides sleeping in `Atomics.waitAsync` after
 * spinning up to `spinMs`.
 */
async function rawAtomics(spinMs: number): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const v = new Int32Array(sab);
  const t = new Thread({
    module: TASKS,
    fn: "atomicsEcho",
    args: [sab, spinMs],
  });
  t.start();
  const keep = setInterval(() => {}, 1 << 30);
  const once = async (i: number) => {
    Atomics.store(v, 0, i);
    Atomics.notify(v, 0);
    const until = performance.now() + spinMs;
    while (Atomics.load(v, 1) !== i) {
      if (performance.now() < until) continue;
      const r = Atomics.waitAsync(v, 1, i - 1);
      if (r.async) await r.value;
    }
  };
  try {
    let i = 0;
    for (; i < WARMUP; i++) await once(i + 1);
    const t0 = performance.now();
    for (let k = 0; k < RT_COUNT; k++) await once(++i);
    const rt = RT_COUNT / ((performance.now() - t0) / 1000);
    console.error(`  ${rt.toFixed(0)} round trips/s`);
    return rt;
  } finally {
    Atomics.store(v, 0, -1);
    Atomics.notify(v, 0);
    clearInterval(keep);
    await t.join();
  }
}

/** Sequential dict.get calls from this process to a Manager process. */
async function weftManager(): Promise<number> {
  await using manager = await Manager.start();
  const dict = await manager.dict<string, number>({ key: 1 });
  for (let i = 0; i < WARMUP; i++) await dict.get("key");
  const t0 = performance.now();
  for (let i = 0; i < RT_COUNT; i++) await dict.get("key");
  const rt = RT_COUNT / ((performance.now() - t0) / 1000);
  console.error(`  ${rt.toFixed(0)} calls/s`);
  return rt;
}

/** Manager frames ping-ponged over `SocketChannel` alone (no server). */
async function managerTransport(): Promise<number> {
  const { SocketChannel } = await import("../ipc/_manager_transport.ts");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = new Process({
    module: TASKS,
    fn: "channelEcho",
    args: [(listener.addr as Deno.NetAddr).port],
  });
  await p.start();
  const channel = new SocketChannel(await listener.accept());
  const body = new Uint8Array(RT_SIZE).fill(1);
  const once = async (id: number) => {
    channel.send(id, body);
    await channel.recv();
  };
  try {
    for (let i = 0; i < WARMUP; i++) await once(i);
    const t0 = performance.now();
    for (let i = 0; i < RT_COUNT; i++) await once(i);
    const rt = RT_COUNT / ((performance.now() - t0) / 1000);
    console.error(`  ${rt.toFixed(0)} round trips/s`);
    return rt;
  } finally {
    channel.close();
    listener.close();
    await p.join();
  }
}

const PY = `
import json, sys, time, threading
from multiprocessing import Pipe, Process
from multiprocessing.connection import Listener, Client
RT_COUNT, RT_SIZE, BULK_SIZE, BULK_COUNT, WINDOW = json.loads(sys.stdin.readline())

def echo(conn):
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass

def echo_child(parent_end, conn):
    parent_end.close()  # else the parent's close() never reaches us as EOF
    echo(conn)

def echo_values(parent_end, conn):
    parent_end.close()
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass

def tcp_echo(address, authkey):
    echo(Client(address, authkey=authkey))

def measure(conn):
    small = b"\\x01" * RT_SIZE
    for _ in range(50):
        conn.send_bytes(small); conn.recv_bytes()
    t0 = time.perf_counter()
    for _ in range(RT_COUNT):
        conn.send_bytes(small); conn.recv_bytes()
    rt = RT_COUNT / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(RT_COUNT // WINDOW):
        for _ in range(WINDOW): conn.send_bytes(small)
        for _ in range(WINDOW): conn.recv_bytes()
    inflight = RT_COUNT / (time.perf_counter() - t0)
    big = b"\\x02" * BULK_SIZE
    conn.send_bytes(big); conn.recv_bytes()
    t0 = time.perf_counter()
    for _ in range(BULK_COUNT):
        conn.send_bytes(big); conn.recv_bytes()
    mb = BULK_COUNT * BULK_SIZE / 2**20 / (time.perf_counter() - t0)
    return {"rtPerSec": rt, "inflightPerSec": inflight, "mbPerSec": mb}

if __name__ == "__main__":
    out = {}
    a, b = Pipe()
    t = threading.Thread(target=echo, args=(b,)); t.start()
    out["threads"] = measure(a); a.close(); t.join()
    a, b = Pipe()
    p = Process(target=echo_child, args=(a, b)); p.start(); b.close()
    out["processes"] = measure(a); a.close(); p.join()
    value = {"id": 7, "op": "get", "args": ["key", 1.5, True], "meta": None}
    a, b = Pipe()
    p = Process(target=echo_values, args=(a, b)); p.start(); b.close()
    for _ in range(500):
        a.send(value); a.recv()
    t0 = time.perf_counter()
    for _ in range(RT_COUNT):
        a.send(value); a.recv()
    out["values"] = {"rtPerSec": RT_COUNT / (time.perf_counter() - t0), "mbPerSec": 0}
    a.close(); p.join()
    import os
    key = os.urandom(32)
    with Listener(("127.0.0.1", 0), authkey=key) as l:
        p = Process(target=tcp_echo, args=(l.address, key)); p.start()
        c = l.accept()
        out["tcp"] = measure(c); c.close(); p.join()
    from multiprocessing import Manager
    with Manager() as m:
        d = m.dict({"key": 1})
        for _ in range(200): d.get("key")
        t0 = time.perf_counter()
        for _ in range(RT_COUNT): d.get("key")
        out["manager"] = {"rtPerSec": RT_COUNT / (time.perf_counter() - t0), "mbPerSec": 0}
    print(json.dumps(out))
`;

async function python(): Promise<Record<string, Result> | undefined> {
  const candidates = [
    `${Deno.env.get("HOME")}/.pyenv/versions/3.12.1/bin/python3`,
    "python3",
  ];
  for (const exe of candidates) {
    try {
      const dir = await Deno.makeTempDir();
      const script = `${dir}/ipc_bench.py`;
      await Deno.writeTextFile(script, PY);
      const child = new Deno.Command(exe, {
        args: [script],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(
        new TextEncoder().encode(
          JSON.stringify([RT_COUNT, RT_SIZE, BULK_SIZE, BULK_COUNT, WINDOW]) +
            "\n",
        ),
      );
      await w.close();
      const out = await child.output();
      await Deno.remove(dir, { recursive: true });
      if (out.success) {
        const version = new TextDecoder().decode(
          (await new Deno.Command(exe, { args: ["--version"], stdout: "piped" })
            .output()).stdout,
        ).trim();
        console.log(`Python: ${version} (${exe})`);
        return JSON.parse(new TextDecoder().decode(out.stdout));
      }
    } catch {
      // try the next interpreter
    }
  }
  return undefined;
}

const progress = (what: string) => console.error(`measuring ${what}...`);
// Deno checks a Unix socket path as the net descriptor "unix:<path>": only
// a plain --allow-net covers it
const unixAllowed = Deno.permissions.querySync({ name: "net" }).state ===
  "granted";
const best = (a: Result | undefined, b: Result): Result =>
  a === undefined ? b : {
    rtPerSec: Math.max(a.rtPerSec, b.rtPerSec),
    inflightPerSec: Math.max(a.inflightPerSec ?? 0, b.inflightPerSec ?? 0),
    mbPerSec: Math.max(a.mbPerSec, b.mbPerSec),
  };
const rt = (n: number): Result => ({ rtPerSec: n, mbPerSec: 0 });
// Every case runs once per round, interleaved; each keeps its best round,
// so a burst of load from elsewhere hits weft, raw and Python alike.
let workers,
  processes,
  processesTcp: Result | undefined,
  values,
  tcp,
  manager,
  managerWire,
  rawTcp,
  rawUnix;
let rawSleep, rawSpin;
let py: Record<string, Result> | undefined;
for (let round = 1; round <= ROUNDS; round++) {
  console.error(`round ${round} of ${ROUNDS}`);
  progress("weft Pipe between workers");
  workers = best(workers, await weftWorkers());
  progress("weft Pipe between processes");
  processes = best(processes, await weftProcesses());
  if (unixAllowed) {
    progress("weft Pipe between processes, child limited to TCP");
    processesTcp = best(processesTcp, await weftProcesses(true));
  }
  progress("weft Pipe between processes, send/recv of a small object");
  values = best(values, rt(await weftValues()));
  progress("weft TCP");
  tcp = best(tcp, await weftTcp());
  progress("weft Manager dict.get (sequential)");
  manager = best(manager, rt(await weftManager()));
  progress("manager transport alone (SocketChannel frames, no server)");
  managerWire = best(managerWire, rt(await managerTransport()));
  progress("raw Atomics ping-pong with a worker (sleeping only)");
  rawSleep = best(rawSleep, rt(await rawAtomics(0)));
  progress("raw Atomics ping-pong with a worker (spin 50 µs, then sleep)");
  rawSpin = best(rawSpin, rt(await rawAtomics(0.05)));
  progress("raw Deno ping-pong over TCP");
  rawTcp = best(rawTcp, await rawPingPong("tcp"));
  if (unixAllowed) {
    progress("raw Deno ping-pong over a Unix socket");
    rawUnix = best(rawUnix, await rawPingPong("unix"));
  }
  progress("Python");
  const got = await python();
  if (got !== undefined) {
    py ??= {};
    for (const [k, v] of Object.entries(got)) py[k] = best(py[k], v);
  }
}
const rows: [string, Result, Result | undefined][] = [
  ["Pipe between workers (Python: threads)", workers!, py?.threads],
  [`Pipe between processes (over ${pipeVia})`, processes!, py?.processes],
  ...(processesTcp === undefined ? [] : [[
    "Pipe between processes (over tcp: child without Unix permission)",
    processesTcp,
    py?.processes,
  ] as [string, Result, Result | undefined]]),
  ["TCP Listener/Client (authkey), peer in a child process", tcp!, py?.tcp],
];
const f = (n: number | undefined) => n === undefined ? "-" : n.toFixed(0);
const r = (a: number, b: number | undefined) =>
  b === undefined ? "-" : `${(a / b).toFixed(2)}x`;
console.log(
  `\n${RT_COUNT} round trips of ${RT_SIZE} B; ${BULK_COUNT} round trips of 1 MiB (MB/s = MiB echoed per second)\n`,
);
console.log(
  "| case | weft rt/s | Python rt/s | ratio | weft MB/s | Python MB/s | ratio |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const [name, w, p] of rows) {
  console.log(
    `| ${name} | ${f(w.rtPerSec)} | ${f(p?.rtPerSec)} | ${
      r(w.rtPerSec, p?.rtPerSec)
    } | ${f(w.mbPerSec)} | ${f(p?.mbPerSec)} | ${r(w.mbPerSec, p?.mbPerSec)} |`,
  );
}
console.log(
  `| Pipe between processes, send()/recv() of a small object | ${
    f(values!.rtPerSec)
  } | ${f(py?.values?.rtPerSec)} | ${
    r(values!.rtPerSec, py?.values?.rtPerSec)
  } | - | - | - |`,
);
console.log(
  `| Manager dict.get, sequential, 1 client | ${f(manager!.rtPerSec)} | ${
    f(py?.manager?.rtPerSec)
  } | ${r(manager!.rtPerSec, py?.manager?.rtPerSec)} | - | - | - |`,
);
console.log(
  `\nCalls in flight: ${WINDOW} messages of ${RT_SIZE} B sent, then their ${WINDOW} echoes read (messages/s)\n`,
);
console.log("| case | weft msg/s | Python msg/s | ratio |");
console.log("|---|---:|---:|---:|");
for (const [name, w, p] of rows) {
  console.log(
    `| ${name} | ${f(w.inflightPerSec)} | ${f(p?.inflightPerSec)} | ${
      r(w.inflightPerSec!, p?.inflightPerSec)
    } |`,
  );
}
console.log(
  `| (raw Deno over TCP: ${WINDOW} chunks in one write, echoed chunk by chunk) | ${
    f(rawTcp!.inflightPerSec)
  } | - | - |`,
);
console.log(
  `| (raw Deno over a Unix socket${
    unixAllowed ? "" : ": needs a plain --allow-net"
  }, the same) | ${f(rawUnix?.inflightPerSec)} | - | - |`,
);
console.log(
  "\n(Python's TCP Listener/Client leave Nagle's algorithm on: each burst of small sends waits for a delayed ACK.)\n",
);
console.log(
  `\nAgainst the platform, same run: raw Deno ping-pong of ${RT_SIZE} B between two processes (plain read/write, no framing), and of a counter between this thread and a worker (Atomics only)\n`,
);
console.log("| case | weft rt/s | raw Deno rt/s | ratio |");
console.log("|---|---:|---:|---:|");
const raws: [string, number, number, string][] = [
  [
    "Pipe between workers",
    workers!.rtPerSec,
    rawSleep!.rtPerSec,
    "Atomics, sleeping only",
  ],
  [
    "Pipe between workers",
    workers!.rtPerSec,
    rawSpin!.rtPerSec,
    "Atomics, spin 50 µs then sleep",
  ],
  [
    `Pipe between processes (over ${pipeVia})`,
    processes!.rtPerSec,
    rawTcp!.rtPerSec,
    "TCP",
  ],
  ...(processesTcp === undefined ? [] : [[
    "Pipe between processes (over tcp: child without Unix permission)",
    processesTcp.rtPerSec,
    rawTcp!.rtPerSec,
    "TCP",
  ] as [string, number, number, string]]),
  ...(rawUnix === undefined ? [] : [[
    `Pipe between processes (over ${pipeVia})`,
    processes!.rtPerSec,
    rawUnix.rtPerSec,
    "Unix",
  ] as [string, number, number, string]]),
  ["TCP Listener/Client", tcp!.rtPerSec, rawTcp!.rtPerSec, "TCP"],
  ["Manager dict.get, sequential", manager!.rtPerSec, rawTcp!.rtPerSec, "TCP"],
  [
    "Manager transport alone (frames echoed, no server)",
    managerWire!.rtPerSec,
    rawTcp!.rtPerSec,
    "TCP",
  ],
];
for (const [name, w, raw, kind] of raws) {
  console.log(`| ${name} | ${f(w)} | ${f(raw)} (${kind}) | ${r(w, raw)} |`);
}
console.log(
  `| (raw Deno over a Unix socket${
    unixAllowed ? "" : ": needs a plain --allow-net"
  }) | - | ${f(rawUnix?.rtPerSec)} | - |`,
);
