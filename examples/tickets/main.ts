// Ticket grabbing: 10 processes race for the last ticket in a JSON file
// (the tutorials' multiprocessing.Lock lesson).
//
// Each buyer is a separate Deno process (weft's Process running `buy` in
// task.ts): it reads the count, pauses, and writes the count minus one.
// Without a lock, several buyers read "1 left" before anyone writes, and
// the one ticket is sold several times. With a lock, exactly one wins.
//
// The lock is a cross-PROCESS lock: weft's Manager runs a small server
// process that owns a Lock, and every buyer gets a proxy to it as an
// argument (Python's `Manager().Lock()`). weft's concurrency Lock lives in a
// SharedArrayBuffer, which only threads of one process share — it cannot
// cross to another process, and weft refuses to pass it to one.
//
//   deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 \
//     --allow-env examples/tickets/main.ts [--buyers 10] [--tickets 1] [--no-lock]
//
// (--allow-run and --allow-net=127.0.0.1 start the Manager and the buyer
// processes and talk to them; --allow-read/--allow-write for the ticket file
// in a temporary folder.) No partner program; the child side is task.ts.

import { parseArgs } from "node:util";
import { Manager, Process } from "../../ipc/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    buyers: { type: "string", default: "10" },
    tickets: { type: "string", default: "1" },
    "no-lock": { type: "boolean", default: false },
  },
});
const buyers = Number(values.buyers);
const tickets = Number(values.tickets);
const useLock = !values["no-lock"];

const dir = await Deno.makeTempDir({ prefix: "tickets_" });
const path = `${dir}/tickets.json`;
await Deno.writeTextFile(path, JSON.stringify({ tickets, soldTo: [] }));
try {
  await using manager = await Manager.start();
  const lock = useLock ? await manager.Lock() : null;
  const go = await manager.Event();
  console.log(
    `${buyers} buyers race for ${tickets} ticket(s) ${
      useLock ? "with a Manager Lock" : "WITHOUT a lock"
    }`,
  );
  const processes = Array.from({ length: buyers }, (_, i) =>
    new Process({
      module: new URL("./task.ts", import.meta.url),
      fn: "buy",
      args: [path, go, lock, `buyer-${i + 1}`],
      name: `buyer-${i + 1}`,
    }));
  try {
    await Promise.all(processes.map((p) => p.start()));
    await go.set(); // all buyers are running: go!
    await Promise.all(processes.map((p) => p.join()));
  } finally {
    for (const p of processes) if (p.isAlive()) p.kill();
  }
  const failed = processes.filter((p) => p.exitCode !== 0);
  if (failed.length) {
    throw new Error(`${failed.length} buyer process(es) failed`);
  }
  const result = JSON.parse(await Deno.readTextFile(path));
  const receipts = await Deno.readTextFile(`${path}.receipts`).catch(() => "");
  const sold = receipts.split("\n").filter(Boolean);
  console.log(
    `file says ${result.tickets} left; receipts: ${sold.join(", ") || "none"}`,
  );
  if (sold.length === tickets) {
    console.log(`result: exactly ${sold.length} ticket(s) sold, as it must be`);
  } else {
    console.log(
      `result: ${sold.length} sales of ${tickets} ticket(s): the race oversold`,
    );
    if (useLock) Deno.exitCode = 1;
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
