/**
 * The parent's two bookkeeping objects of a `Pool` (private): a
 * {@linkcode Task} (one call, from submit to settlement) and a
 * {@linkcode PoolWorker} (one worker and the tasks dispatched to it). The
 * pool (`_pool_workers.ts`, `_pool_core.ts`) decides; these objects keep
 * their own state consistent.
 *
 * @module
 */

import type { PoolRunner } from "./_pool_runner.ts";
import type { TaskMode } from "./_pool_wire.ts";

/** One call of a pool function, from `submit` until it settles. */
export class Task {
  /** Settled (resolved or rejected); a settled task never runs again. */
  settled = false;
  /** The worker it was dispatched to; `undefined` while it is queued. */
  worker: PoolWorker | undefined = undefined;
  /** The abort listener on `signal`, removed when the task settles. */
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly id: number,
    readonly fn: string,
    /** Arguments (already passed through `shareValue`). */
    readonly args: unknown[],
    readonly mode: TaskMode,
    readonly transfer: Transferable[],
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * Settles the task once and detaches its abort listener.
   *
   * @returns false if it was already settled (nothing happened).
   */
  settle(ok: boolean, value: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.onAbort) this.signal!.removeEventListener("abort", this.onAbort);
    if (ok) this.resolve(value);
    else this.reject(value);
    return true;
  }
}

/** One worker of a pool, seen from the parent. */
export class PoolWorker {
  /** What runs its tasks (a thread or a child process). */
  runner!: PoolRunner;
  /** Loaded its module and initializer. */
  ready = false;
  /** Retired: asked to stop (or ended); no more tasks go to it. */
  dead = false;
  /** Its end is certain (its thread ident was freed). */
  ended = false;
  /** Retired while a task ran: may be unstoppable. */
  hung = false;
  /** When it was retired (`performance.now()`). */
  stopAt = 0;
  /** Tasks dispatched to it and not yet answered, in dispatch order. */
  inflight: Task[] = [];
  /** Results received from it (each answers one begun task). */
  received = 0;
  /** Tasks it finished. */
  done = 0;
  /** Tasks dispatched to it (for `maxTasksPerWorker`). */
  sent = 0;
  /** Grace period of an aborted task that may ignore its signal. */
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    /** Its number (its name is `weft-pool-<id>`). */
    readonly id: number,
    /** Its place in the pool's worker array. */
    readonly slot: number,
  ) {}

  /** Ready, not retired, nothing in flight. */
  get idle(): boolean {
    return this.ready && !this.dead && this.inflight.length === 0;
  }

  /** Marks `task` as dispatched to this worker. */
  assign(task: Task): void {
    task.worker = this;
    this.inflight.push(task);
    this.sent++;
  }

  /**
   * Removes the in-flight task `id` and returns it (results come in
   * dispatch order, so it is nearly always the first).
   */
  take(id: number): Task | undefined {
    const inflight = this.inflight;
    if (inflight[0]?.id === id) return inflight.shift();
    const index = inflight.findIndex((t) => t.id === id);
    return index < 0 ? undefined : inflight.splice(index, 1)[0];
  }

  /** The in-flight task running now in the worker, if any. */
  running(): Task | undefined {
    const id = this.runner.runningTask();
    return id === 0 ? undefined : this.inflight.find((t) => t.id === id);
  }

  /** Takes every in-flight task back (in dispatch order). */
  drain(): Task[] {
    const tasks = this.inflight;
    this.inflight = [];
    return tasks;
  }

  clearGrace(): void {
    if (this.graceTimer !== undefined) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
  }

  /**
   * Retires the worker: no more tasks go to it, and unless its end is
   * already certain it is asked to stop.
   *
   * @returns false if it was already retired.
   */
  retire(): boolean {
    if (this.dead) return false;
    this.dead = true;
    this.stopAt = performance.now();
    this.clearGrace();
    if (!this.ended) this.runner.stop();
    return true;
  }
}
