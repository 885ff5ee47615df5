// Round trips/s and MB/s for weft's Pipe (between workers, between
// processes) and TCP Connection (Listener <-> Client in a child process),
// side by side with Python's multiprocessing.Pipe (threads, processes) and
// connection.Listener/Client, in one run. Prints a ratio table.
//
//   deno run --allow-net=127.0.0.1,localhost --allow-read --allow-write \
//     --allow-run --allow-env --allow-sys bench/ipc_compare.ts [--quick]
//
// Python: python3.12 (or python3) from PATH/pyenv; its numbers come from a
// script on stdin that prints JSON.
import { Thread } from "../concurrency/thread.ts";
import { type Connection, Listener, Pipe, Process } from "../ipc/mod.ts";

const quick = Deno.args.includes("--quick");
const RT_COUNT = quick ? 500 : 3000;
const RT_SIZE = 64;
const BULK_SIZE = 1 << 20;
const BULK_COUNT = quick ? 16 : 64;
const TASKS = new URL("./ipc_tasks.ts", import.meta.url);

interface Result {
  rtPerSec: number;
  mbPerSec: number;
}

async function measure(conn: Connection): Promise<Result> {
  const small = new Uint8Array(RT_SIZE).fill(1);
  for (let i = 0; i < 50; i++) { // warm-up
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
  return { rtPerSec, mbPerSec };
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

async function weftProcesses(): Promise<Result> {
  const [here, there] = Pipe();
  const p = new Process({ module: TASKS, fn: "echoBytes", args: [there] });
  await p.start();
  try {
    return await measure(here);
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

const PY = `
import json, sys, time, threading
from multiprocessing import Pipe, Process
from multiprocessing.connection import Listener, Client
RT_COUNT, RT_SIZE, BULK_SIZE, BULK_COUNT = json.loads(sys.stdin.readline())

def echo(conn):
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass

def echo_child(parent_end, conn):
    parent_end.close()  # else the parent's close() never reaches us as EOF
    echo(conn)

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
    big = b"\\x02" * BULK_SIZE
    conn.send_bytes(big); conn.recv_bytes()
    t0 = time.perf_counter()
    for _ in range(BULK_COUNT):
        conn.send_bytes(big); conn.recv_bytes()
    mb = BULK_COUNT * BULK_SIZE / 2**20 / (time.perf_counter() - t0)
    return {"rtPerSec": rt, "mbPerSec": mb}

if __name__ == "__main__":
    out = {}
    a, b = Pipe()
    t = threading.Thread(target=echo, args=(b,)); t.start()
    out["threads"] = measure(a); a.close(); t.join()
    a, b = Pipe()
    p = Process(target=echo_child, args=(a, b)); p.start(); b.close()
    out["processes"] = measure(a); a.close(); p.join()
    import os
    key = os.urandom(32)
    with Listener(("127.0.0.1", 0), authkey=key) as l:
        p = Process(target=tcp_echo, args=(l.address, key)); p.start()
        c = l.accept()
        out["tcp"] = measure(c); c.close(); p.join()
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
          JSON.stringify([RT_COUNT, RT_SIZE, BULK_SIZE, BULK_COUNT]) + "\n",
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
progress("weft Pipe between workers");
const workers = await weftWorkers();
progress("weft Pipe between processes");
const processes = await weftProcesses();
progress("weft TCP");
const tcp = await weftTcp();
progress("Python");
const weft = { workers, processes, tcp };
const py = await python();
const rows: [string, Result, Result | undefined][] = [
  ["Pipe between workers (Python: threads)", weft.workers, py?.threads],
  ["Pipe between processes", weft.processes, py?.processes],
  ["TCP Listener/Client (authkey), peer in a child process", weft.tcp, py?.tcp],
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
