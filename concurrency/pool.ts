/**
 * {@linkcode Pool}: Python's `multiprocessing.Pool` on Web Workers, plus the
 * helpers a task uses inside a worker ({@linkcode taskSignal},
 * {@linkcode throwIfTaskAborted}, {@linkcode transferResult}).
 *
 * @module
 */

import {
  CANCEL_RING,
  type FromWorker,
  type InitMessage,
  STATE_EXITED,
  STATE_RUNNING,
  STATE_WORDS,
  TASK_CONTEXT,
  type TaskContext,
  type ToWorker,
  W_STARTED,
  W_STATE,
  W_TASK,
} from "./_pool_wire.ts";
import {
  importRevivers,
  reviveValue,
  shareValue,
  transferablesOf,
} from "./_share.ts";
import { Deque } from "./_pool_deque.ts";

/** Options of {@linkcode Pool}. */
export interface PoolOptions {
  /** The task module (absolute URL, e.g. `new URL("./task.ts", import.meta.url)`). */
  module: URL | string;
  /** Number of workers (default: `navigator.hardwareConcurrency`). */
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
   * worker is terminated and replaced (default 1000).
   */
  abortGracePeriod?: number;
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
}

interface Task {
  id: number;
  fn: string;
  args: unknown[];
  mode: 0 | 1 | 2;
  transfer: Transferable[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  signal?: AbortSignal;
  onAbort?: () => void;
  slot?: PoolWorker;
}

interface PoolWorker {
  id: number;
  slot: number;
  worker: Worker;
  ready: boolean;
  dead: boolean;
  inflight: Task[];
  done: number;
  sent: number;
  graceTimer?: ReturnType<typeof setTimeout>;
}

const WORKER_URL = new URL("./_pool_worker.ts", import.meta.url).href;
const MAX_PIPELINE = 64;
const NO_TRANSFER: Transferable[] = [];

function fail(field: string, what: string, value: unknown): never {
  throw new TypeError(
    `Cannot create Pool: "${field}" must be ${what}, got ${String(value)}`,
  );
}

function checkCount(
  field: string,
  value: unknown,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(field, `an integer >= ${min}`, value);
  }
  return value;
}

/** True for an array holding only primitives (no walk needed). */
function flatPrimitives(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v === "object" && v !== null) return false;
  }
  return true;
}

function checkName(field: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `Cannot run task: "${field}" must be a non-empty string, got ${
        String(value)
      }`,
    );
  }
  return value;
}

/**
 * A pool of Web Workers running exported functions of one module: like
 * Python's `multiprocessing.Pool`, except that tasks are named by their
 * export (`pool.apply("square", [3])`) and every call returns a promise.
 *
 * Tasks are dispatched in batches over `postMessage` and each worker keeps
 * several tasks in flight (fewer when tasks are slow), so tiny tasks run at
 * tens of thousands per second; a worker runs its tasks one at a time, in
 * order, awaiting async ones.
 *
 * ## Failures are contained
 * - A task that throws rejects with the worker's error (name, message and
 *   stack as thrown there); the worker keeps serving.
 * - A worker that dies — an uncaught error in a timer, an unhandled
 *   rejection, `Deno.exit()` or `self.close()` in task code — fails only
 *   the task it was running (with an `Error` saying so); tasks it had not
 *   started are re-queued and a new worker replaces it.
 * - A task running longer than `taskTimeout` fails with a `TimeoutError`
 *   `DOMException` and its worker is replaced.
 * - `terminate()` rejects every pending task at once.
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
 * after `abortGracePeriod` ms its worker is terminated and replaced.
 * Aborting one task never affects another.
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
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export function square(x) { return x * x; }");
 * await using pool = new Pool({ module, size: 2 });
 * console.log(await pool.map("square", [1, 2, 3, 4])); // [1, 4, 9, 16]
 * console.log(await pool.apply("square", [12])); // 144
 * ```
 */
export class Pool implements AsyncDisposable {
  #module: string;
  #size: number;
  #maxTasksPerWorker: number | undefined;
  #initializer: string | undefined;
  #initArgs: unknown[];
  #taskTimeout: number | undefined;
  #grace: number;
  #state: Int32Array;
  #stateBuf: SharedArrayBuffer;
  #cancelBuf: SharedArrayBuffer;
  #cancel: Int32Array;
  #epoch = Date.now();
  #workers: (PoolWorker | undefined)[];
  #queue: Deque<Task> = new Deque();
  #nextId = 1;
  #nextWorker = 1;
  #closed = false;
  #terminated = false;
  #broken: unknown = undefined;
  #completed = 0;
  #failed = 0;
  #pumpScheduled = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #avgMs = 1;
  #exited: Promise<void> | undefined;
  #onExited: (() => void) | undefined;

  /**
   * Starts `size` workers, each importing `module` and running
   * `initializer(...initArgs)` once.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * try {
   *   new Pool({ module: "data:text/javascript,", size: 0 });
   * } catch (error) {
   *   console.log((error as Error).message.includes('"size"')); // true
   * }
   * ```
   *
   * @throws {TypeError} If an option is invalid (the message names it).
   */
  constructor(options: PoolOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        'Cannot create Pool: options must be an object with a "module"',
      );
    }
    const { module } = options;
    if (!(module instanceof URL) && typeof module !== "string") {
      fail("module", "a URL or an absolute URL string", module);
    }
    try {
      this.#module = new URL(String(module)).href;
    } catch {
      fail(
        "module",
        "an absolute URL (use new URL(path, import.meta.url))",
        module,
      );
    }
    this.#size = checkCount("size", options.size, 1) ??
      Math.max(1, navigator.hardwareConcurrency ?? 1);
    this.#maxTasksPerWorker = checkCount(
      "maxTasksPerWorker",
      options.maxTasksPerWorker,
      1,
    );
    if (
      options.initializer !== undefined &&
      (typeof options.initializer !== "string" || options.initializer === "")
    ) {
      fail(
        "initializer",
        "the name of an exported function",
        options.initializer,
      );
    }
    this.#initializer = options.initializer;
    if (options.initArgs !== undefined && !Array.isArray(options.initArgs)) {
      fail("initArgs", "an array", options.initArgs);
    }
    this.#initArgs = options.initArgs ?? [];
    const timeout = options.taskTimeout;
    if (
      timeout !== undefined && (typeof timeout !== "number" || !(timeout > 0))
    ) {
      fail("taskTimeout", "a number of milliseconds > 0", timeout);
    }
    this.#taskTimeout = timeout;
    const grace = options.abortGracePeriod;
    if (grace !== undefined && (typeof grace !== "number" || !(grace >= 0))) {
      fail("abortGracePeriod", "a number of milliseconds >= 0", grace);
    }
    this.#grace = grace ?? 1000;
    this.#stateBuf = new SharedArrayBuffer(this.#size * STATE_WORDS * 4);
    this.#state = new Int32Array(this.#stateBuf);
    this.#cancelBuf = new SharedArrayBuffer(CANCEL_RING * 4);
    this.#cancel = new Int32Array(this.#cancelBuf);
    this.#workers = new Array(this.#size).fill(undefined);
    for (let slot = 0; slot < this.#size; slot++) this.#spawn(slot);
  }

  /** Number of workers. */
  get size(): number {
    return this.#size;
  }

  /** True once `close()` or `terminate()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- workers ---------------------------------------------------------

  #spawn(slot: number): void {
    const id = this.#nextWorker++;
    const worker = new Worker(WORKER_URL, {
      type: "module",
      name: `weft-pool-${id}`,
    });
    const entry: PoolWorker = {
      id,
      slot,
      worker,
      ready: false,
      dead: false,
      inflight: [],
      done: 0,
      sent: 0,
    };
    this.#workers[slot] = entry;
    const base = slot * STATE_WORDS;
    Atomics.store(this.#state, base + W_STATE, 0);
    Atomics.store(this.#state, base + W_TASK, 0);
    worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#onMessage(entry, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const error = new Error(
        `Cannot finish task: its worker crashed with an uncaught error: ${event.message}`,
        { cause: event.error ?? event.message },
      );
      this.#onDeath(entry, error);
    };
    worker.onmessageerror = () => {
      this.#onDeath(
        entry,
        new Error(
          "Cannot finish task: a message from its worker could not be deserialized",
        ),
      );
    };
    const init: InitMessage = {
      t: "init",
      module: this.#module,
      initializer: this.#initializer,
      initArgs: shareValue(this.#initArgs, "worker") as unknown[],
      state: this.#stateBuf,
      cancel: this.#cancelBuf,
      slot,
      epoch: this.#epoch,
    };
    this.#post(entry, init, transferablesOf(init.initArgs));
  }

  #post(
    entry: PoolWorker,
    message: ToWorker,
    transfer: Transferable[] = [],
  ): void {
    entry.worker.postMessage(message, transfer);
  }

  #onMessage(entry: PoolWorker, message: FromWorker): void {
    if (entry.dead) {
      // Late results of a replaced worker still settle their tasks.
      if (Array.isArray(message)) this.#settleResults(entry, message);
      return;
    }
    if (Array.isArray(message)) {
      this.#settleResults(entry, message);
      this.#afterResults(entry);
      return;
    }
    switch (message.t) {
      case "ready":
        entry.ready = true;
        this.#pump();
        this.#retireIdle();
        break;
      case "initError":
        this.#onInitError(entry, message.error);
        break;
      case "crash": {
        const cause = message.error;
        const detail = cause instanceof Error
          ? `${cause.name}: ${cause.message}`
          : String(cause);
        this.#onDeath(
          entry,
          new Error(
            `Cannot finish task: its worker crashed with an uncaught error: ${detail}`,
            { cause },
          ),
        );
        break;
      }
      case "exit":
        this.#onDeath(
          entry,
          new Error(
            "Cannot finish task: its worker exited (Deno.exit() or self.close() in task code)",
          ),
        );
        break;
    }
  }

  /** Settles outcomes, flat: `[id, ok, value or error, ms, ...]`. */
  #settleResults(entry: PoolWorker, results: unknown[]): void {
    for (let i = 0; i < results.length; i += 4) {
      const id = results[i] as number;
      const inflight = entry.inflight;
      const index = inflight[0]?.id === id
        ? 0
        : inflight.findIndex((t) => t.id === id);
      if (index < 0) continue;
      const task = index === 0
        ? inflight.shift()!
        : inflight.splice(index, 1)[0];
      entry.done++;
      this.#avgMs = this.#avgMs * 0.9 + (results[i + 3] as number) * 0.1;
      const ok = results[i + 1] === 1;
      let value = results[i + 2];
      if (
        ok && typeof value === "object" && value !== null &&
        !flatPrimitives(value)
      ) {
        try {
          value = reviveValue(value);
        } catch {
          // A shared object whose module this thread has not loaded yet.
          const raw = value;
          importRevivers(raw).then(() => reviveValue(raw)).then(
            (live) => this.#settle(task, true, live),
            (error) => this.#settle(task, false, error),
          );
          continue;
        }
      }
      this.#settle(task, ok, value);
    }
  }

  #afterResults(entry: PoolWorker): void {
    if (entry.inflight.length === 0) {
      this.#clearGrace(entry);
      if (
        this.#maxTasksPerWorker !== undefined &&
        entry.sent >= this.#maxTasksPerWorker
      ) {
        this.#retire(entry);
        if (!this.#closed || this.#queue.length > 0) this.#spawn(entry.slot);
      }
    }
    this.#pump();
    this.#retireIdle();
  }

  /** After close(): ends every worker with nothing left to do. */
  #retireIdle(): void {
    if (!this.#closed || this.#queue.length > 0) return;
    for (const entry of this.#workers) {
      if (entry && !entry.dead && entry.inflight.length === 0) {
        this.#retire(entry);
      }
    }
  }

  #clearGrace(entry: PoolWorker): void {
    if (entry.graceTimer !== undefined) {
      clearTimeout(entry.graceTimer);
      entry.graceTimer = undefined;
    }
  }

  /** Ends a worker on purpose (recycling, close, terminate). */
  #retire(entry: PoolWorker): void {
    if (entry.dead) return;
    entry.dead = true;
    this.#clearGrace(entry);
    entry.worker.terminate();
    if (this.#workers[entry.slot] === entry) {
      this.#workers[entry.slot] = undefined;
    }
    this.#checkExited();
  }

  /**
   * A worker died or must be killed: fail the task it was running with
   * `error`, re-queue the ones it had not started, start a replacement.
   */
  #onDeath(entry: PoolWorker, error: unknown, runningId?: number): void {
    if (entry.dead) return;
    if (!entry.ready) {
      // Died while loading: replacing it would loop forever.
      this.#onInitError(entry, error);
      return;
    }
    const base = entry.slot * STATE_WORDS;
    const state = Atomics.load(this.#state, base + W_STATE);
    const current = runningId ??
      (state === STATE_RUNNING || state === STATE_EXITED
        ? Atomics.load(this.#state, base + W_TASK)
        : 0);
    this.#retire(entry);
    const leftover = entry.inflight;
    entry.inflight = [];
    const requeue: Task[] = [];
    for (const task of leftover) {
      if (task.id === current) this.#settle(task, false, error);
      else if (!task.settled) requeue.push(task);
    }
    for (const task of requeue) task.slot = undefined;
    this.#queue.unshiftAll(requeue);
    if (!this.#terminated && !(this.#closed && this.#queue.length === 0)) {
      this.#spawn(entry.slot);
    }
    this.#pump();
    this.#retireIdle();
  }

  #onInitError(entry: PoolWorker, error: unknown): void {
    this.#broken = error;
    this.#retire(entry);
    const wrapped = new Error(
      "Cannot run task: the pool's initializer or module failed in a worker",
      {
        cause: error,
      },
    );
    for (const task of [...entry.inflight, ...this.#queue.drain()]) {
      this.#settle(task, false, wrapped);
    }
    entry.inflight = [];
    this.terminate();
  }

  // ---- dispatch ----------------------------------------------------------

  #idleWorker(): boolean {
    for (const entry of this.#workers) {
      if (entry && entry.ready && !entry.dead && entry.inflight.length === 0) {
        return true;
      }
    }
    return false;
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pipeline(): number {
    return Math.max(
      2,
      Math.min(MAX_PIPELINE, Math.floor(2 / Math.max(this.#avgMs, 0.001))),
    );
  }

  #pump(): void {
    if (this.#terminated) return;
    const depth = this.#pipeline();
    let progress = true;
    while (this.#queue.length > 0 && progress) {
      progress = false;
      for (const entry of this.#workers) {
        if (!entry || entry.dead || !entry.ready || this.#queue.length === 0) {
          continue;
        }
        let room = depth - entry.inflight.length;
        if (this.#maxTasksPerWorker !== undefined) {
          room = Math.min(room, this.#maxTasksPerWorker - entry.sent);
        }
        if (room <= 0) continue;
        // Share the queue fairly between workers.
        const share = Math.max(1, Math.ceil(this.#queue.length / this.#size));
        const take = Math.min(room, share);
        const batch: unknown[] = [];
        const transfer: Transferable[] = [];
        for (let i = 0; i < take && this.#queue.length > 0; i++) {
          const task = this.#queue.shift()!;
          if (task.settled) {
            i--;
            continue;
          }
          task.slot = entry;
          entry.inflight.push(task);
          entry.sent++;
          batch.push(task.id, task.fn, task.mode, task.args);
          transfer.push(...task.transfer);
        }
        if (batch.length > 0) {
          this.#post(entry, batch, transfer);
          progress = true;
        }
      }
    }
    this.#updateWatchdog();
  }

  /**
   * Starts the watchdog when tasks are in flight. It stops itself (in
   * `#watch`) once nothing is in flight, rather than here, so that a stream
   * of one-at-a-time tasks does not create and clear a timer per task.
   */
  #updateWatchdog(): void {
    if (this.#watchdog !== undefined || this.#terminated) return;
    const busy = this.#workers.some((w) =>
      w !== undefined && w.inflight.length > 0
    );
    if (busy) {
      const period = Math.max(5, Math.min(100, (this.#taskTimeout ?? 400) / 4));
      this.#watchdog = setInterval(() => this.#watch(), period);
    }
  }

  /** Periodic check while tasks run: dead workers, overrun tasks. */
  #watch(): void {
    const now = Date.now() - this.#epoch;
    for (const entry of this.#workers) {
      if (!entry || entry.dead) continue;
      const base = entry.slot * STATE_WORDS;
      const state = Atomics.load(this.#state, base + W_STATE);
      if (state === STATE_EXITED) {
        this.#onDeath(
          entry,
          new Error(
            "Cannot finish task: its worker exited (Deno.exit() or self.close() in task code)",
          ),
        );
        continue;
      }
      if (state === STATE_RUNNING && this.#taskTimeout !== undefined) {
        const id = Atomics.load(this.#state, base + W_TASK);
        const age = now - Atomics.load(this.#state, base + W_STARTED);
        if (
          age > this.#taskTimeout && entry.inflight.some((t) => t.id === id)
        ) {
          const task = entry.inflight.find((t) => t.id === id)!;
          this.#onDeath(
            entry,
            new DOMException(
              `Cannot finish task "${task.fn}": it ran longer than "taskTimeout" (${this.#taskTimeout} ms)`,
              "TimeoutError",
            ),
            id,
          );
        }
      }
    }
    const busy = this.#workers.some((w) =>
      w !== undefined && !w.dead && w.inflight.length > 0
    );
    if (!busy && this.#watchdog !== undefined) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
    }
  }

  // ---- tasks ---------------------------------------------------------------

  #settle(task: Task, ok: boolean, value: unknown): void {
    if (task.settled) return;
    task.settled = true;
    if (task.onAbort) task.signal!.removeEventListener("abort", task.onAbort);
    if (ok) {
      this.#completed++;
      task.resolve(value);
    } else {
      this.#failed++;
      task.reject(value);
    }
  }

  #submit(
    fn: string,
    args: unknown[],
    mode: 0 | 1 | 2,
    options?: TaskOptions,
  ): Promise<unknown> {
    checkName("fn", fn);
    const signal = options?.signal;
    if (this.#broken !== undefined) {
      return Promise.reject(
        new Error(
          "Cannot run task: the pool's initializer or module failed in a worker",
          { cause: this.#broken },
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new TypeError(`Cannot run task "${fn}": the pool is closed`),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    let shared: unknown[] = args;
    let simple = true;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === "object" && a !== null) {
        simple = false;
        break;
      }
    }
    if (!simple) {
      try {
        shared = shareValue(args, "worker") as unknown[];
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const task: Task = {
        id: this.#nextId++,
        fn,
        args: shared,
        mode,
        transfer: simple
          ? (options?.transfer ?? NO_TRANSFER)
          : [...(options?.transfer ?? []), ...transferablesOf(shared)],
        resolve,
        reject,
        settled: false,
        signal,
      };
      if (this.#nextId >= 0x7fffffff) this.#nextId = 1;
      if (signal) {
        task.onAbort = () => this.#abortTask(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.#queue.push(task);
      // A lone task on an idle pool goes out now (latency); a burst of
      // calls in one tick is batched by the microtask pump (throughput).
      if (
        this.#queue.length === 1 && !this.#pumpScheduled && this.#idleWorker()
      ) {
        this.#pump();
      } else {
        this.#schedulePump();
      }
    });
  }

  #abortTask(task: Task): void {
    if (task.settled) return;
    const reason = task.signal!.reason;
    const entry = task.slot;
    this.#settle(task, false, reason);
    if (!entry || entry.dead) {
      // Still queued: drop it.
      this.#queue.remove(task);
      this.#retireIdle();
      return;
    }
    // Dispatched: the worker skips it if not started; a running task sees
    // the flag in throwIfTaskAborted() and its signal aborts.
    Atomics.store(this.#cancel, task.id % CANCEL_RING, task.id);
    const base = entry.slot * STATE_WORDS;
    this.#post(entry, { t: "abort", id: task.id });
    if (entry.graceTimer === undefined) {
      entry.graceTimer = setTimeout(() => {
        entry.graceTimer = undefined;
        if (entry.dead) return;
        const runningId =
          Atomics.load(this.#state, base + W_STATE) === STATE_RUNNING
            ? Atomics.load(this.#state, base + W_TASK)
            : 0;
        const running = entry.inflight.find((t) => t.id === runningId);
        if (running?.settled) {
          // An aborted task ignored its signal: replace the worker.
          this.#onDeath(entry, reason, runningId);
        } else {
          this.#pump();
        }
      }, this.#grace);
    }
  }

  /**
   * Runs `fn(...args)` in a worker and resolves with its result — Python's
   * `apply`, except that it does not block.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const add = (a, b) => a + b;");
   * await using pool = new Pool({ module, size: 1 });
   * console.log(await pool.apply("add", [2, 3])); // 5
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
    return this.#submit(fn, args, 0, options) as Promise<R>;
  }

  /**
   * Like {@linkcode Pool.apply}, with Python's `callback` /
   * `errorCallback`; also returns the promise.
   *
   * @example The tutorial's Pool(5) with a callback
   * ```ts
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
   * console.log(results.sort((a, b) => a - b).length); // 10
   * ```
   */
  applyAsync<R = unknown>(
    fn: string,
    args: unknown[] = [],
    options: ApplyAsyncOptions<R> = {},
  ): Promise<R> {
    const promise = this.#submit(fn, args, 0, options) as Promise<R>;
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
      return Math.max(1, Math.ceil(items.length / (this.#size * 4)));
    }
    return 1;
  }

  async #mapMode<R>(
    fn: string,
    items: Iterable<unknown>,
    mode: 1 | 2,
    options?: MapOptions,
  ): Promise<R[]> {
    const size = this.#chunksize(items, options?.chunksize);
    const chunks = this.#chunks(items, size);
    const pending = chunks.map((chunk) =>
      this.#submit(fn, chunk, mode, { signal: options?.signal })
    );
    for (const p of pending) p.catch(() => {});
    const results = await Promise.all(pending);
    return (results as R[][]).flat(1) as R[];
  }

  /**
   * Applies `fn` to every item in parallel and resolves with the results in
   * order — Python's `map`. Items are sent `chunksize` at a time.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const double = (x) => 2 * x;");
   * await using pool = new Pool({ module, size: 2 });
   * console.log(await pool.map("double", [1, 2, 3], { chunksize: 2 })); // [2, 4, 6]
   * ```
   *
   * @throws {TypeError} If `chunksize` is not an integer >= 1.
   */
  map<R = unknown>(
    fn: string,
    items: Iterable<unknown>,
    options?: MapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, items, 1, options);
  }

  /**
   * Like {@linkcode Pool.map} but each item is an argument list:
   * `fn(...args)` — Python's `starmap`.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const pow = (a, b) => a ** b;");
   * await using pool = new Pool({ module, size: 2 });
   * console.log(await pool.starmap("pow", [[2, 3], [3, 2]])); // [8, 9]
   * ```
   */
  starmap<R = unknown>(
    fn: string,
    argsList: Iterable<unknown[]>,
    options?: MapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, argsList, 2, options);
  }

  async *#stream<R>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    const chunksize = options?.chunksize ?? 1;
    if (!Number.isInteger(chunksize) || chunksize < 1) {
      throw new TypeError(
        `Cannot map: "chunksize" must be an integer >= 1, got ${chunksize}`,
      );
    }
    // Our own controller: leaving the loop early cancels what is in flight.
    const controller = new AbortController();
    const outer = options?.signal;
    const onOuter = () => controller.abort(outer!.reason);
    if (outer?.aborted) throw outer.reason;
    outer?.addEventListener("abort", onOuter, { once: true });
    const isAsync = Symbol.asyncIterator in items;
    const iterator = isAsync
      ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (items as Iterable<unknown>)[Symbol.iterator]();
    const limit = this.#size * MAX_PIPELINE;
    const held = () => ordered ? window.length : inFlight + ready.length;
    const window: Promise<unknown>[] = [];
    const ready: { ok: boolean; value: unknown }[] = [];
    let wake: (() => void) | undefined;
    let exhausted = false;
    let inFlight = 0;
    // Refill in bulk once half the window is used, so that tasks reach the
    // workers in batches rather than one postMessage per item.
    const fill = async () => {
      if (held() > limit / 2) return;
      while (!exhausted && held() < limit) {
        const chunk: unknown[] = [];
        while (chunk.length < chunksize) {
          const next = isAsync
            ? await iterator.next()
            : (iterator as Iterator<unknown>).next();
          if (next.done) {
            exhausted = true;
            break;
          }
          chunk.push(next.value);
        }
        if (chunk.length === 0) break;
        const p = this.#submit(fn, chunk, 1, { signal: controller.signal });
        inFlight++;
        p.catch(() => {});
        if (ordered) {
          window.push(p);
          p.then(() => inFlight--, () => inFlight--);
        } else {
          p.then(
            (value) => ready.push({ ok: true, value }),
            (value) => ready.push({ ok: false, value }),
          ).finally(() => {
            inFlight--;
            wake?.();
          });
        }
      }
    };
    try {
      for (;;) {
        if (isAsync || held() <= limit / 2) await fill();
        if (ordered) {
          if (window.length === 0) return;
          const chunk = await window.shift()!;
          for (const value of chunk as R[]) yield value;
        } else {
          if (ready.length === 0) {
            if (inFlight === 0 && exhausted) return;
            await new Promise<void>((resolve) => wake = resolve);
            wake = undefined;
            continue;
          }
          const next = ready.shift()!;
          if (!next.ok) throw next.value;
          for (const value of next.value as R[]) yield value;
        }
      }
    } finally {
      outer?.removeEventListener("abort", onOuter);
      if (!controller.signal.aborted) {
        controller.abort(new DOMException("The iteration ended", "AbortError"));
      }
      if (!exhausted) await iterator.return?.();
    }
  }

  /**
   * Applies `fn` to each item of a (possibly async, possibly endless)
   * iterable and yields the results in order — Python's `imap`. Only a
   * bounded number of tasks is in flight, so memory stays flat; leaving
   * the loop early cancels the tasks still pending.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1;");
   * await using pool = new Pool({ module, size: 2 });
   * for await (const n of pool.imap<number>("inc", [1, 2, 3])) console.log(n); // 2, 3, 4
   * ```
   */
  imap<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    checkName("fn", fn);
    return this.#stream<R>(fn, items, true, options);
  }

  /**
   * Like {@linkcode Pool.imap} but yields results as they finish —
   * Python's `imap_unordered`.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1;");
   * await using pool = new Pool({ module, size: 2 });
   * const got: number[] = [];
   * for await (const n of pool.imapUnordered<number>("inc", [1, 2, 3])) got.push(n);
   * console.log(got.sort()); // [2, 3, 4]
   * ```
   */
  imapUnordered<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    checkName("fn", fn);
    return this.#stream<R>(fn, items, false, options);
  }

  /**
   * Counts and running tasks, for stuck-task diagnostics.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * await using pool = new Pool({ module: "data:text/javascript,", size: 1 });
   * console.log(pool.stats().queued); // 0
   * ```
   */
  stats(): PoolStats {
    const running: RunningTask[] = [];
    let dispatched = 0;
    const now = Date.now() - this.#epoch;
    for (const entry of this.#workers) {
      if (!entry || entry.dead) continue;
      dispatched += entry.inflight.length;
      const base = entry.slot * STATE_WORDS;
      if (Atomics.load(this.#state, base + W_STATE) !== STATE_RUNNING) continue;
      const id = Atomics.load(this.#state, base + W_TASK);
      const task = entry.inflight.find((t) => t.id === id);
      if (!task) continue;
      running.push({
        name: task.fn,
        age: Math.max(0, now - Atomics.load(this.#state, base + W_STARTED)),
        worker: entry.id,
      });
    }
    return {
      queued: this.#queue.length + dispatched -
        running.length,
      running,
      completed: this.#completed,
      failed: this.#failed,
      workers: this.#workers.filter((w) => w && !w.dead).length,
    };
  }

  /**
   * Stops accepting tasks; the workers exit once the queued tasks are done.
   * Idempotent.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const pool = new Pool({ module: "data:text/javascript,", size: 1 });
   * pool.close();
   * await pool.join();
   * console.log(pool.closed); // true
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#workers) {
      if (
        entry && !entry.dead && entry.inflight.length === 0 &&
        this.#queue.length === 0
      ) this.#retire(entry);
    }
    this.#checkExited();
  }

  /**
   * Stops every worker now; every pending task rejects. Idempotent.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const pool = new Pool({ module: "data:text/javascript,", size: 1 });
   * pool.terminate();
   * await pool.join();
   * ```
   */
  terminate(): void {
    if (this.#terminated) return;
    this.#closed = true;
    this.#terminated = true;
    const error = new Error("Cannot finish task: the pool was terminated");
    const tasks = this.#queue.drain();
    for (const entry of this.#workers) {
      if (!entry) continue;
      tasks.push(...entry.inflight);
      entry.inflight = [];
      this.#retire(entry);
    }
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    for (const task of tasks) this.#settle(task, false, error);
    this.#checkExited();
  }

  #checkExited(): void {
    if (this.#closed && this.#workers.every((w) => w === undefined || w.dead)) {
      if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      this.#onExited?.();
    }
  }

  /**
   * Waits until every worker has exited — after `close()` (queued work
   * finishes first) or `terminate()`.
   *
   * @example
   * ```ts
   * import { Pool } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const id = (x) => x;");
   * const pool = new Pool({ module, size: 2 });
   * const result = pool.apply("id", ["done"]);
   * pool.close();
   * await pool.join();
   * console.log(await result); // "done"
   * ```
   *
   * @throws {TypeError} (rejection) If the pool is still open.
   */
  join(): Promise<void> {
    if (!this.#closed) {
      return Promise.reject(
        new TypeError("Cannot join pool: call close() or terminate() first"),
      );
    }
    this.#exited ??= new Promise<void>((resolve) => {
      this.#onExited = resolve;
      this.#checkExited();
    });
    return this.#exited;
  }

  /** Terminates the pool (like Python's `with Pool() as pool:`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }
}

function context(what: string): TaskContext {
  // deno-lint-ignore no-explicit-any
  const ctx = (globalThis as any)[TASK_CONTEXT] as TaskContext | undefined;
  if (!ctx) throw new TypeError(`Cannot ${what}: not inside a Pool task`);
  return ctx;
}

/**
 * Inside a {@linkcode Pool} task: the task's `AbortSignal`. It aborts when
 * the caller's `signal` aborts — seen by async code at its next `await`, or
 * at once by {@linkcode throwIfTaskAborted}. Read it synchronously at the
 * start of the task (after the first `await` another task may be current
 * only if the pool runs several — it does not: one task at a time).
 *
 * @example
 * ```ts ignore
 * // task.ts, the Pool's module
 * import { taskSignal } from "@weft/weft/concurrency";
 *
 * export async function download(url: string) {
 *   const response = await fetch(url, { signal: taskSignal() });
 *   return await response.text();
 * }
 * ```
 *
 * @throws {TypeError} Outside a Pool task.
 */
export function taskSignal(): AbortSignal {
  return context("get the task signal").signal;
}

/**
 * Inside a {@linkcode Pool} task: throws the abort reason if the caller
 * aborted this task. It reads a shared-memory flag, so a tight synchronous
 * loop can call it and stop without its worker being killed.
 *
 * @example
 * ```ts ignore
 * // task.ts, the Pool's module
 * import { throwIfTaskAborted } from "@weft/weft/concurrency";
 *
 * export function spin(n: number) {
 *   let x = 0;
 *   for (let i = 0; i < n; i++) {
 *     if (i % 10_000 === 0) throwIfTaskAborted();
 *     x += i;
 *   }
 *   return x;
 * }
 * ```
 *
 * @throws {DOMException} `AbortError` when the task was aborted.
 * @throws {TypeError} Outside a Pool task.
 */
export function throwIfTaskAborted(): void {
  context("check for abort").throwIfAborted();
}

/** A task result whose transferables are moved back to the caller. */
export interface TransferredResult<T> {
  /** Marks the wrapper (the value of `TRANSFER_MARK` in the wire module). */
  readonly "@@weftTransfer": true;
  /** The result. */
  readonly value: T;
  /** What to move. */
  readonly transfer: Transferable[];
}

/**
 * Inside a {@linkcode Pool} task: return `transferResult(value, [buffer])`
 * to move `buffer` (not copy it) back to the caller, who receives `value`.
 *
 * @example
 * ```ts
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," + encodeURIComponent(
 *   `import { transferResult } from ${JSON.stringify(import.meta.resolve("@weft/weft/concurrency"))};
 *    export function make(n) { const b = new Uint8Array(n); return transferResult(b, [b.buffer]); }`,
 * );
 * await using pool = new Pool({ module, size: 1 });
 * console.log((await pool.apply<Uint8Array>("make", [8])).length); // 8
 * ```
 */
export function transferResult<T>(
  value: T,
  transfer: Transferable[],
): TransferredResult<T> {
  return { "@@weftTransfer": true, value, transfer };
}
