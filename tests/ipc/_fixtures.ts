// Functions run by Process and Thread tests (imported in child processes).
// A value import, so a worker running these functions registers the
// Connection reviver before its arguments are revived.
import { Connection } from "../../ipc/connection.ts";
export const CONNECTION_CLASS: typeof Connection = Connection;

export async function add(
  conn: Connection,
  a: number,
  b: number,
): Promise<void> {
  await conn.send(a + b);
  conn.close();
}

export async function greet(
  conn: Connection,
  { name, greeting = "Hello" }: { name: string; greeting?: string },
): Promise<void> {
  await conn.send(`${greeting}, ${name}`);
  conn.close();
}

export async function echo(conn: Connection): Promise<void> {
  for await (const value of conn) await conn.send(value);
  conn.close();
}

export async function echoBytes(conn: Connection): Promise<void> {
  while (true) {
    let m: Uint8Array;
    try {
      m = await conn.recvBytes();
    } catch {
      break;
    }
    await conn.sendBytes(m);
  }
  conn.close();
}

export function fail(message: string): never {
  throw new RangeError(message);
}

export async function mutate(list: number[], conn: Connection): Promise<void> {
  list.push(99);
  list[0] = -1;
  await conn.send(list);
  conn.close();
}

export async function tagAfter(
  conn: Connection,
  tag: string,
  ms: number,
): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  await conn.send(tag);
  conn.close();
}

export function sleepForever(): Promise<never> {
  return new Promise(() => setInterval(() => {}, 1000));
}

export async function reportPidThenSleep(conn: Connection): Promise<void> {
  await conn.send(Deno.pid);
  conn.close();
  await sleepForever();
}

export async function finishWhenTold(
  conn: Connection,
  tag: string,
): Promise<void> {
  await conn.recv();
  await conn.send(tag);
  conn.close();
}

export async function reportLaunch(conn: Connection): Promise<void> {
  await conn.send({ pid: Deno.pid, env: Deno.env.toObject() });
  await conn.recv(); // stay alive while the parent inspects our command line
  conn.close();
}

/** Sends each value through `conn`, collects the echoes, reports them on `report`. */
export async function askThrough(
  conn: Connection,
  report: Connection,
  values: unknown[],
): Promise<void> {
  const got: unknown[] = [];
  for (const v of values) {
    await conn.send(v);
    got.push(await conn.recv());
  }
  conn.close();
  await report.send(got);
  report.close();
}
