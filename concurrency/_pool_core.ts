/**
 * The dispatch side of a pool's machinery (private): batching scheduler,
 * watchdog (timeouts), task submission and aborts, stats, close, terminate
 * and join, on top of the worker side in `_pool_workers.ts`. `pool.ts` is
 * the documented public face that delegates here.
 *
 * @module
 */

import {
  batchLength,
  CANCEL_RING,
  pushTask,
  type TaskBatch,
  type TaskMode,
} from "./_pool_wire.ts";
import { shareValue, transferablesOf } from "../_internal/share.ts";
import { checkName, parsePoolOptions } from "./_pool_options.ts";
import { MAX_PIPELINE, NO_TRANSFER, PoolWorkers } from "./_pool_workers.ts";
import { type PoolWorker, Task } from "./_pool_worker_handle.ts";
import type {
  PoolOptions,
  PoolStats,
  RunningTask,
  TaskOptions,
} from "./pool.ts";

export { MAX_PIPELINE } from "./_pool_workers.ts";

/** One pool's machinery (see the module doc). */
export class PoolCore extends PoolWorkers {
  constructor(options: PoolOptions) {
    super();
    const o = parsePoolOptions(options);
    this._module = o.module;
    this._size = o.size;
    this._maxTasksPerWorker = o.maxTasksPerWorker;
    this._initializer = o.initializer;
    this._initArgs = o.initArgs;
    this._taskTimeout = o.taskTimeout;
    this._grace = o.grace;
    this._maxUnstoppable = o.maxUnstoppable;
    this._isolation = o.isolation;
    this._target = o.isolation === "process" ? "process" : "worker";
    this._cancelBuf = new SharedArrayBuffer(CANCEL_RING * 4);
    this._cancel = new Int32Array(this._cancelBuf);
    this._workers = new Array(this._size).fill(undefined);
    for (let slot = 0; slot < this._size; slot++) this._spawn(slot);
  }

  get size(): number {
    return this._size;
  }

  get closed(): boolean {
    return this._closed;
  }

  // ---- dispatch ----------------------------------------------------------

  protected _idleWorker(): boolean {
    for (const entry of this._workers) if (entry?.idle) return true;
    return false;
  }

  protected _schedulePump(): void {
    if (this._pumpScheduled) return;
    this._pumpScheduled = true;
    queueMicrotask(() => {
      this._pumpScheduled = false;
      this._pump();
    });
  }

  protected _pipeline(): number {
    return Math.max(
      2,
      Math.min(MAX_PIPELINE, Math.floor(2 / Math.max(this._avgMs, 0.001))),
    );
  }

  protected _pump(): void {
    if (this._terminated) return;
    const depth = this._pipeline();
    let progress = true;
    while (this._queue.length > 0 && progress) {
      progress = false;
      for (const entry of this._workers) {
        if (!entry || entry.dead || !entry.ready || this._queue.length === 0) {
          continue;
        }
        let room = depth - entry.inflight.length;
        if (this._maxTasksPerWorker !== undefined) {
          room = Math.min(room, this._maxTasksPerWorker - entry.sent);
        }
        if (room <= 0) continue;
        // Share the queue fairly between workers.
        const share = Math.max(1, Math.ceil(this._queue.length / this._size));
        const take = Math.min(room, share);
        const idle = entry.inflight.length === 0;
        const batch: TaskBatch = [];
        const transfer: Transferable[] = [];
        let lone: Task | undefined;
        for (let i = 0; i < take && this._queue.length > 0; i++) {
          const task = this._queue.shift()!;
          if (task.settled) {
            i--;
            continue;
          }
          entry.assign(task);
          pushTask(batch, task);
          transfer.push(...task.transfer);
          lone = task;
        }
        if (lone !== undefined) {
          // A lone task to an idle worker: its result may take the fast
          // path (armed before the post, so it cannot be missed).
          if (idle && batchLength(batch) === 1) {
            entry.runner.expectLone(lone.id);
          }
          this._postBatch(entry, batch, transfer);
          progress = true;
        }
      }
    }
    this._updateWatchdog();
  }

  /**
   * Posts a batch; if it cannot be cloned (a function or Symbol among the
   * arguments), posts the tasks one by one and fails only those that cannot
   * cross, as if they had never been dispatched.
   */
  protected _postBatch(
    entry: PoolWorker,
    batch: TaskBatch,
    transfer: Transferable[],
  ): void {
    try {
      entry.runner.post(batch, transfer);
      return;
    } catch {
      // find the culprits below
    }
    const tasks = entry.inflight.splice(
      entry.inflight.length - batchLength(batch),
    );
    for (const task of tasks) {
      const one: TaskBatch = [];
      pushTask(one, task);
      try {
        entry.runner.post(one, task.transfer);
        entry.inflight.push(task);
      } catch (error) {
        entry.sent--;
        task.worker = undefined;
        this._settle(task, false, error);
      }
    }
  }

  /**
   * Starts the watchdog when tasks are in flight. It stops itself (in
   * `_watch`) once nothing is in flight, rather than here, so that a stream
   * of one-at-a-time tasks does not create and clear a timer per task.
   */
  protected _updateWatchdog(): void {
    if (this._watchdog !== undefined || this._terminated) return;
    const busy = this._workers.some((w) =>
      w !== undefined && w.inflight.length > 0
    );
    if (busy) {
      const period = Math.max(5, Math.min(100, (this._taskTimeout ?? 400) / 4));
      this._watchdog = setInterval(() => this._watch(), period);
    }
  }

  /** Periodic check while tasks run: overrun tasks. */
  protected _watch(): void {
    const now = Date.now() - this._epoch;
    for (const entry of this._workers) {
      if (!entry || entry.dead) continue;
      if (this._taskTimeout === undefined) continue;
      const task = entry.running();
      if (task !== undefined) {
        const age = now - entry.runner.startedAt();
        if (age > this._taskTimeout) {
          const full = this._hungCount() >= this._maxUnstoppable;
          this._onDeath(
            entry,
            new DOMException(
              `Cannot finish task "${task.fn}": it ran longer than "taskTimeout" (${this._taskTimeout} ms)` +
                (full
                  ? `; its worker may be unstoppable and the pool already left ${this._hungCount()} such workers ("maxUnstoppable"), so it is not replaced`
                  : ""),
              "TimeoutError",
            ),
            task.id,
            false,
          );
        }
      }
    }
    const busy = this._workers.some((w) =>
      w !== undefined && !w.dead && w.inflight.length > 0
    );
    if (!busy && this._watchdog !== undefined) {
      clearInterval(this._watchdog);
      this._watchdog = undefined;
    }
  }

  submit(
    fn: string,
    args: unknown[],
    mode: TaskMode,
    options?: TaskOptions,
  ): Promise<unknown> {
    checkName("fn", fn);
    const signal = options?.signal;
    if (this._broken !== undefined) {
      return Promise.reject(
        new Error(
          "Cannot run task: the pool's initializer or module failed in a worker",
          { cause: this._broken },
        ),
      );
    }
    if (this._closed) {
      return Promise.reject(
        new TypeError(`Cannot run task "${fn}": the pool is closed`),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (
      this._hungCount() > this._maxUnstoppable &&
      this._workers.every((w) => w === undefined)
    ) return Promise.reject(this._stuckError());
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
        shared = shareValue(args, this._target) as unknown[];
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const task = new Task(
        this._nextId++,
        fn,
        shared,
        mode,
        simple
          ? (options?.transfer ?? NO_TRANSFER)
          : [...(options?.transfer ?? []), ...transferablesOf(shared)],
        resolve,
        reject,
        signal,
      );
      if (this._nextId >= 0x7fffffff) this._nextId = 1;
      if (signal) {
        task.onAbort = () => this._abortTask(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this._queue.push(task);
      // A lone task on an idle pool goes out now (latency); a burst of
      // calls in one tick is batched by the microtask pump (throughput).
      if (
        this._queue.length === 1 && !this._pumpScheduled && this._idleWorker()
      ) {
        this._pump();
      } else {
        this._schedulePump();
      }
    });
  }

  protected _abortTask(task: Task): void {
    if (task.settled) return;
    const reason = task.signal!.reason;
    const entry = task.worker;
    this._settle(task, false, reason);
    if (!entry || entry.dead) {
      // Still queued: drop it.
      this._queue.remove(task);
      this._retireIdle();
      return;
    }
    // Dispatched: the worker skips it if not started; a running task sees
    // the flag in throwIfTaskAborted() and its signal aborts.
    Atomics.store(this._cancel, task.id % CANCEL_RING, task.id);
    entry.runner.post({ t: "abort", id: task.id });
    if (entry.graceTimer === undefined) {
      entry.graceTimer = setTimeout(() => {
        entry.graceTimer = undefined;
        if (entry.dead) return;
        const running = entry.running();
        if (running?.settled) {
          // An aborted task ignored its signal: replace the worker.
          this._onDeath(entry, reason, running.id, false);
        } else {
          this._pump();
        }
      }, this._grace);
    }
  }

  stats(): PoolStats {
    const running: RunningTask[] = [];
    let dispatched = 0;
    const now = Date.now() - this._epoch;
    for (const entry of this._workers) {
      if (!entry || entry.dead) continue;
      dispatched += entry.inflight.length;
      const task = entry.running();
      if (!task) continue;
      running.push({
        name: task.fn,
        age: Math.max(0, now - entry.runner.startedAt()),
        worker: entry.id,
      });
    }
    return {
      queued: this._queue.length + dispatched -
        running.length,
      running,
      completed: this._completed,
      failed: this._failed,
      workers: this._workers.filter((w) => w && !w.dead).length,
      unstoppable: this._unstoppable(),
    };
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    for (const entry of this._workers) {
      if (
        entry && !entry.dead && entry.inflight.length === 0 &&
        this._queue.length === 0
      ) this._retire(entry);
    }
    this._checkExited();
  }

  terminate(): void {
    if (this._terminated) return;
    this._closed = true;
    this._terminated = true;
    const error = new Error("Cannot finish task: the pool was terminated");
    const tasks = this._queue.drain();
    for (const entry of this._workers) {
      if (!entry) continue;
      tasks.push(...entry.drain());
      this._retire(entry);
    }
    if (this._watchdog !== undefined) clearInterval(this._watchdog);
    this._watchdog = undefined;
    for (const task of tasks) this._settle(task, false, error);
    this._checkExited();
  }

  join(): Promise<void> {
    if (!this._closed) {
      return Promise.reject(
        new TypeError("Cannot join pool: call close() or terminate() first"),
      );
    }
    this._exited ??= new Promise<void>((resolve) => {
      this._onExited = resolve;
      this._checkExited();
    });
    return this._exited;
  }
}
