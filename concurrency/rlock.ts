/**
 * {@linkcode RLock}, the re-entrant lock.
 *
 * @module
 */

import { blockHandle, registerBlock } from "./_shared_block.ts";
import {
  ABANDONED,
  acquireAsync,
  acquireBlocking,
  AUX,
  CORE_WORDS,
  LOCK,
  NEXT,
  NONE,
  queueEmpty,
  robustTake,
  SERVING,
  STATE,
  type Take,
  WAITERS,
  wake,
} from "./_sync_core.ts";
import { guardAsync, guardBlocking } from "./_sync_guard.ts";
import { attachBlock, MAGIC } from "./_layout.ts";
import {
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import { currentIdent } from "./_thread_registry.ts";
import type { SyncWaitOptions, WaitOptions } from "./_wait.ts";
import { AbandonedLockError } from "./lock.ts";
import type { SharedLocation } from "./options.ts";

/**
 * A re-entrant lock in shared memory, like Python's `threading.RLock`: the
 * owning thread may acquire it again (each acquire needs a matching
 * release), and only the owner may release it. Ownership is per thread (the
 * main thread or one worker, identified by its `Thread` ident), not per
 * async task: two async tasks on the same thread share ownership.
 *
 * ## Fairness
 * As {@linkcode Lock}: barging, plus a FIFO queue for any waiter that has
 * waited 1 ms, so no waiter starves. A re-entrant acquire by the owner
 * never waits.
 *
 * ## Cancellation
 * `acquire({ signal })` rejects with `signal.reason` (already aborted, or
 * aborted while waiting: the waiter is removed). `{ timeout }` resolves
 * `false`.
 *
 * ## Visibility
 * Writes before the final `release()` are visible to the next owner.
 *
 * ## Abandoned locks
 * If the owning thread's end is certain (its function returned or threw, it
 * exited or crashed, or it honoured `Thread.terminate()`) while it holds the
 * RLock, the next acquirer takes it over (recursion count reset to 1) and
 * receives an {@linkcode AbandonedLockError} while holding it, like a POSIX
 * robust mutex. A thread asked to stop that may still run keeps it.
 *
 * ## Platform
 * `acquireSync` blocks the calling thread (meant for workers). Shareable with
 * workers only.
 *
 * @example Re-entering from a nested call
 * ```ts
 * import assert from "node:assert/strict";
 * import { RLock } from "@weft/weft/concurrency";
 *
 * const lock = new RLock();
 * function inner() {
 *   using _ = lock.guardSync();
 *   return "done";
 * }
 * function outer() {
 *   using _ = lock.guardSync();
 *   return inner(); // a plain Lock would deadlock here
 * }
 * assert.equal(outer(), "done");
 * assert.equal(lock.locked, false);
 * ```
 */
export class RLock implements Shareable {
  /** Bytes an RLock needs in a caller-provided buffer. */
  static readonly byteLength: number = CORE_WORDS * 4;
  #v: Int32Array;
  #me: number;
  #take: Take;
  #dead = 0;

  /**
   * Creates an RLock, or attaches to one already at `location`.
   *
   * @example Creating an RLock in caller-provided memory
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock({ buffer: new SharedArrayBuffer(RLock.byteLength) });
   * assert.equal(lock.locked, false);
   * ```
   *
   * @param location Shared memory to use (`byteOffset` multiple of 4).
   * @throws {RangeError} If the block is unusable or holds another kind.
   */
  constructor(location?: SharedLocation) {
    this.#v = attachBlock("RLock", MAGIC.RLock, CORE_WORDS, location, () => {});
    this.#me = currentIdent();
    this.#take = robustTake(this.#v, this.#me, true, (owner) => {
      this.#dead = owner;
    });
  }

  /** The shared memory holding this lock. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of this lock in its buffer. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /**
   * Whether any thread holds the lock.
   *
   * @example Checking whether the lock is held
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * assert.equal(new RLock().locked, false);
   * ```
   */
  get locked(): boolean {
    return Atomics.load(this.#v, STATE) !== 0;
  }

  /**
   * Whether the calling thread owns the lock.
   *
   * @example Checking whether this thread owns the lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * lock.acquireSync();
   * assert.equal(lock.owned, true);
   * lock.release();
   * ```
   */
  get owned(): boolean {
    return Atomics.load(this.#v, STATE) === this.#me;
  }

  /** The engine's code as the caller's answer. */
  #result = (r: number): boolean => {
    if (r === ABANDONED) throw new AbandonedLockError("RLock", this.#dead);
    return r !== NONE;
  };

  /** Counts one more level if the caller owns the lock. */
  #reenter = (): boolean => {
    if (Atomics.load(this.#v, STATE) !== this.#me) return false;
    Atomics.add(this.#v, AUX, 1);
    return true;
  };

  /**
   * Acquires without blocking the event loop; re-entrant for the owner.
   *
   * @example Acquiring twice from the same thread
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * await lock.acquire();
   * await lock.acquire(); // same thread: immediate
   * lock.release();
   * lock.release();
   * assert.equal(lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` once held, `false` on timeout.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  acquire(opts?: WaitOptions): Promise<boolean> {
    return acquireAsync(
      this.#v,
      this.#take,
      this.#me,
      opts,
      LOCK,
      this.#result,
      this.#reenter,
    );
  }

  /**
   * Blocks the calling thread until held; re-entrant for the owner.
   *
   * @example Acquiring twice in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * assert.equal(lock.acquireSync(), true);
   * assert.equal(lock.acquireSync(), true);
   * lock.release();
   * lock.release();
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false`.
   * @returns `true` once held, `false` on timeout.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  acquireSync(opts?: SyncWaitOptions): boolean {
    const v = this.#v;
    if (opts === undefined) {
      // Fast paths with plain reads: STATE can only equal our ident if we
      // wrote it, and a stale queue check only costs a trip to the slow
      // path or one barge (see Lock.acquireSync).
      if (v[STATE] === this.#me) {
        v[AUX]++; // only the owner touches the count
        return true;
      }
      if (
        v[NEXT] === v[SERVING] &&
        Atomics.compareExchange(v, STATE, 0, this.#me) === 0
      ) {
        v[AUX] = 1;
        return true;
      }
    }
    return this.#result(
      acquireBlocking(v, this.#take, this.#me, opts, LOCK, this.#reenter),
    );
  }

  /**
   * Takes the lock if free or owned by the caller; never waits.
   *
   * @example Trying without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * assert.equal(lock.tryAcquire(), true);
   * assert.equal(lock.tryAcquire(), true);
   * lock.release();
   * lock.release();
   * ```
   *
   * @returns Whether the caller now holds it.
   */
  tryAcquire(): boolean {
    if (this.#reenter()) return true;
    return queueEmpty(this.#v) && this.#result(this.#take());
  }

  /**
   * Undoes one acquire; the last one frees the lock.
   *
   * @example Releasing the last level
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * lock.acquireSync();
   * lock.release();
   * assert.equal(lock.locked, false);
   * ```
   *
   * @throws {TypeError} If the calling thread does not own the lock.
   */
  release(): void {
    const v = this.#v;
    // Plain reads/writes: only the owner reads or writes the count, and
    // STATE equals our ident only if we set it.
    if (v[STATE] !== this.#me) {
      throw new TypeError(
        "Cannot release RLock: it is not owned by this thread",
      );
    }
    const count = v[AUX] - 1;
    v[AUX] = count;
    if (count > 0) return;
    Atomics.store(v, STATE, 0);
    if (Atomics.load(v, WAITERS) !== 0) wake(v);
  }

  /**
   * Releases every level at once (for `Condition`); returns the count.
   * @internal
   */
  releaseAll(): number {
    const v = this.#v;
    if (Atomics.load(v, STATE) !== this.#me) {
      throw new TypeError(
        "Cannot release RLock: it is not owned by this thread",
      );
    }
    const count = Atomics.exchange(v, AUX, 0);
    Atomics.store(v, STATE, 0);
    wake(v);
    return count;
  }

  /**
   * Sets the recursion count after re-acquiring (for `Condition`).
   * @internal
   */
  restoreCount(count: number): void {
    Atomics.store(this.#v, AUX, count);
  }

  /**
   * Async acquire returning a Disposable that releases at most once.
   *
   * @example Nesting guards
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * {
   *   using _ = await lock.guard();
   *   using _again = await lock.guard();
   * }
   * assert.equal(lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms, `signal` to abort.
   * @returns The guard.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   */
  guard(opts?: WaitOptions): Promise<Disposable> {
    return guardAsync(this, "RLock", opts);
  }

  /**
   * Blocking form of {@linkcode RLock.guard}.
   *
   * @example Holding the lock for a block in a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { RLock } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * {
   *   using _ = lock.guardSync();
   * }
   * assert.equal(lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms.
   * @returns The guard.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   */
  guardSync(opts?: { timeout?: number }): Disposable {
    return guardBlocking(this, "RLock", opts);
  }

  /**
   * The cloneable handle that rebuilds this lock in a worker.
   *
   * @example Sharing an RLock with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { revive, RLock, share } from "@weft/weft/concurrency";
   *
   * const lock = new RLock();
   * const copy = revive<RLock>(structuredClone(share(lock)));
   * assert.equal(copy.locked, false);
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return blockHandle("RLock", target, this);
  }
}

registerBlock("RLock", (location) => new RLock(location), import.meta.url);
