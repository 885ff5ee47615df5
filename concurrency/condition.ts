/**
 * {@linkcode Condition}.
 *
 * @module
 */

import { blockHandle, registerBlock } from "./_shared_block.ts";
import { attachBlock, MAGIC } from "./_layout.ts";
import { asyncOptions, refuseProcess, syncTimeout } from "./_sync_guard.ts";
import {
  reviveValue,
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import {
  deadlineOf,
  remaining,
  shieldFromStop,
  type SyncWaitOptions,
  waitAsync,
  type WaitOptions,
  waitSync,
} from "./_wait.ts";
import { Lock } from "./lock.ts";
import type { SharedLocation } from "./options.ts";
import { RLock } from "./rlock.ts";

const SEQ = 1;
const WAITERS = 2;
const WORDS = 4;

/**
 * A condition variable in shared memory, like Python's
 * `threading.Condition`: threads holding its lock `wait()` until another
 * thread changes the shared state and calls `notify()`. Works across the
 * main thread and workers; the lock is a {@linkcode Lock} or an
 * {@linkcode RLock} (the default, as in Python).
 *
 * Like Python, waiting requires holding the lock: `wait()` releases it
 * (every recursion level of an RLock), sleeps, and re-acquires it before
 * returning or throwing.
 *
 * ## Fairness
 * `notify(n)` wakes at least `min(n, waiting)` waiters, in the order the
 * platform keeps them (FIFO per word in V8). Wake-ups can occasionally be
 * spurious (a waiter that was about to sleep sees the notify too, or an
 * aborted waiter's clean-up wakes others), so always wait in a loop on your
 * predicate — {@linkcode Condition.waitFor} does that for you.
 *
 * ## Cancellation
 * `wait({ signal })` rejects with `signal.reason` (after re-acquiring the
 * lock); `{ timeout }` resolves `false`.
 *
 * ## Visibility
 * Writes made under the lock before `notify()` are visible to the woken
 * waiter once it holds the lock again.
 *
 * ## Platform
 * `waitSync` / `waitForSync` block the calling thread (meant for workers).
 * Shareable with workers only (its lock travels with it).
 *
 * @example Waiting for a value
 * ```ts
 * import assert from "node:assert/strict";
 * import { Condition } from "@weft/weft/concurrency";
 *
 * const cond = new Condition();
 * const box: number[] = [];
 * setTimeout(async () => {
 *   using _ = await cond.guard();
 *   box.push(42);
 *   cond.notifyAll();
 * }, 5);
 * using _ = await cond.guard();
 * await cond.waitFor(() => box.length > 0, { timeout: 1000 });
 * assert.equal(box[0], 42);
 * ```
 */
export class Condition implements Shareable {
  /** Bytes a Condition's own block needs (its lock has its own). */
  static readonly byteLength: number = WORDS * 4;
  #v: Int32Array;
  #lock: Lock | RLock;

  /**
   * Creates a condition over `lock` (a new {@linkcode RLock} by default).
   *
   * @example Building a condition on an existing lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition, Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * assert.equal(new Condition(lock).lock === lock, true);
   * ```
   *
   * @param lock The lock waiters hold.
   * @param location Shared memory for the condition's own words.
   * @throws {TypeError} If `lock` is not a Lock or RLock.
   */
  constructor(lock?: Lock | RLock, location?: SharedLocation) {
    if (
      lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)
    ) {
      throw new TypeError(
        'Cannot create Condition: "lock" must be a Lock or an RLock',
      );
    }
    this.#lock = lock ?? new RLock();
    this.#v = attachBlock(
      "Condition",
      MAGIC.Condition,
      WORDS,
      location,
      () => {},
    );
  }

  /** The shared memory holding the condition's own words. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of the condition's words in its buffer. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /** The lock waiters must hold. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  /**
   * Acquires the underlying lock (see {@linkcode Lock.acquire}).
   *
   * @example Taking the underlying lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * assert.equal(await cond.acquire(), true);
   * assert.equal(cond.lock.locked, true);
   * cond.release();
   * ```
   *
   * @param opts `timeout` in ms, `signal` to abort.
   * @returns `true` once held, `false` on timeout.
   */
  acquire(opts?: WaitOptions): Promise<boolean> {
    return this.#lock.acquire(opts);
  }

  /**
   * Blocking acquire of the underlying lock.
   *
   * @example Taking the underlying lock in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * assert.equal(cond.acquireSync(), true);
   * assert.equal(cond.lock.locked, true);
   * cond.release();
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false`.
   * @returns `true` once held, `false` on timeout.
   */
  acquireSync(opts?: SyncWaitOptions): boolean {
    return this.#lock.acquireSync(opts);
  }

  /**
   * Releases the underlying lock.
   *
   * @example Releasing the underlying lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * cond.acquireSync();
   * cond.release();
   * assert.equal(cond.lock.locked, false);
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Holds the underlying lock for a `using` block.
   *
   * @example Holding the lock for a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * {
   *   using _ = await cond.guard();
   *   assert.equal(cond.lock.locked, true);
   *   cond.notify(); // notify needs the lock
   * }
   * assert.equal(cond.lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms, `signal` to abort.
   * @returns The guard.
   */
  guard(opts?: WaitOptions): Promise<Disposable> {
    return this.#lock.guard(opts);
  }

  /**
   * Blocking form of {@linkcode Condition.guard}.
   *
   * @example Holding the lock for a block in a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * {
   *   using _ = cond.guardSync();
   *   cond.notifyAll(); // notifyAll needs the lock
   * }
   * assert.equal(cond.lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms.
   * @returns The guard.
   */
  guardSync(opts?: { timeout?: number }): Disposable {
    return this.#lock.guardSync(opts);
  }

  #checkHeld(what: string): void {
    const lock = this.#lock;
    const held = lock instanceof RLock ? lock.owned : lock.locked;
    if (!held) {
      throw new TypeError(
        `Cannot ${what} on condition: its lock is not held by this thread`,
      );
    }
  }

  #releaseAll(): number {
    const lock = this.#lock;
    if (lock instanceof RLock) return lock.releaseAll();
    lock.release();
    return 1;
  }

  #restore(count: number): void {
    if (this.#lock instanceof RLock) this.#lock.restoreCount(count);
  }

  /**
   * The first half of `wait` / `waitSync`: checks that the caller holds the
   * lock, reads SEQ, joins the waiters and releases the lock (a notify
   * after the release bumps SEQ, so none is missed). Returns that SEQ and
   * the recursion count to restore after re-acquiring; the caller leaves
   * WAITERS and re-acquires in its own mode.
   */
  #enterWait(): { seq: number; count: number } {
    this.#checkHeld("wait");
    const v = this.#v;
    const seq = Atomics.load(v, SEQ);
    Atomics.add(v, WAITERS, 1);
    return { seq, count: this.#releaseAll() };
  }

  /**
   * Releases the lock, waits for a notify (without blocking the event
   * loop), and re-acquires the lock.
   *
   * @example Waiting with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * using _ = await cond.guard();
   * assert.equal(await cond.wait({ timeout: 10 }), false);
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` if woken, `false` on timeout.
   * @throws {TypeError} If the lock is not held.
   */
  async wait(opts?: WaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(opts);
    const { seq, count } = this.#enterWait();
    const v = this.#v;
    let result;
    try {
      result = await waitAsync(v, SEQ, seq, timeout, signal);
    } finally {
      Atomics.sub(v, WAITERS, 1);
      await shieldFromStop(() => this.#lock.acquire());
      this.#restore(count);
    }
    return result !== "timed-out";
  }

  /**
   * Blocking form of {@linkcode Condition.wait} (meant for workers).
   *
   * @example Waiting with a timeout in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * using _ = cond.guardSync();
   * assert.equal(cond.waitSync({ timeout: 5 }), false);
   * ```
   *
   * @param opts `timeout` in ms.
   * @returns `true` if woken, `false` on timeout.
   * @throws {TypeError} If the lock is not held.
   */
  waitSync(opts?: { timeout?: number }): boolean {
    const timeout = syncTimeout(opts);
    const { seq, count } = this.#enterWait();
    const v = this.#v;
    let result;
    try {
      result = waitSync(v, SEQ, seq, timeout);
    } finally {
      Atomics.sub(v, WAITERS, 1);
      shieldFromStop(() => this.#lock.acquireSync());
      this.#restore(count);
    }
    return result !== "timed-out";
  }

  /**
   * Waits until `predicate()` is truthy (checked under the lock before each
   * wait), like Python's `wait_for`.
   *
   * @example Waiting until a predicate holds
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * using _ = await cond.guard();
   * assert.equal(await cond.waitFor(() => 7), 7);
   * ```
   *
   * @typeParam T The predicate's result.
   * @param predicate Reads the shared state; truthy ends the wait.
   * @param opts `timeout` in ms for the whole wait, `signal` to abort.
   * @returns The last predicate result (falsy on timeout).
   */
  async waitFor<T>(predicate: () => T, opts?: WaitOptions): Promise<T> {
    const { timeout, signal } = asyncOptions(opts);
    const deadline = deadlineOf(timeout);
    let result = predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      await this.wait({
        timeout: left === Infinity ? undefined : left,
        signal,
      });
      result = predicate();
    }
    return result;
  }

  /**
   * Blocking form of {@linkcode Condition.waitFor}.
   *
   * @example Waiting for a predicate with a timeout (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * using _ = cond.guardSync();
   * assert.equal(cond.waitForSync(() => false, { timeout: 5 }), false);
   * ```
   *
   * @typeParam T The predicate's result.
   * @param predicate Reads the shared state; truthy ends the wait.
   * @param opts `timeout` in ms for the whole wait.
   * @returns The last predicate result (falsy on timeout).
   */
  waitForSync<T>(predicate: () => T, opts?: { timeout?: number }): T {
    const deadline = deadlineOf(syncTimeout(opts));
    let result = predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      this.waitSync({ timeout: left === Infinity ? undefined : left });
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiting threads or tasks (at least `min(n, waiting)`).
   *
   * @example Waking a waiter once its data is ready
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition, Lock } from "@weft/weft/concurrency";
   *
   * // A plain Lock, so that two async tasks of one thread take turns
   * // (the default RLock is owned by the whole thread).
   * const cond = new Condition(new Lock());
   * let ready = false;
   * const waiter = (async () => {
   *   using _ = await cond.guard();
   *   return await cond.waitFor(() => ready, { timeout: 5000 });
   * })();
   * {
   *   using _ = await cond.guard();
   *   ready = true;
   *   cond.notify();
   * }
   * assert.equal(await waiter, true);
   * ```
   *
   * @param n How many to wake (default 1).
   * @throws {TypeError} If the lock is not held.
   * @throws {RangeError} If `n` is not a non-negative integer.
   */
  notify(n: number = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot notify condition: "n" must be a non-negative integer, got ${n}`,
      );
    }
    this.#checkHeld("notify");
    const v = this.#v;
    if (n === 0 || Atomics.load(v, WAITERS) === 0) return;
    Atomics.add(v, SEQ, 1);
    Atomics.notify(v, SEQ, n);
  }

  /**
   * Wakes every waiter.
   *
   * @example Waking every waiter
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition, Lock } from "@weft/weft/concurrency";
   *
   * // A plain Lock, so that two async tasks of one thread take turns
   * // (the default RLock is owned by the whole thread).
   * const cond = new Condition(new Lock());
   * let open = false;
   * const wait = async () => {
   *   using _ = await cond.guard();
   *   return await cond.waitFor(() => open, { timeout: 5000 });
   * };
   * const waiters = [wait(), wait()];
   * {
   *   using _ = await cond.guard();
   *   open = true;
   *   cond.notifyAll();
   * }
   * assert.deepEqual(await Promise.all(waiters), [true, true]);
   * ```
   *
   * @throws {TypeError} If the lock is not held.
   */
  notifyAll(): void {
    this.#checkHeld("notify");
    const v = this.#v;
    if (Atomics.load(v, WAITERS) === 0) return;
    Atomics.add(v, SEQ, 1);
    Atomics.notify(v, SEQ);
  }

  /**
   * The cloneable handle that rebuilds this condition (and its lock).
   *
   * @example Sharing a condition with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Condition, revive, share } from "@weft/weft/concurrency";
   *
   * const cond = new Condition();
   * const copy = revive<Condition>(structuredClone(share(cond)));
   * cond.acquireSync();
   * assert.equal(copy.lock.locked, true);
   * cond.release();
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    refuseProcess("Condition", target);
    return blockHandle("Condition", target, this, {
      lock: this.#lock[TO_HANDLE](target),
    });
  }
}

registerBlock(
  "Condition",
  (location, h) => new Condition(reviveValue(h.lock) as Lock | RLock, location),
  import.meta.url,
);
