/**
 * The helpers a `Pool` task uses inside its worker:
 * {@linkcode taskSignal}, {@linkcode throwIfTaskAborted} and
 * {@linkcode transferResult}.
 *
 * @module
 */

import { TASK_CONTEXT, type TaskContext } from "./_pool_wire.ts";

function context(what: string): TaskContext {
  // deno-lint-ignore no-explicit-any
  const ctx = (globalThis as any)[TASK_CONTEXT] as TaskContext | undefined;
  if (!ctx) throw new TypeError(`Cannot ${what}: not inside a Pool task`);
  return ctx;
}

/**
 * Inside a `Pool` task: the task's `AbortSignal`. It aborts when
 * the caller's `signal` aborts — seen by async code at its next `await`, or
 * at once by {@linkcode throwIfTaskAborted}. Read it synchronously at the
 * start of the task (after the first `await` another task may be current
 * only if the pool runs several — it does not: one task at a time). Pass
 * it on to what the task awaits, e.g. `fetch(url, { signal: taskSignal() })`.
 *
 * @example A task that stops waiting when the caller aborts
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const weft = JSON.stringify(import.meta.resolve("@weft/weft/concurrency"));
 * const module = "data:text/javascript," + encodeURIComponent(
 *   `import { taskSignal } from ${weft};
 *    export function sleepUntilAborted() {
 *      const signal = taskSignal();
 *      return new Promise((_, reject) =>
 *        signal.addEventListener("abort", () => reject(signal.reason)));
 *    }`,
 * );
 * await using pool = new Pool({ module, size: 1 });
 * const controller = new AbortController();
 * const pending = pool.apply("sleepUntilAborted", [], {
 *   signal: controller.signal,
 * });
 * controller.abort();
 * await assert.rejects(pending, { name: "AbortError" });
 * ```
 *
 * @throws {TypeError} Outside a Pool task.
 */
export function taskSignal(): AbortSignal {
  return context("get the task signal").signal;
}

/**
 * Inside a `Pool` task: throws the abort reason if the caller
 * aborted this task. It reads a shared-memory flag, so a tight synchronous
 * loop can call it and stop without its worker being killed.
 *
 * @example Stopping an endless loop when aborted
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const weft = JSON.stringify(import.meta.resolve("@weft/weft/concurrency"));
 * const module = "data:text/javascript," + encodeURIComponent(
 *   `import { throwIfTaskAborted } from ${weft};
 *    export function spin() {
 *      for (let i = 0; ; i++) if (i % 10000 === 0) throwIfTaskAborted();
 *    }`,
 * );
 * await using pool = new Pool({ module, size: 1 });
 * const signal = AbortSignal.timeout(50);
 * await assert.rejects(pool.apply("spin", [], { signal }), {
 *   name: "TimeoutError",
 * });
 * // The loop stopped itself: its worker needed no kill and runs the next task.
 * assert.equal(pool.stats().unstoppable, 0);
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
 * Inside a `Pool` task: return `transferResult(value, [buffer])`
 * to move `buffer` (not copy it) back to the caller, who receives `value`.
 *
 * @example Returning a buffer without copying it
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," + encodeURIComponent(
 *   `import { transferResult } from ${JSON.stringify(import.meta.resolve("@weft/weft/concurrency"))};
 *    export function make(n) { const b = new Uint8Array(n); return transferResult(b, [b.buffer]); }`,
 * );
 * await using pool = new Pool({ module, size: 1 });
 * assert.equal((await pool.apply<Uint8Array>("make", [8])).length, 8);
 * ```
 */
export function transferResult<T>(
  value: T,
  transfer: Transferable[],
): TransferredResult<T> {
  return { "@@weftTransfer": true, value, transfer };
}
