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
  /**
   * `false` makes the call never wait (like Python's `blocking=False`).
   *
   * @default {true}
   */
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
  if (stopError !== undefined && shielded === 0) {
    return Promise.reject(stopError);
  }
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
    const cancel = (reason: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      asyncCancels?.delete(cancel);
      release();
      // Flush our own V8 waiter so it cannot swallow a later notify.
      Atomics.notify(view, index);
      reject(reason);
    };
    const onAbort = () => cancel(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (shielded === 0) asyncCancels?.add(cancel);
    result.value.then((value) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      asyncCancels?.delete(cancel);
      release();
      resolve(value);
    });
  });
}

/** How often a blocking wait in a stoppable thread looks for a stop request. */
export const STOP_POLL_MS = 50;

let stopCheck: (() => boolean) | undefined;
let stopError: unknown;
let shielded = 0;
let asyncCancels: Set<(error: unknown) => void> | undefined;

/**
 * Makes this thread stoppable (called by the `Thread` and `Pool` worker
 * bootstraps): blocking waits look at `check` every {@linkcode STOP_POLL_MS}
 * and throw once it returns true, so a thread blocked in a weft wait can be
 * stopped for certain; async waits can then be cancelled with
 * {@linkcode cancelWaits}.
 */
export function setStopCheck(check: () => boolean): void {
  stopCheck = check;
  asyncCancels ??= new Set();
}

/**
 * Runs `fn` with stop requests ignored by this thread's waits: for the
 * re-acquire a `Condition` wait owes its caller even when it fails, so that
 * a guard never releases a lock it does not hold.
 */
export function shieldFromStop<T>(fn: () => T): T {
  shielded++;
  let result: T;
  try {
    result = fn();
  } catch (error) {
    shielded--;
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => shielded--) as T;
  }
  shielded--;
  return result;
}

/** The error a wait throws in a thread that is being stopped. */
export function stoppedError(): DOMException {
  return new DOMException(
    "Cannot wait: this thread is being stopped (terminate())",
    "AbortError",
  );
}

/**
 * Throws {@linkcode stoppedError} if this thread was asked to stop: blocking
 * operations call it on entry, so a stopping thread takes no more items,
 * permits or locks even when it would not have to wait.
 */
export function throwIfStopping(): void {
  if (
    stopCheck !== undefined && shielded === 0 &&
    (stopError !== undefined || stopCheck())
  ) throw stoppedError();
}

/**
 * Rejects every pending async wait of this thread with `error`, and every
 * later one at once (the thread is being stopped).
 */
export function cancelWaits(error: unknown): void {
  stopError ??= error;
  const cancels = [...asyncCancels ?? []];
  asyncCancels?.clear();
  for (const cancel of cancels) cancel(stopError);
}

/**
 * Blocks the calling thread while `view[index] === expected`, for at most
 * `timeoutMs`. Allowed in workers and (freezing its event loop) on Deno's
 * main thread. In a stoppable thread it throws {@linkcode stoppedError}
 * once a stop is requested, passing on a wake it received meanwhile.
 */
export function waitSync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number = Infinity,
): WaitResult {
  const check = stopCheck;
  if (check === undefined || shielded > 0) {
    return Atomics.wait(view, index, expected, timeoutMs);
  }
  const deadline = deadlineOf(timeoutMs);
  for (;;) {
    if (stopError !== undefined || check()) throw stoppedError();
    const left = remaining(deadline);
    const r = Atomics.wait(
      view,
      index,
      expected,
      Math.min(left, STOP_POLL_MS),
    );
    if (r !== "timed-out") {
      if (r === "ok" && check()) {
        // A stopping thread must not swallow a wake meant for a live one.
        Atomics.notify(view, index, 1);
        throw stoppedError();
      }
      return r;
    }
    if (left <= STOP_POLL_MS) return "timed-out";
  }
}

/**
 * One sleep a wait loop asks its driver for: wait while
 * `view[index] === expected`, at most `timeout` ms. With `spin`, a blocking
 * driver first polls the word a few thousand times (a wake-up costs far
 * more than that); an async driver never spins (it would block the event
 * loop).
 */
export interface WaitStep {
  view: Int32Array;
  index: number;
  expected: number;
  timeout: number;
  spin?: boolean;
}

/**
 * A wait loop written once: a generator that yields each sleep it needs and
 * receives its {@linkcode WaitResult}. {@linkcode blockOn} drives it with
 * blocking waits (workers), {@linkcode driveAsync} with async ones, like
 * tokio's `blocking_lock()` being `block_on(lock())`. An error of the
 * sleep (an abort, a thread stop) is thrown into the generator, so its
 * `finally` blocks clean up.
 */
export type WaitLoop<T> = Generator<WaitStep, T, WaitResult>;

/** Polls before a blocking sleep (see {@linkcode WaitStep}). */
const SPIN_LOADS = 4000;

/** Runs `loop` with blocking waits. */
export function blockOn<T>(loop: WaitLoop<T>): T {
  let next = loop.next();
  while (!next.done) {
    const step = next.value;
    let result: WaitResult;
    try {
      if (step.spin) {
        for (let i = 0; i < SPIN_LOADS; i++) {
          if (Atomics.load(step.view, step.index) !== step.expected) break;
        }
      }
      result = waitSync(step.view, step.index, step.expected, step.timeout);
    } catch (error) {
      next = loop.throw(error);
      continue;
    }
    next = loop.next(result);
  }
  return next.value;
}

/** Runs `loop` with async waits; `signal` aborts any of them. */
export async function driveAsync<T>(
  loop: WaitLoop<T>,
  signal?: AbortSignal,
): Promise<T> {
  let next = loop.next();
  while (!next.done) {
    const step = next.value;
    let result: WaitResult;
    try {
      result = await waitAsync(
        step.view,
        step.index,
        step.expected,
        step.timeout,
        signal,
      );
    } catch (error) {
      next = loop.throw(error);
      continue;
    }
    next = loop.next(result);
  }
  return next.value;
}

/** Rejects at once with `signal.reason` if `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
