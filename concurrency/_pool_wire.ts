/**
 * Wire messages between a {@linkcode Pool} and its workers, their flat
 * codecs, and the layout of the pool's shared state words (private).
 *
 * Messages (each one tagged in its `t` field, except the two flat batches,
 * which are arrays):
 *
 * | when                  | parent -> worker                              | worker -> parent                                       |
 * | --------------------- | --------------------------------------------- | ------------------------------------------------------ |
 * | start                 | `init` (module, initializer, shared buffers)  | `ready`, or `initError` (then it exits)                |
 * | tasks                 | a {@linkcode TaskBatch}                       | {@linkcode ResultBatch}es, in task order; a lone armed |
 * |                       |                                               | task's primitive result comes by the mailbox instead   |
 * | process workers only  |                                               | `begin` (task id, start time) before each task runs    |
 * | the caller aborted    | `abort` (task id)                             | (the task's outcome, an `AbortError` if it had not     |
 * |                       |                                               | started)                                               |
 * | retirement            | `stop`                                        | one last message: `crash` (uncaught error), `exit`     |
 * |                       |                                               | (Deno.exit / close) or `stopped`; then the worker      |
 * |                       |                                               | frees its thread ident and closes itself               |
 *
 * Shared memory beside the messages: each thread worker's state words and
 * exactly-once claim (`_pool_state.ts`), its result mailbox for the fast
 * path (`_pool_mailbox.ts`), and a pool-wide cancel ring of
 * {@linkcode CANCEL_RING} words that lets a worker skip a dispatched task
 * cancelled before it started: `ring[id % CANCEL_RING] === id`.
 *
 * @module
 */

export const CANCEL_RING = 4096;

/** How a worker runs a task's `args`. */
export const TaskMode = {
  /** `fn(...args)`. */
  Call: 0,
  /** `args` is a chunk of items: `fn(item)` for each (`map`, `imap`). */
  MapChunk: 1,
  /** `args` is a chunk of argument lists: `fn(...item)` for each (`starmap`). */
  StarmapChunk: 2,
} as const;
/** One of {@linkcode TaskMode}'s values. */
export type TaskMode = typeof TaskMode[keyof typeof TaskMode];

/** One task as it crosses to a worker. */
export interface WireTask {
  id: number;
  fn: string;
  /** Arguments (already passed through `shareValue`). */
  args: unknown[];
  mode: TaskMode;
}

/** The first message to a thread worker. */
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
  epoch: number;
}

/**
 * A batch of tasks, flat (cheaper to clone than objects): four slots per
 * task, `[id, fn, mode, args, id, fn, mode, args, ...]`. Written by
 * {@linkcode pushTask} and read by {@linkcode decodeBatch} only.
 */
export type TaskBatch = unknown[];

/**
 * Outcomes, flat: four slots per task, `[id, ok (1 | 0), value or error,
 * ms, ...]`. Written by {@linkcode encodeResults} and read by
 * {@linkcode forEachResult} only.
 */
export type ResultBatch = unknown[];

/** Slots per task in a {@linkcode TaskBatch}. */
const TASK_SLOTS = 4;
/** Slots per outcome in a {@linkcode ResultBatch}. */
const RESULT_SLOTS = 4;

/** Appends `task` to `batch`. */
export function pushTask(batch: TaskBatch, task: WireTask): void {
  batch.push(task.id, task.fn, task.mode, task.args);
}

/** Number of tasks in `batch`. */
export function batchLength(batch: TaskBatch): number {
  return batch.length / TASK_SLOTS;
}

/** The tasks of `batch`, in order. */
export function decodeBatch(batch: TaskBatch): WireTask[] {
  const tasks: WireTask[] = [];
  for (let i = 0; i < batch.length; i += TASK_SLOTS) {
    tasks.push({
      id: batch[i] as number,
      fn: batch[i + 1] as string,
      mode: batch[i + 2] as TaskMode,
      args: batch[i + 3] as unknown[],
    });
  }
  return tasks;
}

/** Encodes outcomes, in order. */
export function encodeResults(results: readonly WireResult[]): ResultBatch {
  const flat: ResultBatch = new Array(results.length * RESULT_SLOTS);
  for (let k = 0, i = 0; k < results.length; k++, i += RESULT_SLOTS) {
    const r = results[k];
    flat[i] = r.id;
    flat[i + 1] = r.ok ? 1 : 0;
    flat[i + 2] = r.ok ? r.value : r.error;
    flat[i + 3] = r.ms;
  }
  return flat;
}

/** Number of outcomes in `results`. */
export function resultsLength(results: ResultBatch): number {
  return results.length / RESULT_SLOTS;
}

/**
 * Calls `visit` for each outcome of `results`, in order, without making an
 * object per outcome (`value` is the error when `ok` is false).
 */
export function forEachResult(
  results: ResultBatch,
  visit: (id: number, ok: boolean, value: unknown, ms: number) => void,
): void {
  for (let i = 0; i < results.length; i += RESULT_SLOTS) {
    visit(
      results[i] as number,
      results[i + 1] === 1,
      results[i + 2],
      results[i + 3] as number,
    );
  }
}

/** The `init` message of a process worker (its first frame). */
export interface ProcessInitMessage {
  t: "init";
  name: string;
  module: string;
  initializer?: string;
  initArgs: unknown[];
  epoch: number;
}

export interface AbortMessage {
  t: "abort";
  id: number;
}

export interface StopMessage {
  t: "stop";
}

/** What a thread worker receives (a process worker gets the same, with a
 * {@linkcode ProcessInitMessage} first). */
export type ToWorker = InitMessage | TaskBatch | AbortMessage | StopMessage;

/** One outcome; `ms` is how long the task ran. */
export type WireResult =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: unknown; ms: number };

export type FromWorker =
  | { t: "ready" }
  | { t: "initError"; error: unknown }
  | ResultBatch
  | { t: "crash"; error?: unknown; thrown?: unknown }
  | { t: "exit"; code: number }
  | { t: "stopped" }
  /** A child process begins task `id` (sent before it runs). */
  | { t: "begin"; id: number; at: number };

/**
 * True for an array holding only primitives: a result that needs no walk
 * for shared objects on either side.
 */
export function flatPrimitives(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v === "object" && v !== null) return false;
  }
  return true;
}

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
