// The tutorial's Manager program with a mixed fleet: one weft Manager, 10
// processes on one dict and one list — 5 CPython processes (plain
// multiprocessing.managers clients, mixed_worker.py) and 5 Deno processes
// (weft Processes, mixed_task.ts). Every process does `dic[i] = '1'` and
// `li.append(i)`; the parent prints both, as the tutorial does.
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-run --allow-env \
//     examples/manager_shared/mixed.ts [--python python3]
//
// The manager serves both protocols on one port: after the authkey
// handshake a Python client's first message is a pickle, a weft client's a
// framed call. Python finds the objects by the names given here.

import { parseArgs } from "node:util";
import { Manager, Process } from "../../ipc/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { python: { type: "string", default: "python3" } },
});

const authkey = crypto.getRandomValues(new Uint8Array(32));
await using manager = await Manager.serve({ port: 0, authkey });
const dic = await manager.dict<number, string>({}, { name: "dic" });
const li = await manager.list<number>([0, 1, 2, 3, 4], { name: "li" });
const { hostname, port } = manager.address as {
  hostname: string;
  port: number;
};
const hex = Array.from(authkey, (b) => b.toString(16).padStart(2, "0")).join(
  "",
);

async function python(i: number): Promise<void> {
  const child = new Deno.Command(values.python!, {
    args: [new URL("./mixed_worker.py", import.meta.url).pathname],
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      JSON.stringify({ hostname, port, authkey: hex, i }) + "\n",
    ),
  );
  await writer.close();
  const { code } = await child.status;
  if (code !== 0) throw new Error(`python worker ${i} exited with ${code}`);
}

async function deno(i: number): Promise<void> {
  const process = new Process({
    module: new URL("./mixed_task.ts", import.meta.url),
    fn: "Foo",
    args: [dic, li, i],
  });
  await process.start();
  await process.join();
  if (process.exitCode !== 0) throw new Error(`deno worker ${i} failed`);
}

await Promise.all(
  Array.from({ length: 10 }, (_, i) => (i < 5 ? python(i) : deno(i))),
);
const entries = (await dic.entries()).sort((a, b) => a[0] - b[0]);
console.log(
  `{${entries.map(([k, v]) => `${k}: '${v}'`).join(", ")}}`,
);
console.log(`[${(await li.toArray()).join(", ")}]`);
