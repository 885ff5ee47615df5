/**
 * Small pieces shared by the acquirable primitives (private): option
 * validation, guards, the timeout error of `guard()`, and handle checks.
 *
 * @module
 */

import {
  checkTimeout,
  type SyncWaitOptions,
  throwIfAborted,
  type WaitOptions,
} from "./_wait.ts";
import type { ShareTarget } from "../_internal/share.ts";

/** Validated async wait options. */
export function asyncOptions(
  opts: WaitOptions | undefined,
): { timeout: number; signal: AbortSignal | undefined } {
  const timeout = checkTimeout(opts?.timeout);
  const signal = opts?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError('Cannot wait: "signal" must be an AbortSignal');
  }
  throwIfAborted(signal);
  return { timeout, signal };
}

/** Validated blocking options: the timeout in ms (0 when non-blocking). */
export function syncTimeout(opts: SyncWaitOptions | undefined): number {
  const timeout = checkTimeout(opts?.timeout);
  if (opts?.blocking === false) {
    if (opts.timeout !== undefined) {
      throw new TypeError(
        'Cannot wait: "timeout" cannot be combined with "blocking: false"',
      );
    }
    return 0;
  }
  return timeout;
}

/** A Disposable that runs `release` at most once. */
export function onceGuard(release: () => void): Disposable {
  let done = false;
  return {
    [Symbol.dispose]() {
      if (done) return;
      done = true;
      release();
    },
  };
}

/** The rejection of `guard({ timeout })` when the timeout passes. */
export function guardTimeout(what: string, timeout: number): DOMException {
  return new DOMException(
    `Cannot acquire ${what}: timed out after ${timeout} ms`,
    "TimeoutError",
  );
}

/** What `guard()` / `guardSync()` need of a lock or semaphore. */
export interface Guardable {
  acquire(opts?: WaitOptions): Promise<boolean>;
  acquireSync(opts?: { timeout?: number }): boolean;
  release(): void;
}

/**
 * `guard()` of Lock, RLock and Semaphore, written once: acquire,
 * or reject with a `TimeoutError` naming `what`; the Disposable releases at
 * most once.
 */
export async function guardAsync(
  target: Guardable,
  what: string,
  opts: WaitOptions | undefined,
): Promise<Disposable> {
  if (!(await target.acquire(opts))) {
    throw guardTimeout(what, opts?.timeout ?? 0);
  }
  return onceGuard(() => target.release());
}

/** The blocking twin of {@linkcode guardAsync} (`guardSync()`). */
export function guardBlocking(
  target: Guardable,
  what: string,
  opts: { timeout?: number } | undefined,
): Disposable {
  if (!target.acquireSync(opts)) {
    throw guardTimeout(what, opts?.timeout ?? 0);
  }
  return onceGuard(() => target.release());
}

/** Throws the TypeError for sharing a memory-only object with a process. */
export function refuseProcess(kind: string, target: ShareTarget): void {
  if (target !== "worker") {
    throw new TypeError(
      `Cannot share ${kind} with another process: it lives in shared memory (use a Manager's ${kind} instead)`,
    );
  }
}
