/**
 * {@linkcode Pool}: Python's `multiprocessing.Pool` on Web Workers. The
 * machinery lives in `_pool_core.ts`; the helpers a task uses inside a
 * worker live in `pool_task.ts` (re-exported here).
 *
 * @module
 */

import { streamWindow } from "../_internal/stream_window.ts";
import { MAX_PIPELINE, PoolCore } from "./_pool_core.ts";
import { checkName } from "./_pool_options.ts";
import { TaskMode } from "./_pool_wire.ts";

export {
  taskSignal,
  throwIfTaskAborted,
  type TransferredResult,
  transferResult,
} from "./pool_task.ts";

/** Options of {@linkcode Pool}. */
export interface PoolOptions {
  /**
   * The task module: a URL (e.g. `new URL("./task.ts", import.meta.url)`), an
   * absolute URL string, or a path resolved against the current directory,
   * the same way as `Thread` and `Process` resolve theirs.
   */
  module: URL | string;
  /**
   * Number of workers (default: `navigator.hardwareConcurrency`).
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /** Replace a worker after it ran this many tasks (default: never). */
  maxTasksPerWorker?: number;
  /** Name of a function exported by `module`, called once in each new worker. */
  initializer?: string;
  /** Arguments for `initializer` (may hold queues and other shared objects). */
  initArgs?: unknown[];
  /** Milliseconds a task may run; past it the task fails and its worker is replaced. */
  taskTimeout?: number;
  /**
   * Milliseconds an aborted running task gets to stop on its own (through
   * {@linkcode throwIfTaskAborted} or {@linkcode taskSignal}) before its
   * worker is terminated and replaced.
   *
   * @default {1000}
   */
  abortGracePeriod?: number;
  /**
   * How many workers that could not be stopped the pool may leave behind
   * (default: `size`). Deno cannot stop a worker busy in code that never
   * yields, so a timed-out or aborted task's worker may run on (see the
   * class doc). Past this cap such a worker is not replaced: its task
   * fails with an error that says so, and once no worker is left every
   * task fails until one of them ends.
   */
  maxUnstoppable?: number;
  /**
   * Where tasks run: `"thread"` (default), Web Workers in this process,
   * or `"process"`, one Deno child process per worker. Processes cost far
   * more (about 50 ms and 30-40 MB each to start, every argument and result
   * serialized through a pipe, no shared-memory objects such as `Lock` or
   * `Queue` in arguments) but can be stopped for certain: a timed-out or
   * aborted task's process is killed (SIGKILL) and nothing of it runs on.
   * Needs `--allow-run`. Task code's `console.log` goes to stderr there.
   *
   * @default {"thread"}
   */
  isolation?: "thread" | "process";
}

/** Options of one task. */
export interface TaskOptions {
  /** Cancels the task: a queued task never runs; a running one is asked to
   * stop, then its worker is replaced after `abortGracePeriod`. */
  signal?: AbortSignal;
  /** Objects inside the arguments to move (not copy) to the worker. */
  transfer?: Transferable[];
}

/** Options of {@linkcode Pool.applyAsync}. */
export interface ApplyAsyncOptions<R> extends TaskOptions {
  /** Called with the result once the task succeeds. */
  callback?: (result: R) => void;
  /** Called with the error once the task fails (the returned promise is
   * then marked handled, so ignoring it is safe). */
  errorCallback?: (error: unknown) => void;
}

/** Options of {@linkcode Pool.map} and friends. */
export interface MapOptions {
  /** Items per task (default: like Python, about `length / (4 * size)` for
   * arrays, 1 for other iterables). */
  chunksize?: number;
  /** Cancels every task of this call. */
  signal?: AbortSignal;
}

/** One running task in {@linkcode PoolStats}. */
export interface RunningTask {
  /** The exported function's name. */
  name: string;
  /** Milliseconds since it started. */
  age: number;
  /** The worker's number (also its `self.name`, `"weft-pool-<n>"`). */
  worker: number;
}

/** Snapshot returned by {@linkcode Pool.stats}. */
export interface PoolStats {
  /** Tasks waiting for a worker (including those handed to a busy worker). */
  queued: number;
  /** Tasks running now, with name and age (for stuck-task diagnostics). */
  running: RunningTask[];
  /** Tasks that succeeded. */
  completed: number;
  /** Tasks that failed (threw, crashed, timed out, were aborted). */
  failed: number;
  /** Live workers. */
  workers: number;
  /**
   * Workers asked to stop (after a timeout, an ignored abort, recycling,
   * close or terminate) that were still running a second after the
   * request: Deno cannot stop them (they run code that never yields).
   * They keep their CPU, their memory, the locks they hold and the
   * process alive until their code returns.
   */
  unstoppable: number;
}

/**
 * A pool of Web Workers running exported functions of one module: like
 * Python's `multiprocessing.Pool`, except that tasks are named by their
 * export (`pool.apply("square", [3])`) and every call returns a promise.
 *
 * Tasks are dispatched in batches over `postMessage` and each worker keeps
 * several tasks in flight (fewer when tasks are slow), so tiny tasks run at
 * tens of thousands per second; a worker runs its tasks one at a time, in
 * order, awaiting async ones. A lone task on an idle pool is posted at once,
 * and if its result is a number, boolean, null or undefined it comes back
 * through a shared-memory mailbox (an `Atomics.waitAsync` wake-up) instead
 * of a message: about 17 µs per round trip instead of about 23.
 *
 * ## Failures are contained
 * - A task that throws rejects with the worker's error (name, message and
 *   stack as thrown there); the worker keeps serving.
 * - A worker that dies — an uncaught error in a timer, an unhandled
 *   rejection, `Deno.exit()` or `self.close()` in task code — fails only
 *   the task it was running (with an `Error` saying so); tasks it had not
 *   begun are re-queued and a new worker replaces it.
 * - **A task runs at most once.** Tasks a replaced worker had begun are
 *   never re-queued: the ones that finished but whose results were still
 *   inside it fail with an `Error` saying so.
 * - A function or Symbol among a call's arguments rejects that call alone
 *   (`DataCloneError`); so does a result that cannot be cloned.
 * - A task running longer than `taskTimeout` fails with a `TimeoutError`
 *   `DOMException` and its worker is asked to stop and replaced.
 * - `terminate()` rejects every pending task at once.
 *
 * ## Workers that cannot be stopped
 * Deno's `Worker.terminate()` does not stop a worker busy in code that
 * never yields. A pool worker asked to stop (after a timeout, an ignored
 * abort, recycling, `close()` or `terminate()`) ends at its next
 * event-loop turn or weft wait; one still running a second later is
 * counted in `stats().unstoppable` and keeps its CPU, its memory and the
 * locks it holds (they are recovered as abandoned only once it really
 * ends). At most `maxUnstoppable` such workers are replaced; beyond that a
 * timeout says so and the pool shrinks, and with no worker left every task
 * fails clearly until one ends. With `isolation: "process"` workers are
 * child processes that a timeout or an ignored abort kills (SIGKILL): a
 * real hard stop, at the cost of a process per worker (~40 ms and ~40 MB
 * to start, arguments and results serialized through a pipe, no
 * shared-memory arguments).
 * - Out of memory in one worker aborts the **whole process**: Deno has no
 *   per-worker heap limit (denoland/deno#10036). Use `maxTasksPerWorker` to
 *   recycle workers whose task code leaks.
 *
 * ## Cancellation
 * Every call takes `{ signal }`. A queued task never runs and rejects with
 * `signal.reason`. A running task's promise rejects at once; inside the
 * worker, {@linkcode taskSignal} aborts (async code) and
 * {@linkcode throwIfTaskAborted} throws (it reads a shared-memory flag, so
 * it works inside a tight synchronous loop); if the task has not stopped
 * after `abortGracePeriod` ms its worker is stopped (see below) and
 * replaced.
 * Aborting one task never affects another's result, but it may delay it:
 * a worker is sent several small tasks at once, so tasks queued behind an
 * aborted task that ignores its signal wait up to `abortGracePeriod`, then
 * go to another worker (none runs twice). Give long abortable
 * tasks a pool of their own, or a short `abortGracePeriod`, if that delay
 * matters.
 *
 * ## Arguments and results
 * Structured-cloneable values; weft objects (queues, locks, ...) arrive
 * live; `{ transfer: [buffer] }` moves ArrayBuffers to the worker and
 * {@linkcode transferResult} moves them back.
 *
 * ## Lifecycle
 * `close()` stops accepting tasks and lets the workers finish;
 * `join()` waits for them to exit (after `close()` or `terminate()`);
 * `terminate()` stops everything now. `await using` calls `terminate()`,
 * like Python's `with Pool() as pool:`. An idle pool keeps the process
 * alive until closed or terminated.
 *
 * ## Platform
 * Needs `--allow-read` (or `--allow-import` for remote modules) to load the
 * task module in the workers.
 *
 * @example Squares in parallel
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export function square(x) { return x * x; }");
 * await using pool = new Pool({ module, size: 2 });
 * assert.deepEqual(await pool.map("square", [1, 2, 3, 4]), [1, 4, 9, 16]);
 * assert.equal(await pool.apply("square", [12]), 144);
 * ```
 */
export class Pool implements AsyncDisposable {
  #core: PoolCore;

  /**
   * Starts `size` workers, each importing `module` and running
   * `initializer(...initArgs)` once.
   *
   * @example Invalid options throw at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * try {
   *   new Pool({ module: "data:text/javascript,", size: 0 });
   * } catch (error) {
   *   assert.equal((error as Error).message.includes('"size"'), true);
   * }
   * ```
   *
   * @throws {TypeError} If an option is invalid (the message names it).
   */
  constructor(options: PoolOptions) {
    this.#core = new PoolCore(options);
  }
  /** Number of workers. */
  get size(): number {
    return this.#core.size;
  }
  /** True once `close()` or `terminate()` was called. */
  get closed(): boolean {
    return this.#core.closed;
  }
  /**
   * Runs `fn(...args)` in a worker and resolves with its result — Python's
   * `apply`, except that it does not block.
   *
   * @example Running one call
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const add = (a, b) => a + b;");
   * await using pool = new Pool({ module, size: 1 });
   * assert.equal(await pool.apply("add", [2, 3]), 5);
   * ```
   *
   * @param fn Name of a function exported by the pool's module.
   * @param args Its arguments.
   * @throws {TypeError} (rejection) If the pool is closed.
   */
  apply<R = unknown>(
    fn: string,
    args: unknown[] = [],
    options?: TaskOptions,
  ): Promise<R> {
    return this.#core.submit(fn, args, TaskMode.Call, options) as Promise<R>;
  }

  /**
   * Like {@linkcode Pool.apply}, with Python's `callback` /
   * `errorCallback`; also returns the promise.
   *
   * @example The tutorial's Pool(5) with a callback
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const cube = (x) => x ** 3;");
   * await using pool = new Pool({ module, size: 5 });
   * const results: number[] = [];
   * const all = [];
   * for (let i = 0; i < 10; i++) {
   *   all.push(pool.applyAsync<number>("cube", [i], { callback: (r) => results.push(r) }));
   * }
   * await Promise.all(all);
   * assert.equal(results.sort((a, b) => a - b).length, 10);
   * ```
   */
  applyAsync<R = unknown>(
    fn: string,
    args: unknown[] = [],
    options: ApplyAsyncOptions<R> = {},
  ): Promise<R> {
    const promise = this.#core.submit(
      fn,
      args,
      TaskMode.Call,
      options,
    ) as Promise<R>;
    const { callback, errorCallback } = options;
    if (callback || errorCallback) {
      promise.then(
        (value) => {
          try {
            callback?.(value);
          } catch (error) {
            reportError(error);
          }
        },
        (error) => {
          try {
            errorCallback?.(error);
          } catch (e) {
            reportError(e);
          }
        },
      );
    }
    if (errorCallback) promise.catch(() => {});
    return promise;
  }

  #chunks<T>(items: Iterable<T>, chunksize: number): T[][] {
    const out: T[][] = [];
    let chunk: T[] = [];
    for (const item of items) {
      chunk.push(item);
      if (chunk.length >= chunksize) {
        out.push(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) out.push(chunk);
    return out;
  }

  #chunksize(items: Iterable<unknown>, chunksize: number | undefined): number {
    if (chunksize !== undefined) {
      if (!Number.isInteger(chunksize) || chunksize < 1) {
        throw new TypeError(
          `Cannot map: "chunksize" must be an integer >= 1, got ${chunksize}`,
        );
      }
      return chunksize;
    }
    if (Array.isArray(items)) {
      return Math.max(1, Math.ceil(items.length / (this.#core.size * 4)));
    }
    return 1;
  }

  async #mapMode<R>(
    fn: string,
    items: Iterable<unknown>,
    mode: typeof TaskMode.MapChunk | typeof TaskMode.StarmapChunk,
    options?: MapOptions,
  ): Promise<R[]> {
    const size = this.#chunksize(items, options?.chunksize);
    const chunks = this.#chunks(items, size);
    const pending = chunks.map((chunk) =>
      this.#core.submit(fn, chunk, mode, { signal: options?.signal })
    );
    for (const p of pending) p.catch(() => {});
    const results = await Promise.all(pending);
    return (results as R[][]).flat(1) as R[];
  }

  /**
   * Applies `fn` to every item in parallel and resolves with the results in
   * order — Python's `map`. Items are sent `chunksize` at a time.
   *
   * @example Mapping over a list in chunks
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const double = (x) => 2 * x;");
   * await using pool = new Pool({ module, size: 2 });
   * assert.deepEqual(await pool.map("double", [1, 2, 3], { chunksize: 2 }), [2, 4, 6]);
   * ```
   *
   * @throws {TypeError} If `chunksize` is not an integer >= 1.
   */
  map<R = unknown>(
    fn: string,
    items: Iterable<unknown>,
    options?: MapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, items, TaskMode.MapChunk, options);
  }

  /**
   * Like {@linkcode Pool.map} but each item is an argument list:
   * `fn(...args)` — Python's `starmap`.
   *
   * @example Mapping over argument lists
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const pow = (a, b) => a ** b;");
   * await using pool = new Pool({ module, size: 2 });
   * assert.deepEqual(await pool.starmap("pow", [[2, 3], [3, 2]]), [8, 9]);
   * ```
   */
  starmap<R = unknown>(
    fn: string,
    argsList: Iterable<unknown[]>,
    options?: MapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, argsList, TaskMode.StarmapChunk, options);
  }

  /**
   * Applies `fn` to each item of a (possibly async, possibly endless)
   * iterable and yields the results in order — Python's `imap`. Only a
   * bounded number of tasks is in flight, so memory stays flat; leaving
   * the loop early cancels the tasks still pending.
   *
   * @example Streaming results in order
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1;");
   * await using pool = new Pool({ module, size: 2 });
   * const seen: number[] = [];
   * for await (const n of pool.imap<number>("inc", [1, 2, 3])) seen.push(n);
   * assert.deepEqual(seen, [2, 3, 4]);
   * ```
   */
  imap<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    return this.#stream<R>(fn, items, true, options);
  }

  /**
   * Like {@linkcode Pool.imap} but yields results as they finish —
   * Python's `imap_unordered`.
   *
   * @example Streaming results as they finish
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1;");
   * await using pool = new Pool({ module, size: 2 });
   * const got: number[] = [];
   * for await (const n of pool.imapUnordered<number>("inc", [1, 2, 3])) got.push(n);
   * assert.deepEqual(got.sort(), [2, 3, 4]);
   * ```
   */
  imapUnordered<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    return this.#stream<R>(fn, items, false, options);
  }

  /** `imap` (`ordered`) and `imapUnordered`: a bounded window of chunks. */
  #stream<R>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options: MapOptions | undefined,
  ): AsyncGenerator<R, void, undefined> {
    checkName("fn", fn);
    const limit = this.#core.size * MAX_PIPELINE;
    return streamWindow<R>(
      (chunk, signal) =>
        this.#core.submit(fn, chunk, TaskMode.MapChunk, { signal }) as Promise<
          unknown[]
        >,
      items,
      ordered,
      {
        limit,
        refillAt: limit / 2, // in bulk: tasks reach the workers in batches
        chunksize: options?.chunksize,
        signal: options?.signal,
      },
    );
  }

  /**
   * Counts and running tasks, for stuck-task diagnostics.
   *
   * @example Inspecting the pool
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * await using pool = new Pool({ module: "data:text/javascript,", size: 1 });
   * assert.equal(pool.stats().queued, 0);
   * ```
   */
  stats(): PoolStats {
    return this.#core.stats();
  }
  /**
   * Stops accepting tasks; the workers exit once the queued tasks are done.
   * Idempotent.
   *
   * @example Closing after the submitted work
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const pool = new Pool({ module: "data:text/javascript,", size: 1 });
   * pool.close();
   * await pool.join();
   * assert.equal(pool.closed, true);
   * ```
   */
  close(): void {
    this.#core.close();
  }
  /**
   * Stops every worker now; every pending task rejects. Idempotent.
   *
   * @example Stopping at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const id = (x) => x;");
   * const pool = new Pool({ module, size: 1 });
   * const pending = pool.apply("id", [1]);
   * pool.terminate();
   * await assert.rejects(pending, /the pool was terminated/);
   * await pool.join();
   * ```
   */
  terminate(): void {
    this.#core.terminate();
  }
  /**
   * Waits until every worker has exited — after `close()` (queued work
   * finishes first) or `terminate()`.
   *
   * @example Waiting for the workers to end
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const id = (x) => x;");
   * const pool = new Pool({ module, size: 2 });
   * const result = pool.apply("id", ["done"]);
   * pool.close();
   * await pool.join();
   * assert.equal(await result, "done");
   * ```
   *
   * @throws {TypeError} (rejection) If the pool is still open.
   */
  join(): Promise<void> {
    return this.#core.join();
  }
  /** Terminates the pool (like Python's `with Pool() as pool:`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }
}
