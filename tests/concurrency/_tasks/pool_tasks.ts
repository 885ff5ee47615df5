// Task module for tests/concurrency/pool_test.ts (runs inside Pool workers).
import {
  taskSignal,
  throwIfTaskAborted,
  transferResult,
} from "../../../concurrency/pool.ts";
import { Queue } from "../../../concurrency/queue.ts";
import type { Event } from "../../../concurrency/event.ts";

let initValue: unknown = "unset";

export function inc(x: number): number {
  return x + 1;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function cube(x: number): number {
  return x ** 3;
}

export function whoami(): string {
  return (self as unknown as { name: string }).name;
}

export function fail(message: string): never {
  throw new RangeError(message);
}

export function exitNow(): void {
  Deno.exit(3);
}

export function throwInTimer(): Promise<void> {
  setTimeout(() => {
    throw new Error("boom from a timer");
  }, 5);
  return new Promise(() => {}); // never settles: the timer kills the worker
}

export function sleep(ms: number): Promise<string> {
  return new Promise((resolve) => setTimeout(() => resolve(`slept ${ms}`), ms));
}

export function spin(ms: number): number {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

export function spinCooperatively(ms: number): string {
  const end = Date.now() + ms;
  while (Date.now() < end) throwIfTaskAborted();
  return "finished";
}

export function waitForAbort(): Promise<string> {
  const signal = taskSignal();
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}

export function setInit(value: unknown): void {
  initValue = value;
}

export function getInit(): unknown {
  return initValue;
}

export function makeBytes(n: number): unknown {
  const bytes = new Uint8Array(n).fill(7);
  return transferResult(bytes, [bytes.buffer]);
}

export function byteLength(bytes: Uint8Array): number {
  return bytes.length;
}

export function fillQueue(queue: Queue<number>, n: number): number {
  for (let i = 0; i < n; i++) queue.putSync(i);
  return n;
}

export function failOn(x: number): number {
  if (x === 13) throw new Error("unlucky 13");
  return x;
}

export function makeQueue(): Queue<string> {
  const queue = new Queue<string>();
  queue.putNowait("made in a worker");
  return queue;
}

/** Whether the Event kept by `setInit` is set, read in the worker. */
export function initEventIsSet(): boolean {
  return (initValue as Event).isSet();
}

// ---- issue #20: faults -----------------------------------------------------

/** Counts its runs in `runs[i]`. */
export function countRun(runs: Int32Array, i: number): number {
  Atomics.add(runs, i, 1);
  return i;
}

/** Spins (never yields) until `flags[0]` is set or `ms` passed. */
export function spinUntil(flags: Int32Array, ms: number): string {
  const end = Date.now() + ms;
  while (Atomics.load(flags, 0) === 0 && Date.now() < end) {
    Atomics.add(flags, 1, 1);
  }
  return "spun";
}

/** Returns a value no worker can post back; counts its runs. */
export function returnsFunction(runs: Int32Array): unknown {
  Atomics.add(runs, 0, 1);
  return () => 1;
}

export function returnsSymbol(): unknown {
  return Symbol("nope");
}

export function closeSelf(): void {
  (self as unknown as { close(): void }).close();
}

/** Acquires and releases `lock` (registers this worker as a thread). */
export function touchLock(lock: { acquireSync(): boolean; release(): void }) {
  lock.acquireSync();
  lock.release();
  return true;
}

/** Takes `lock` and never finishes (async: the event loop stays free). */
export function holdLockForever(
  lock: { acquireSync(): boolean },
): Promise<never> {
  lock.acquireSync();
  return new Promise(() => {});
}

/** Takes `lock`, then spins (never yields) until `flags[0]` is set. */
export function holdLockAndSpin(
  lock: { acquireSync(): boolean },
  flags: Int32Array,
): string {
  lock.acquireSync();
  return spinUntil(flags, 20_000);
}

/** This worker's process id. */
export function pid(): number {
  return Deno.pid;
}

/** Appends one line to `path` (counts runs across processes). */
export function appendRun(path: string, i: number): number {
  Deno.writeTextFileSync(path, `${i}\n`, { append: true });
  return i;
}

/** Spins (never yields) for `ms`. */
export function spinFor(ms: number): string {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy */ }
  return "spun";
}

/** Returns whatever it is given (for the lone-task fast path). */
export function echo(value: unknown): unknown {
  return value;
}

/** Returns `value` after a timer (an async lone task). */
export async function echoLater(value: unknown): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 1));
  return value;
}
