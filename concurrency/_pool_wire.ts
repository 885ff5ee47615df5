/**
 * Wire messages between a {@linkcode Pool} and its workers, and the layout
 * of the pool's shared state words (private).
 *
 * | step | parent -> worker                  | worker -> parent                      |
 * | ---- | --------------------------------- | ------------------------------------- |
 * | 1    | `init` (module, initializer, ...) |                                       |
 * | 2    |                                   | `ready`, or `initError` (then exits)  |
 * | 3    | a run batch (flat array of tasks) |                                       |
 * | 4    | `abort` (a task id, optional)     | results (flat array, in task order)   |
 * | 5    |                                   | `crash` (uncaught error), then `exit` |
| 6    |                                   | `exit` from the `unload` handler      |
 *
 * Shared state, per worker slot (`STATE_WORDS` Int32 words in one pool-wide
 * SharedArrayBuffer): `STATE` (idle / running / exited), `TASK` (id of the
 * task running now), `ABORT` (id of the task the parent asked to stop, read
 * by `throwIfTaskAborted()` even inside a tight loop), `STARTED` (start
 * time of the running task, ms since `epoch`). A pool-wide cancel ring of
 * `CANCEL_RING` words lets a worker skip a dispatched task that was
 * cancelled before it started: `ring[id % CANCEL_RING] === id`.
 *
 * @module
 */

export const STATE_WORDS = 4;
export const W_STATE = 0;
export const W_TASK = 1;
export const W_ABORT = 2;
export const W_STARTED = 3;

export const STATE_IDLE = 0;
export const STATE_RUNNING = 1;
export const STATE_EXITED = 2;

export const CANCEL_RING = 4096;

/** One task as it crosses to a worker. */
export interface WireTask {
  id: number;
  fn: string;
  /** Arguments (already passed through `shareValue`). */
  args: unknown[];
  /** 0: call `fn(...args)`; 1: `args` is a chunk, call `fn(x)` per item;
   * 2: `args` is a chunk of argument lists, call `fn(...x)` per item. */
  mode: 0 | 1 | 2;
}

export interface InitMessage {
  t: "init";
  module: string;
  initializer?: string;
  initArgs: unknown[];
  state: SharedArrayBuffer;
  cancel: SharedArrayBuffer;
  slot: number;
  epoch: number;
}

/**
 * A batch of tasks, flat (cheaper to clone than objects):
 * `[id, fn, mode, args, id, fn, mode, args, ...]`.
 */
export type RunMessage = unknown[];

export interface AbortMessage {
  t: "abort";
  id: number;
}

export type ToWorker = InitMessage | RunMessage | AbortMessage;

/** One outcome; `ms` is how long the task ran. */
export type WireResult =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: unknown; ms: number; cancelled?: boolean };

export type FromWorker =
  | { t: "ready" }
  | { t: "initError"; error: unknown }
  /** Outcomes, flat: `[id, ok (1 | 0), value or error, ms, ...]`. */
  | unknown[]
  | { t: "crash"; error: unknown }
  | { t: "exit" };

/** Key of the worker-side task context on `globalThis`. */
export const TASK_CONTEXT: unique symbol = Symbol.for("weft.poolTaskContext");

/** What a running task can reach (worker side). */
export interface TaskContext {
  id: number;
  fn: string;
  signal: AbortSignal;
  throwIfAborted(): void;
}

/** Marks a task's return value to be transferred rather than copied. */
export const TRANSFER_MARK = "@@weftTransfer";
