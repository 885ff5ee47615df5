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
 * | 5    | `stop` (the worker is retired)    | one last message: `crash` (uncaught   |
 * |      |                                   | error), `exit` (Deno.exit / close) or |
 * |      |                                   | `stopped`; then the worker frees its  |
 * |      |                                   | thread ident and closes itself        |
 *
 * Shared state, per worker slot (`STATE_WORDS` Int32 words in one pool-wide
 * SharedArrayBuffer): `STATE` (idle / running / exited), `TASK` (id of the
 * task running now), `STARTED` (start
 * time of the running task, ms since `epoch`), `BEGUN` (see
 * {@linkcode W_BEGUN}). A pool-wide cancel ring of
 * `CANCEL_RING` words lets a worker skip a dispatched task that was
 * cancelled before it started: `ring[id % CANCEL_RING] === id`.
 *
 * @module
 */

export const STATE_WORDS = 8;
export const W_STATE = 0;
export const W_TASK = 1;
export const W_STARTED = 3;
/**
 * How many dispatched tasks the worker has begun (run or skipped), plus
 * {@linkcode CLAIM_CLOSED} once the parent took the rest back: the worker
 * begins a task only by a compare-exchange that keeps the bit clear, and
 * the parent sets the bit with one atomic `or` that returns the count, so
 * the two agree exactly on which tasks ran (a task never runs twice).
 */
export const W_BEGUN = 4;
export const CLAIM_CLOSED = 0x40000000;

export const STATE_IDLE = 0;
export const STATE_RUNNING = 1;
export const STATE_EXITED = 2;

export const CANCEL_RING = 4096;

/**
 * The result mailbox of a thread worker (one small SharedArrayBuffer each):
 * the fast path of a lone task on an idle pool. The parent writes the
 * task's id to `ARMED` before posting it; the worker, if the result is a
 * number, boolean, null or undefined, writes it here and notifies `SEQ`
 * instead of posting a message (an `Atomics.waitAsync` wake-up costs about
 * half a message round trip). Any other outcome bumps `SEQ` with tag
 * {@linkcode MB_POSTED} and goes by `postMessage` as usual.
 */
export const MB_SEQ = 0;
export const MB_ARMED = 1;
export const MB_ID = 2;
export const MB_TAG = 3;
/** Float64 index of the value (a number). */
export const MB_VALUE = 2;
/** Float64 index of the task's run time in ms. */
export const MB_MS = 3;
export const MB_BYTES = 32;
/** Mailbox tags. */
export const MB_POSTED = 0;
export const MB_NUMBER = 1;
export const MB_TRUE = 2;
export const MB_FALSE = 3;
export const MB_NULL = 4;
export const MB_UNDEFINED = 5;

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
  registry: SharedArrayBuffer;
  ident: number;
  name: string;
  module: string;
  initializer?: string;
  initArgs: unknown[];
  state: SharedArrayBuffer;
  cancel: SharedArrayBuffer;
  mailbox: SharedArrayBuffer;
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

export interface StopMessage {
  t: "stop";
}

export type ToWorker = InitMessage | RunMessage | AbortMessage | StopMessage;

/** One outcome; `ms` is how long the task ran. */
export type WireResult =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: unknown; ms: number; cancelled?: boolean };

export type FromWorker =
  | { t: "ready" }
  | { t: "initError"; error: unknown }
  /** Outcomes, flat: `[id, ok (1 | 0), value or error, ms, ...]`. */
  | unknown[]
  | { t: "crash"; error?: unknown; thrown?: unknown }
  | { t: "exit"; code: number }
  | { t: "stopped" }
  /** A child process begins task `id` (sent before it runs). */
  | { t: "begin"; id: number; at: number };

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
