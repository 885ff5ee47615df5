/**
 * Python's `threading` and `queue`, and `multiprocessing.Pool`, for Deno:
 * primitives that live in a `SharedArrayBuffer` and work across Web Workers.
 *
 * ## Which primitive for which job
 *
 * | job | use | like Python's |
 * | --- | --- | --- |
 * | run one function on another thread and get its result | {@linkcode Thread} | `threading.Thread` |
 * | run many small tasks on a fixed set of workers | {@linkcode Pool} | `multiprocessing.Pool` |
 * | a task that may hang and must be killable | `Pool` with `isolation: "process"` | `multiprocessing.Pool` |
 * | one thread at a time in a critical section | {@linkcode Lock} (`RLock` if the owner re-enters) | `Lock` / `RLock` |
 * | at most N at a time | {@linkcode Semaphore} / `BoundedSemaphore` | same |
 * | "go" signal, set once, seen by all | {@linkcode Event} | `Event` |
 * | wait for a condition on shared data | {@linkcode Condition} (with its lock) | `Condition` |
 * | N threads meet before going on | {@linkcode Barrier} | `Barrier` |
 * | hand values from producers to consumers | {@linkcode Queue}, `LifoQueue`, `PriorityQueue` | `queue.Queue` ... |
 * | pass any of the above to a worker you started | {@linkcode share} / {@linkcode revive} | (pickling) |
 *
 * ## Where each one works
 *
 * Every primitive here works on the main thread and in any Web Worker of
 * the same process it is passed to (as a `Thread`/`Pool` argument, or with
 * `share()`): each side waits either asynchronously (`acquire()`, `get()`,
 * `wait()`: never blocks an event loop) or blocking (`acquireSync()`,
 * `getSync()`, `waitSync()`: for workers; on the main thread they freeze
 * its event loop). None of them crosses a process boundary (sharing one
 * with a process throws a `TypeError`): for processes use the `Manager` of
 * `@weft/weft/ipc`, whose proxies have the same methods.
 *
 * ## What each one costs
 *
 * | primitive | shared memory | an uncontended operation | a wake-up |
 * | --- | --- | --- | --- |
 * | `Lock`, `RLock`, `Semaphore` | 544 bytes (robust: a 64-ticket FIFO ring) | one compare-exchange | one notify of the waiters' word |
 * | `Event` | 8 bytes | one load | notify all |
 * | `Condition` | 16 bytes + its lock | — | `notify(n)` wakes n |
 * | `Barrier` | 272 bytes | one compare-exchange per arrival | notify all, once per generation |
 * | `Queue` | 1.1 KiB header + 48 bytes per slot + the item bytes (64 KiB to start) | one internal lock, one copy | a put wakes one getter, a get one putter, FIFO |
 * | `Thread` | a worker (~50 ms and a few MB to start) | — | — |
 * | `Pool` | one worker per `size`; processes with `isolation: "process"` | ~17 µs per lone task round trip; batched tasks at 10⁵/s | — |
 *
 * Waiting costs: a blocking waiter in a `Thread` or `Pool` worker wakes
 * every 50 ms to look for a dead lock owner and for a stop request; async
 * waiters on a lock are woken only when some thread ends (one watch per
 * thread), with a 1 s safety net.
 *
 * ## Threads end only for certain
 *
 * Deno cannot stop a worker that is busy in JavaScript (`Worker.terminate()`
 * takes effect only when it returns to its event loop). So a thread counts
 * as ended — and the locks it held as abandoned — only when its end is
 * certain; `Thread.terminate()` resolves whether the stop was confirmed and
 * `Pool.stats().unstoppable` counts workers that could not be stopped. See
 * {@linkcode Thread.terminate}.
 *
 * @example Threads sharing a Lock, an Event and a counter
 * ```ts
 * import assert from "node:assert/strict";
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
 *   assert.equal(counter[0], 2000);
 * }
 * ```
 *
 * @example Sharing values with a worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { revive, share } from "@weft/weft/concurrency";
 *
 * const message = share({ job: 1 });
 * assert.equal(revive<{ job: number }>(structuredClone(message)).job, 1);
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
export * from "./pool_task.ts";
