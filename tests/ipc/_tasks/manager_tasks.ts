// Functions the manager tests run in child Deno processes.
import type {
  DictProxy,
  ListProxy,
  LockProxy,
  QueueProxy,
  ValueProxy,
} from "../../../ipc/manager_proxy.ts";
import { Manager } from "../../../ipc/manager.ts";
import type { Connection } from "../../../ipc/connection.ts";
import type { ManagerAddress } from "../../../ipc/manager.ts";

/** The tutorial: dict[i] = "1" and list.push(i). */
export async function tutorial(
  dict: DictProxy<number, string>,
  list: ListProxy<number>,
  i: number,
): Promise<void> {
  await dict.set(i, "1");
  await list.push(i);
}

/** n increments as read + write under the lock. */
export async function lockedIncrements(
  value: ValueProxy<number>,
  lock: LockProxy,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    try {
      const current = await value.get();
      await value.set(current + 1);
    } finally {
      await lock.release();
    }
  }
}

/** n atomic increments, no lock. */
export async function atomicIncrements(
  value: ValueProxy<number>,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) await value.increment();
}

/** The ticket-grabbing tutorial: returns true if this buyer got one. */
export async function buyTicket(
  tickets: ValueProxy<number>,
  lock: LockProxy,
  buyers: ListProxy<number>,
  me: number,
): Promise<boolean> {
  await lock.acquire();
  try {
    const left = await tickets.get();
    if (left <= 0) return false;
    await tickets.set(left - 1);
    await buyers.push(me);
    return true;
  } finally {
    await lock.release();
  }
}

/** Takes the lock, says so, then hangs until killed. */
export async function holdLockForever(
  lock: LockProxy,
  flags: DictProxy<string, boolean>,
): Promise<void> {
  await lock.acquire();
  await flags.set("held", true);
  await new Promise(() => setInterval(() => {}, 1000));
}

/** Connects to a served manager by address and adds `me` to a named list. */
export async function joinRemote(
  address: ManagerAddress,
  authkey: string,
  me: number,
): Promise<void> {
  await using manager = await Manager.connect({ address, authkey });
  const members = await manager.list<number>([], { name: "members" });
  await members.push(me);
}

/**
 * Serves a manager on 127.0.0.1, sends its port through `conn`, and serves
 * until the parent closes its end.
 */
export async function serveRemote(
  conn: Connection,
  authkey: string,
): Promise<void> {
  await using manager = await Manager.serve({ port: 0, authkey });
  await manager.list<number>([], { name: "members" });
  await conn.send((manager.address as { port: number }).port);
  try {
    await conn.recv();
  } catch {
    // EOF: the parent is done with us
  }
  conn.close();
}

/** Adds 1 to a registered Counter n times through its generic proxy. */
export async function addToCounter(
  counter: { add(k: number): Promise<number> },
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) await counter.add(1);
}

/** Puts `count` items tagged with `me` into the queue. */
export async function produce(
  queue: QueueProxy<number>,
  me: number,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) await queue.put(me * 1000 + i);
}

/** Gets items until a `-1` sentinel, recording each in `seen`. */
export async function consume(
  queue: QueueProxy<number>,
  seen: ListProxy<number>,
): Promise<void> {
  const mine: number[] = [];
  while (true) {
    const item = await queue.get({ timeout: 30_000 });
    if (item === -1) break;
    mine.push(item);
  }
  await seen.extend(mine);
}
