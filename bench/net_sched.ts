/**
 * For bench/net_compare.ts: where this process's worker threads spent a
 * measurement, from Linux's per-thread scheduler statistics
 * (`/proc/<pid>/task/<tid>/schedstat`: nanoseconds on a CPU, nanoseconds
 * runnable but waiting for one). Deno names a Worker's thread `worker-N`.
 *
 * Over a window of `wall` seconds, each worker thread was either running,
 * runnable but kept off the CPU by other programs (the machine's share), or
 * idle: blocked with nothing to do. Idle time in a CPU-bound server is the
 * server's own loss (no request had reached that thread); waiting time is
 * the machine's.
 */

/** Run and wait nanoseconds per thread id. */
export type Sched = Map<string, { name: string; run: number; wait: number }>;

// Deno allows /proc/<pid> only with --allow-all, so a shell reads it (--allow-run).
const SCRIPT = `for t in /proc/${Deno.pid}/task/*; do ` +
  `printf '%s|%s|%s\\n' "\${t##*/}" "$(cat $t/comm)" "$(cat $t/schedstat)"; done`;

/** A snapshot of every thread of this process (empty where it cannot be read). */
export function snapshot(): Sched {
  const out: Sched = new Map();
  try {
    const { stdout } = new Deno.Command("sh", { args: ["-c", SCRIPT] })
      .outputSync();
    for (const line of new TextDecoder().decode(stdout).split("\n")) {
      const [tid, name, stat] = line.split("|");
      if (!stat) continue;
      const [run, wait] = stat.trim().split(" ").map(Number);
      if (Number.isFinite(run) && Number.isFinite(wait)) {
        out.set(tid, { name, run, wait });
      }
    }
  } catch {
    // no shell or no /proc: no statistics
  }
  return out;
}

let available: boolean | undefined;

/** Whether per-thread scheduler statistics can be read here. */
export function schedAvailable(): boolean {
  return available ??= snapshot().size > 0;
}

/** Shares of `wall` seconds, summed over the threads: running, waiting for a CPU, idle. */
export interface ThreadShares {
  threads: number;
  run: number;
  wait: number;
  idle: number;
}

/**
 * How the threads whose name matches `pattern` and that lived through both
 * snapshots spent `wall` seconds, as fractions per thread (each sums to 1
 * with the other two).
 */
export function shares(
  before: Sched,
  after: Sched,
  wall: number,
  pattern: RegExp,
): ThreadShares {
  let threads = 0;
  let run = 0;
  let wait = 0;
  for (const [tid, end] of after) {
    const start = before.get(tid);
    if (!start || !pattern.test(end.name)) continue;
    threads++;
    run += (end.run - start.run) / 1e9;
    wait += (end.wait - start.wait) / 1e9;
  }
  if (threads === 0) return { threads, run: 0, wait: 0, idle: 0 };
  const runShare = run / (threads * wall);
  const waitShare = wait / (threads * wall);
  return {
    threads,
    run: runShare,
    wait: waitShare,
    idle: Math.max(0, 1 - runShare - waitShare),
  };
}

/** Shares of `wall` seconds the main thread (whose id is the process id) ran and waited for a CPU. */
export function mainThread(
  before: Sched,
  after: Sched,
  wall: number,
): { run: number; wait: number } {
  const tid = String(Deno.pid);
  const start = before.get(tid);
  const end = after.get(tid);
  if (!start || !end) return { run: 0, wait: 0 };
  return {
    run: (end.run - start.run) / 1e9 / wall,
    wait: (end.wait - start.wait) / 1e9 / wall,
  };
}

/** `"run 97% / wait 2% / idle 1%"`. */
export function describe(s: ThreadShares): string {
  if (s.threads === 0) return "scheduler statistics unavailable";
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `run ${pct(s.run)} / wait ${pct(s.wait)} / idle ${pct(s.idle)}`;
}
