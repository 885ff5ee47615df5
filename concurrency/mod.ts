/**
 * Python's `threading` and `queue`, and `multiprocessing.Pool`, for Deno:
 * primitives that live in a `SharedArrayBuffer` and work across Web Workers.
 *
 * @example Threads sharing a Lock, an Event and a counter
 * ```ts
 * import { Event, Lock, Thread } from "@weft/weft/concurrency";
 *
 * // A worker module; in a real program: new URL("./task.ts", import.meta.url)
 * const module = "data:text/javascript," + encodeURIComponent(`
 *   export function work(lock, go, counter, n) {
 *     go.waitSync();
 *     for (let i = 0; i < n; i++) {
 *       lock.acquireSync();
 *       counter[0]++;
 *       lock.release();
 *     }
 *     return n;
 *   }`);
 * const lock = new Lock();
 * const go = new Event();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * const threads = [1, 2].map(() =>
 *   new Thread({ module, fn: "work", args: [lock, go, counter, 1000] })
 * );
 * threads.forEach((t) => t.start());
 * go.set();
 * await Promise.all(threads.map((t) => t.join()));
 * {
 *   using _ = await lock.guard();
 *   console.log(counter[0]); // 2000
 * }
 * ```
 *
 * @example Sharing values with a worker
 * ```ts
 * import { revive, share } from "@weft/weft/concurrency";
 *
 * const message = share({ job: 1 });
 * console.log(revive<{ job: number }>(structuredClone(message)).job); // 1
 * ```
 *
 * @module
 */
export * from "./share.ts";
export * from "./lock.ts";
export * from "./rlock.ts";
export * from "./semaphore.ts";
export * from "./event.ts";
export * from "./condition.ts";
export * from "./barrier.ts";
export * from "./thread.ts";
export * from "./queue.ts";
export * from "./lifo_queue.ts";
export * from "./priority_queue.ts";
export * from "./queue_errors.ts";
export * from "./pool.ts";
