/**
 * The task engine of a `Pool` worker (private), shared by the two kinds of
 * worker: a Web Worker (`_pool_worker.ts`) and a Deno child process
 * (`_pool_child.ts`). It imports the task module, runs the initializer,
 * then runs the dispatched tasks one at a time, in order, awaiting async
 * ones, and hands their outcomes back in batches.
 *
 * What differs between the two kinds is behind {@linkcode EngineHost}: how
 * outcomes travel, how a task is claimed (shared memory, or a "begin"
 * frame the parent reads before the child can die), and how an abort is
 * seen.
 *
 * @module
 */

import { cloneableError, exportOf } from "../_internal/run_export.ts";
import {
  decodeBatch,
  flatPrimitives,
  TASK_CONTEXT,
  type TaskBatch,
  type TaskContext,
  TaskMode,
  TRANSFER_MARK,
  type WireResult,
  type WireTask,
} from "./_pool_wire.ts";
import {
  importRevivers,
  reviveValue,
  type ShareTarget,
  shareValue,
  transferablesOf,
} from "../_internal/share.ts";

/** What the engine needs from the worker it runs in. */
export interface EngineHost {
  /** Where handles in results go. */
  readonly target: ShareTarget;
  /** Sends outcomes (encoded with `encodeResults`, or by the mailbox);
   * throws a `DataCloneError` if something cannot cross, having sent
   * nothing. */
  send(results: WireResult[], transfer: Transferable[]): void;
  /** Claims task `id` before it runs (or is skipped); false if the parent
   * took it back: the engine then drops its queue and stops. */
  begin(id: number): boolean;
  /** The task that began is running now (state for timeouts and stats). */
  running(id: number): void;
  /** No task is running. */
  idle(): void;
  /** True if the caller cancelled task `id`. */
  cancelled(id: number): boolean;
  /** Called when `begin` refused: stop this worker. */
  stop(): void;
  /** Send each outcome at once instead of batching (child processes). */
  readonly eager: boolean;
}

type TaskFunction = (...args: unknown[]) => unknown;

function abortError(): DOMException {
  return new DOMException("The task was aborted", "AbortError");
}

/** True if any argument is an object (it may hold handles to revive). */
export function needsRevive(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === "object" && a !== null) return true;
  }
  return false;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise ||
    (typeof value === "object" && value !== null &&
      typeof (value as PromiseLike<unknown>).then === "function");
}

/** The running task's context; its AbortController is made only if the
 * task asks for its signal (most tasks never do). */
class RunningTask implements TaskContext {
  #controller: AbortController | undefined;
  constructor(
    readonly id: number,
    readonly fn: string,
    readonly host: EngineHost,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.host.cancelled(this.id)) this.#controller.abort(abortError());
    }
    return this.#controller.signal;
  }

  abort(): void {
    const signal = this.signal;
    if (!signal.aborted) this.#controller!.abort(abortError());
  }

  throwIfAborted(): void {
    if (!this.host.cancelled(this.id)) return;
    this.abort();
    throw this.signal.reason;
  }
}

// deno-lint-ignore no-explicit-any
const globals = globalThis as any;

/** Runs a pool worker's tasks (see the module doc). */
export class TaskEngine {
  #host: EngineHost;
  #mod: Record<string, unknown> = {};
  #moduleUrl = "";
  #queue: WireTask[] = [];
  #running = false;
  #pending: WireResult[] = [];
  #pendingTransfer: Transferable[] = [];
  #pendingSince = 0;
  #current: RunningTask | undefined;
  #loading: Promise<void> | undefined;

  constructor(host: EngineHost) {
    this.#host = host;
  }

  /** Imports the module and runs the initializer (throws their error). */
  async load(
    moduleUrl: string,
    initializer: string | undefined,
    initArgs: unknown[],
  ): Promise<void> {
    this.#moduleUrl = moduleUrl;
    this.#mod = await import(moduleUrl);
    if (initializer !== undefined) {
      const init = this.#lookup(initializer);
      await importRevivers(initArgs);
      await init(...(reviveValue(initArgs) as unknown[]));
    }
  }

  /** Queues a batch of tasks and runs it. */
  enqueue(batch: TaskBatch): void {
    const tasks = decodeBatch(batch);
    let handles = false;
    for (let i = 0; i < tasks.length && !handles; i++) {
      handles = needsRevive(tasks[i].args);
    }
    if (handles || this.#loading !== undefined) {
      // Shared objects whose module is not loaded here yet (pipe ends,
      // manager proxies...): import it first, keeping batches in order.
      const previous = this.#loading ?? Promise.resolve();
      const next: Promise<void> = previous
        .then(() =>
          handles ? importRevivers(tasks.map((t) => t.args)) : undefined
        )
        .catch(() => {}) // reviveValue then reports what is missing
        .then(() => {
          if (this.#loading === next) this.#loading = undefined;
          this.#queue.push(...tasks);
          this.#drain();
        });
      this.#loading = next;
      return;
    }
    this.#queue.push(...tasks);
    this.#drain();
  }

  /** The caller aborted task `id`: its signal aborts if it is running. */
  abort(id: number): void {
    if (this.#current?.id === id) this.#current.abort();
  }

  /** Sends the outcomes not sent yet. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const results = this.#pending;
    const transfer = this.#pendingTransfer;
    this.#pending = [];
    this.#pendingTransfer = [];
    try {
      this.#host.send(results, transfer);
    } catch {
      // Some result cannot be cloned (a function, a Symbol...): send them
      // one by one, each uncloneable one as its task's error.
      for (const r of results) {
        try {
          this.#host.send([r], r.ok ? transferablesOf(r.value) : []);
        } catch (error) {
          this.#host.send([{
            id: r.id,
            ok: false,
            error: new DOMException(
              `Cannot return task result: ${(error as Error).message}`,
              "DataCloneError",
            ),
            ms: r.ms,
          }], []);
        }
      }
    }
  }

  #lookup(name: string): TaskFunction {
    return exportOf(this.#mod, this.#moduleUrl, name);
  }

  #unwrapTransfer(value: unknown): unknown {
    if (
      typeof value === "object" && value !== null &&
      (value as Record<string, unknown>)[TRANSFER_MARK] === true
    ) {
      const marked = value as { value: unknown; transfer: Transferable[] };
      this.#pendingTransfer.push(...marked.transfer);
      return marked.value;
    }
    return value;
  }

  #finish(id: number, ok: boolean, value: unknown, t0: number): void {
    const ms = performance.now() - t0;
    const pending = this.#pending;
    if (ok) {
      let result = this.#unwrapTransfer(value);
      if (
        typeof result === "object" && result !== null &&
        !flatPrimitives(result)
      ) {
        // Queues, locks... returned by a task arrive live too.
        try {
          result = shareValue(result, this.#host.target);
          this.#pendingTransfer.push(...transferablesOf(result));
        } catch (error) {
          pending.push({ id, ok: false, error: cloneableError(error), ms });
          ok = false;
        }
      }
      if (ok) pending.push({ id, ok: true, value: result, ms });
    } else pending.push({ id, ok: false, error: cloneableError(value), ms });
    this.#current = undefined;
    globals[TASK_CONTEXT] = undefined;
    this.#host.idle();
    if (this.#host.eager) this.flush();
  }

  /** Runs the rest of a chunk whose item `i` returned a promise. */
  async #finishChunk(
    fn: TaskFunction,
    task: WireTask,
    args: unknown[],
    out: unknown[],
    first: PromiseLike<unknown>,
  ): Promise<unknown[]> {
    out.push(await first);
    for (let i = out.length; i < args.length; i++) {
      const item = args[i];
      out.push(
        await (task.mode === TaskMode.MapChunk
          ? fn(item)
          : fn(...(item as unknown[]))),
      );
    }
    return out;
  }

  /**
   * Runs one task. Synchronous tasks complete before this returns (no
   * promise, no microtask hop); an async one returns the promise of its end.
   */
  #runOne(task: WireTask): Promise<void> | undefined {
    const host = this.#host;
    if (!host.begin(task.id)) {
      this.#queue.length = 0;
      host.stop();
      return undefined;
    }
    if (host.cancelled(task.id)) {
      this.#pending.push({
        id: task.id,
        ok: false,
        error: abortError(),
        ms: 0,
      });
      if (host.eager) this.flush();
      return undefined;
    }
    const context = new RunningTask(task.id, task.fn, host);
    this.#current = context;
    globals[TASK_CONTEXT] = context;
    host.running(task.id);
    const t0 = performance.now();
    let value: unknown;
    try {
      const fn = this.#lookup(task.fn);
      const args = needsRevive(task.args)
        ? reviveValue(task.args) as unknown[]
        : task.args;
      if (task.mode === TaskMode.Call) {
        value = fn(...args);
      } else {
        const out: unknown[] = [];
        for (let i = 0; i < args.length; i++) {
          const item = args[i];
          const v = task.mode === TaskMode.MapChunk
            ? fn(item)
            : fn(...(item as unknown[]));
          if (isThenable(v)) {
            value = this.#finishChunk(fn, task, args, out, v);
            break;
          }
          out.push(v);
        }
        value ??= out;
      }
    } catch (error) {
      this.#finish(task.id, false, error, t0);
      return undefined;
    }
    if (!isThenable(value)) {
      this.#finish(task.id, true, value, t0);
      return undefined;
    }
    // Hand over finished results before waiting: the task may crash the
    // worker (uncaught error in a timer) while we wait.
    this.flush();
    return Promise.resolve(value).then(
      (v) => this.#finish(task.id, true, v, t0),
      (e) => this.#finish(task.id, false, e, t0),
    );
  }

  #drain(): void {
    if (this.#running) return;
    this.#running = true;
    const queue = this.#queue;
    while (queue.length > 0) {
      const task = queue.shift()!;
      if (this.#pending.length === 0) this.#pendingSince = performance.now();
      const waiting = this.#runOne(task);
      if (waiting) {
        waiting.then(() => {
          this.#running = false;
          this.#drain();
        });
        return;
      }
      if (performance.now() - this.#pendingSince > 2) this.flush();
    }
    this.flush();
    this.#running = false;
  }
}
