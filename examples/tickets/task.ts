// Child-process side of examples/tickets/main.ts: one buyer trying to get
// a ticket. Runs in its own Deno process (a weft Process).

import type { EventProxy, LockProxy } from "../../ipc/mod.ts";

interface TicketFile {
  tickets: number;
  soldTo: string[];
}

/**
 * Reads the ticket count, thinks for a moment (the window in which another
 * process could read the same count), and buys if one is left. With a
 * `lock` the whole read-think-write is one critical section across all
 * processes; with `null` it is the tutorial's race. `go` is a starting
 * gun, so that slow process start-up does not serialize the buyers.
 */
export async function buy(
  path: string,
  go: EventProxy,
  lock: LockProxy | null,
  buyer: string,
): Promise<void> {
  await go.wait(); // everyone starts together: a fair race
  if (lock) await lock.acquire();
  try {
    const data = JSON.parse(await Deno.readTextFile(path)) as TicketFile;
    console.log(`${buyer} sees ${data.tickets} ticket(s) left`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // think time
    if (data.tickets > 0) {
      data.tickets--;
      data.soldTo.push(buyer);
      // Write-then-rename: a reader sees the old file or the new one, never
      // half of one (the race this example shows is the lost update).
      await Deno.writeTextFile(`${path}.${buyer}.tmp`, JSON.stringify(data));
      await Deno.rename(`${path}.${buyer}.tmp`, path);
      // The buyer's own receipt (an O_APPEND write of one short line), so
      // the main process can count sales even when the race loses some.
      await Deno.writeTextFile(`${path}.receipts`, `${buyer}\n`, {
        append: true,
      });
      console.log(`${buyer} bought a ticket`);
    } else {
      console.log(`${buyer}: sold out`);
    }
  } finally {
    if (lock) await lock.release();
  }
}
