/**
 * Waiting on a shared Int32 word (private): the one place that calls
 * `Atomics.wait` / `Atomics.waitAsync`, validates `timeout` and `signal`, and
 * keeps Deno's event loop alive while an async wait is pending.
 *
 * Rules for callers (every primitive, queue and pipe):
 * - Always wait in a loop that re-checks its condition: wakes can be spurious.
 * - An async wait abandoned by an abort stays registered in V8 until woken.
 *   {@linkcode waitAsync} flushes it by notifying every waiter on the word,
 *   so other waiters may see a spurious wake. Never rely on
 *   `Atomics.notify(view, i, 1)` reaching one particular live waiter.
 *
 * @module
 */

/** Outcome of one wait. */
export type WaitResult = "ok" | "not-equal" | "timed-out";

/** Options accepted by every async waiting call in weft. */
export interface WaitOptions {
  /** Give up after this many milliseconds (resolve `false`, not reject). */
  timeout?: number;
  /** Abort the wait; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options accepted by every blocking (`...Sync`) call in weft. */
export interface SyncWaitOptions {
  /** Give up after this many milliseconds. */
  timeout?: number;
  /** `false` makes the call never wait (like Python's `blocking=False`). */
  blocking?: boolean;
}

/**
 * Validates a user `timeout` and returns it as milliseconds
 * (`Infinity` when absent).
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is negative or NaN.
 */
export function checkTimeout(timeout: number | undefined): number {
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== "number") {
    throw new TypeError(
      `Cannot wait: "timeout" must be a number of milliseconds, got ${typeof timeout}`,
    );
  }
  if (Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `Cannot wait: "timeout" must be >= 0, got ${timeout}`,
    );
  }
  return timeout;
}

/** Absolute deadline (`performance.now()` based) for a timeout in ms. */
export function deadlineOf(timeoutMs: number): number {
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}

/** Milliseconds left until `deadline` (never negative). */
export function remaining(deadline: number): number {
  return deadline === Infinity
    ? Infinity
    : Math.max(0, deadline - performance.now());
}

let pendingWaits = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

/**
 * Holds the event loop open while async waits are pending
 * (denoland/deno#15358: a pending `Atomics.waitAsync` does not).
 * Returns the matching release function (idempotent).
 */
export function holdEventLoop(): () => void {
  if (pendingWaits++ === 0) {
    keepAliveTimer = setInterval(() => {}, 1 << 30);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--pendingWaits === 0) {
      clearInterval(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  };
}

/**
 * Waits asynchronously while `view[index] === expected`, for at most
 * `timeoutMs`. Never blocks the thread.
 *
 * @throws The signal's reason (as a rejection) if `signal` aborts first.
 */
export function waitAsync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number = Infinity,
  signal?: AbortSignal,
): Promise<WaitResult> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const result = Atomics.waitAsync(
    view,
    index,
    expected,
    timeoutMs === Infinity ? undefined : timeoutMs,
  );
  if (!result.async) return Promise.resolve(result.value);
  const release = holdEventLoop();
  return new Promise<WaitResult>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      release();
      // Flush our own V8 waiter so it cannot swallow a later notify.
      Atomics.notify(view, index);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    result.value.then((value) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      release();
      resolve(value);
    });
  });
}

/**
 * Blocks the calling thread while `view[index] === expected`, for at most
 * `timeoutMs`. Allowed in workers and (freezing its event loop) on Deno's
 * main thread.
 */
export function waitSync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number = Infinity,
): WaitResult {
  return Atomics.wait(view, index, expected, timeoutMs);
}

/** Rejects at once with `signal.reason` if `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
