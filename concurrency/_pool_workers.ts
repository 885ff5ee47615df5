/**
 * The worker side of a pool's machinery (private): the pool's state, and
 * what happens to its workers — start, messages and results, retirement,
 * certain ends, deaths and replacements, the unstoppable-worker cap, and
 * the exactly-once bookkeeping when a worker's tasks are taken back.
 * `_pool_core.ts` extends it with dispatch, timeouts, aborts and the
 * public operations; `pool.ts` is the documented face.
 *
 * @module
 */

import { errorFromWire, type WireError } from "../_internal/run_export.ts";
import {
  flatPrimitives,
  forEachResult,
  type FromWorker,
  type ResultBatch,
} from "./_pool_wire.ts";
import {
  type RunnerEvents,
  type RunnerInit,
  ThreadRunner,
} from "./_pool_runner.ts";
import { ProcessRunner } from "./_pool_process.ts";
import { importRevivers, reviveValue } from "../_internal/share.ts";
import { Deque } from "./_pool_deque.ts";
import { PoolWorker, type Task } from "./_pool_worker_handle.ts";

/** After a stop request, how long a worker may take before it counts as
 * unstoppable. */
export const UNSTOPPABLE_MS = 1000;

export const MAX_PIPELINE = 64;
export const NO_TRANSFER: Transferable[] = [];

/** The state of one pool and the life of its workers (see the module doc). */
export abstract class PoolWorkers {
  protected _module!: string;
  protected _size!: number;
  protected _maxTasksPerWorker!: number | undefined;
  protected _initializer!: string | undefined;
  protected _initArgs!: unknown[];
  protected _taskTimeout!: number | undefined;
  protected _grace!: number;
  protected _maxUnstoppable!: number;
  protected _isolation!: "thread" | "process";
  protected _target!: "worker" | "process";
  protected _stopping = new Set<PoolWorker>();
  protected _cancelBuf!: SharedArrayBuffer;
  protected _cancel!: Int32Array;
  protected _epoch = Date.now();
  protected _workers!: (PoolWorker | undefined)[];
  protected _queue: Deque<Task> = new Deque();
  protected _nextId = 1;
  protected _nextWorker = 1;
  protected _closed = false;
  protected _terminated = false;
  protected _broken: unknown = undefined;
  protected _completed = 0;
  protected _failed = 0;
  protected _pumpScheduled = false;
  protected _watchdog!: ReturnType<typeof setInterval> | undefined;
  protected _avgMs = 1;
  protected _exited!: Promise<void> | undefined;
  protected _onExited: (() => void) | undefined;

  // ---- workers ---------------------------------------------------------

  protected _spawn(slot: number): void {
    const id = this._nextWorker++;
    const entry = new PoolWorker(id, slot);
    const events: RunnerEvents = {
      message: (message) => this._onMessage(entry, message),
      failed: (error) => this._onDeath(entry, error),
      ended: () => this._onEnded(entry),
    };
    const init: RunnerInit = {
      id,
      module: this._module,
      initializer: this._initializer,
      initArgs: this._initArgs,
      cancel: this._cancelBuf,
      epoch: this._epoch,
    };
    try {
      entry.runner = this._isolation === "process"
        ? new ProcessRunner(init, events)
        : new ThreadRunner(init, events);
    } catch (error) {
      this._onInitError(undefined, error);
      return;
    }
    this._workers[slot] = entry;
  }

  protected _onMessage(entry: PoolWorker, message: FromWorker): void {
    if (Array.isArray(message)) {
      // Late results of a retired worker still settle their tasks.
      this._settleResults(entry, message);
      if (!entry.dead) this._afterResults(entry);
      return;
    }
    switch (message.t) {
      case "ready":
        if (entry.dead) return;
        entry.ready = true;
        this._pump();
        this._retireIdle();
        break;
      case "initError":
        this._onInitError(entry, message.error);
        break;
      case "crash": {
        const cause = errorFromWire(message as WireError);
        const detail = cause instanceof Error
          ? `${cause.name}: ${cause.message}`
          : String(cause);
        this._onDeath(
          entry,
          new Error(
            `Cannot finish task: its worker crashed with an uncaught error: ${detail}`,
            { cause },
          ),
        );
        break;
      }
      case "exit":
        this._onDeath(
          entry,
          new Error(
            "Cannot finish task: its worker exited (Deno.exit() or self.close() in task code)",
          ),
        );
        break;
      case "stopped":
        this._onDeath(
          entry,
          new Error("Cannot finish task: its worker was stopped"),
        );
        break;
    }
  }

  /** Settles the tasks answered by `results` (late ones of a retired worker too). */
  protected _settleResults(entry: PoolWorker, results: ResultBatch): void {
    forEachResult(results, (id, ok, value, ms) => {
      entry.received++;
      const task = entry.take(id);
      if (task === undefined) return;
      entry.done++;
      this._avgMs = this._avgMs * 0.9 + ms * 0.1;
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
            (live) => this._settle(task, true, live),
            (error) => this._settle(task, false, error),
          );
          return;
        }
      }
      this._settle(task, ok, value);
    });
  }

  protected _afterResults(entry: PoolWorker): void {
    if (entry.inflight.length === 0) {
      entry.clearGrace();
      if (
        this._maxTasksPerWorker !== undefined &&
        entry.sent >= this._maxTasksPerWorker
      ) {
        this._retire(entry);
        if (!this._closed || this._queue.length > 0) this._respawn(entry.slot);
      }
    }
    this._pump();
    this._retireIdle();
  }

  /** After close(): ends every worker with nothing left to do. */
  protected _retireIdle(): void {
    if (!this._closed || this._queue.length > 0) return;
    for (const entry of this._workers) {
      if (entry && !entry.dead && entry.inflight.length === 0) {
        this._retire(entry);
      }
    }
  }

  /**
   * Retires a worker (recycling, close, terminate, a death or a kill): no
   * more tasks go to it and it is asked to stop. It counts as gone only
   * once its end is certain ({@linkcode Pool.stats} counts the ones that
   * do not stop).
   */
  protected _retire(entry: PoolWorker): void {
    if (!entry.retire()) return;
    if (this._workers[entry.slot] === entry) {
      this._workers[entry.slot] = undefined;
    }
    if (!entry.ended) this._stopping.add(entry);
    this._checkExited();
  }

  /** The worker's thread ended for certain. */
  protected _onEnded(entry: PoolWorker): void {
    entry.ended = true;
    this._stopping.delete(entry);
    if (!entry.dead) {
      // Ended with no last message (it could not post one).
      this._onDeath(
        entry,
        new Error("Cannot finish task: its worker ended unexpectedly"),
      );
      return;
    }
    // A place under the unstoppable cap may have opened.
    if (!this._closed && this._broken === undefined) {
      for (let slot = 0; slot < this._size; slot++) {
        if (this._workers[slot] === undefined) this._respawn(slot);
      }
      this._pump();
    }
    this._checkExited();
  }

  /** Unstoppable-candidate workers: retired while a task ran, not ended. */
  protected _hungCount(): number {
    let n = 0;
    for (const entry of this._stopping) if (entry.hung) n++;
    return n;
  }

  /** Starts a worker in `slot` unless too many hung workers remain. */
  protected _respawn(slot: number): boolean {
    if (this._terminated || this._workers[slot] !== undefined) return false;
    if (this._hungCount() > this._maxUnstoppable) return false;
    this._spawn(slot);
    return true;
  }

  /**
   * A worker died or must be killed: fail the task it was running with
   * `error`, fail the ones that ran but whose results it still held (they
   * never run again), re-queue the ones it had not begun, start a
   * replacement.
   */
  protected _onDeath(
    entry: PoolWorker,
    error: unknown,
    runningId?: number,
    certain = true,
  ): void {
    if (entry.dead) return;
    if (!entry.ready) {
      // Died while loading: replacing it would loop forever.
      this._onInitError(entry, error);
      return;
    }
    // Close the claim: from now on the worker begins no task, and `begun`
    // says exactly which ones it began.
    const claim = entry.runner.closeClaim();
    // A death the worker reported itself (crash, exit, stopped) is
    // certain; a kill after a timeout or an ignored abort may not be.
    entry.hung = !certain && entry.runner.kind === "thread" && !entry.ended;
    this._retire(entry);
    if (!this._terminated && !(this._closed && this._queue.length === 0)) {
      this._respawn(entry.slot);
    }
    const reclaim = (begun: number) =>
      this._reclaim(
        entry,
        begun,
        error,
        runningId ?? entry.runner.runningTask(),
      );
    if (typeof claim === "number") reclaim(claim);
    else claim.then(reclaim);
  }

  /**
   * Takes a dead worker's tasks back: of the `begun` ones, the running one
   * (`current`) fails with `error` and the others (finished, their results
   * still inside the worker) fail saying so — none runs again; the rest are
   * re-queued.
   */
  protected _reclaim(
    entry: PoolWorker,
    begun: number,
    error: unknown,
    current: number,
  ): void {
    let started = begun - entry.received;
    const leftover = entry.drain();
    const requeue: Task[] = [];
    const lost: Task[] = [];
    for (const task of leftover) {
      if (started > 0) {
        started--;
        if (task.id === current) this._settle(task, false, error);
        else lost.push(task);
      } else if (!task.settled) requeue.push(task);
    }
    if (lost.length > 0) {
      // They ran; their results may still arrive (late results settle).
      setTimeout(() => {
        for (const task of lost) {
          this._settle(
            task,
            false,
            new Error(
              `Cannot finish task "${task.fn}": it ran, but its worker was replaced before handing over the result`,
              { cause: error },
            ),
          );
        }
      }, entry.ended ? 0 : 100);
    }
    for (const task of requeue) task.worker = undefined;
    if (this._terminated) {
      for (const task of requeue) {
        this._settle(
          task,
          false,
          new Error("Cannot finish task: the pool was terminated"),
        );
      }
      return;
    }
    this._queue.unshiftAll(requeue);
    if (requeue.length > 0 && this._closed) {
      // close() may have retired every worker meanwhile
      for (let slot = 0; slot < this._size; slot++) {
        if (this._workers[slot] === undefined) this._respawn(slot);
      }
    }
    this._failIfNoWorkers();
    this._pump();
    this._retireIdle();
  }

  /** With every slot empty because of unstoppable workers, tasks cannot run. */
  protected _failIfNoWorkers(): void {
    if (this._workers.some((w) => w !== undefined)) return;
    if (this._terminated || this._queue.length === 0) return;
    if (this._hungCount() <= this._maxUnstoppable) return;
    const error = this._stuckError();
    for (const task of this._queue.drain()) this._settle(task, false, error);
  }

  protected _stuckError(): Error {
    return new Error(
      `Cannot run task: every worker of the pool is stuck in a task that could not be stopped (${this._hungCount()} unstoppable workers, "maxUnstoppable" is ${this._maxUnstoppable}); use isolation: "process" for tasks that must be killable`,
    );
  }

  protected _onInitError(entry: PoolWorker | undefined, error: unknown): void {
    this._broken = error;
    const wrapped = new Error(
      "Cannot run task: the pool's initializer or module failed in a worker",
      {
        cause: error,
      },
    );
    const tasks = this._queue.drain();
    if (entry) {
      this._retire(entry);
      tasks.unshift(...entry.drain());
    }
    for (const task of tasks) this._settle(task, false, wrapped);
    this.terminate();
  }

  // ---- tasks ---------------------------------------------------------------

  protected _settle(task: Task, ok: boolean, value: unknown): void {
    if (!task.settle(ok, value)) return;
    if (ok) this._completed++;
    else this._failed++;
  }

  /** Stopping workers still running {@linkcode UNSTOPPABLE_MS} after the request. */
  protected _unstoppable(): number {
    const now = performance.now();
    let n = 0;
    for (const entry of this._stopping) {
      if (now - entry.stopAt >= UNSTOPPABLE_MS) n++;
    }
    return n;
  }

  protected _exitTimer!: ReturnType<typeof setTimeout> | undefined;

  /**
   * After close/terminate: resolves `join()` once every worker ended for
   * certain or proved unstoppable (still running a second after its stop
   * request; it is counted in `stats().unstoppable`).
   */
  protected _checkExited(): void {
    if (!this._closed) return;
    if (!this._workers.every((w) => w === undefined || w.dead)) return;
    if (this._watchdog !== undefined) clearInterval(this._watchdog);
    this._watchdog = undefined;
    if (this._onExited === undefined) return;
    const now = performance.now();
    let wait = 0;
    for (const entry of this._stopping) {
      wait = Math.max(wait, entry.stopAt + UNSTOPPABLE_MS - now);
    }
    if (wait <= 0) {
      clearTimeout(this._exitTimer);
      this._onExited();
      return;
    }
    if (this._exitTimer === undefined) {
      this._exitTimer = setTimeout(() => {
        this._exitTimer = undefined;
        this._checkExited();
      }, wait + 1);
    }
  }

  /** Dispatches queued tasks to workers with room (in `_pool_core.ts`). */
  protected abstract _pump(): void;

  /** Stops everything now (in `_pool_core.ts`). */
  abstract terminate(): void;
}
