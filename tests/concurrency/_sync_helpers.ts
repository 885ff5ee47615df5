// Shared by the synchronization-primitive tests: start task threads and make
// sure they end even when a test fails.
import { Thread } from "../../concurrency/thread.ts";

export const TASKS = new URL("./_tasks/sync_tasks.ts", import.meta.url);

/** Starts a thread running `fn` of the sync task module. */
export function spawn(fn: string, args: unknown[] = [], name?: string): Thread {
  const thread = new Thread({ module: TASKS, fn, args, name });
  thread.start();
  return thread;
}

/** Terminates every thread (for `finally`). */
export function terminateAll(threads: Thread[]): void {
  for (const thread of threads) thread.terminate();
}

/** A fresh shared Int32Array of `n` words. */
export function ints(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
