/**
 * System calls per request of the 100 B request/response benchmark, for
 * raw Deno, weft and Node, each run alone under `strace -f -c` (Linux,
 * needs strace). Strict ping-pong on one connection is bounded by these:
 * every message costs its sender one write and its receiver one readiness
 * wait and one read, whatever runs above the socket.
 *
 *   deno run --allow-run --allow-read --allow-write --allow-env bench/net_syscalls.ts [--ms=2000] [--conns=1]
 *
 * Under strace everything runs several times slower; only the counts per
 * request mean something here, not the rates.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    ms: { type: "string", default: "2000" },
    conns: { type: "string", default: "1" },
  },
});
const here = (p: string) => new URL(p, import.meta.url).pathname;
const deno = Deno.execPath();

/** The calls that carry the traffic, by kind (Deno and Node name them differently). */
const KINDS: Record<string, string[]> = {
  write: ["write", "sendto", "writev", "sendmsg"],
  read: ["read", "recvfrom", "readv", "recvmsg"],
  wait: ["epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll"],
  futex: ["futex"],
};

async function traced(
  name: string,
  cmd: string[],
): Promise<Record<string, number>> {
  const out = await Deno.makeTempFile({ prefix: "weft-strace-" });
  try {
    const run = await new Deno.Command("strace", {
      args: ["-f", "-c", "-o", out, ...cmd],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!run.success) throw new Error(`${name}: exit ${run.code}`);
    const { ops } = JSON.parse(new TextDecoder().decode(run.stdout));
    const calls: Record<string, number> = {};
    for (const line of (await Deno.readTextFile(out)).split("\n")) {
      // % time  seconds  usecs/call  calls  [errors]  syscall
      const cols = line.trim().split(/\s+/);
      const syscall = cols[cols.length - 1];
      const count = Number(cols[3]);
      if (/^[a-z_0-9]+$/.test(syscall) && Number.isFinite(count)) {
        calls[syscall] = count;
      }
    }
    const perRequest: Record<string, number> = { requests: ops };
    for (const [kind, names] of Object.entries(KINDS)) {
      perRequest[kind] = names.reduce((n, s) => n + (calls[s] ?? 0), 0) / ops;
    }
    return perRequest;
  } finally {
    await Deno.remove(out);
  }
}

const { ms, conns } = values;
const contenders: Record<string, string[]> = {
  "raw Deno": [
    deno,
    "run",
    "--allow-net=127.0.0.1",
    here("./net_rr.ts"),
    "raw",
    conns,
    ms,
  ],
  "weft (reuseBuffer)": [
    deno,
    "run",
    "--allow-net=127.0.0.1",
    here("./net_rr.ts"),
    "reuse",
    conns,
    ms,
  ],
  "weft": [
    deno,
    "run",
    "--allow-net=127.0.0.1",
    here("./net_rr.ts"),
    "weft",
    conns,
    ms,
  ],
  "Node net": ["node", here("./net_peer_node.mjs"), "rr", conns, ms],
};
console.log(
  `100 B request/response, ${conns} connection(s), system calls per request (server and client sides together)\n`,
);
console.log("| contender | requests | write | read | epoll wait | futex |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [name, cmd] of Object.entries(contenders)) {
  const r = await traced(name, cmd);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `| ${name} | ${r.requests} | ${f(r.write)} | ${f(r.read)} | ${
      f(r.wait)
    } | ${f(r.futex)} |`,
  );
}
