/**
 * {@linkcode Semaphore} and {@linkcode BoundedSemaphore}.
 *
 * @module
 */

import { blockHandle, registerBlock } from "./_shared_block.ts";
import {
  acquireAsync,
  acquireBlocking,
  AUX,
  CORE_WORDS,
  NEXT,
  NONE,
  PERMITS,
  queueEmpty,
  SERVING,
  STATE,
  type Take,
  wake,
} from "./_sync_core.ts";
import { guardAsync, guardBlocking, refuseProcess } from "./_sync_guard.ts";
import { attachBlock, MAGIC } from "./_layout.ts";
import {
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import { currentIdent } from "./_thread_registry.ts";
import type { SyncWaitOptions, WaitOptions } from "./_wait.ts";
import type { SharedLocation } from "./options.ts";

const MAX_PERMITS = 0x7fffffff;

/** A semaphore's answer to the engine's code: a permit was taken. */
const taken = (r: number): boolean => r !== NONE;

function checkValue(value: unknown, what: string): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${what}: "value" must be a number, got ${typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_PERMITS) {
    throw new RangeError(
      `Cannot create ${what}: "value" must be an integer in [0, ${MAX_PERMITS}], got ${value}`,
    );
  }
  return value;
}

/**
 * A counting semaphore in shared memory, like Python's
 * `threading.Semaphore`, usable from the main thread and any number of
 * workers. `acquire()` takes one permit, waiting while there is none;
 * `release(n)` returns permits.
 *
 * ## Fairness
 * Barging with bounded unfairness: a free permit goes to whoever asks first;
 * a waiter that has waited 1 ms joins a FIFO ticket queue, and while that
 * queue is not empty permits go to the queue in ticket order. No waiter
 * starves.
 *
 * ## Cancellation
 * `acquire({ signal })` rejects with `signal.reason` (already aborted, or
 * aborted while waiting: the waiter leaves the queue and the next proceeds);
 * `{ timeout }` resolves `false`.
 *
 * ## Visibility
 * Writes before `release()` are visible to the acquirer that takes the
 * released permit.
 *
 * ## Platform
 * `acquireSync` blocks the calling thread (meant for workers). Permits have
 * no owner: a thread that dies holding one does not give it back. Shareable
 * with workers only.
 *
 * @example At most two at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { Semaphore } from "@weft/weft/concurrency";
 *
 * const slots = new Semaphore(2);
 * let inside = 0, most = 0;
 * await Promise.all([1, 2, 3, 4, 5].map(async () => {
 *   using _ = await slots.guard();
 *   most = Math.max(most, ++inside);
 *   await new Promise((r) => setTimeout(r, 5));
 *   inside--;
 * }));
 * assert.equal(most, 2);
 * assert.equal(slots.value, 2);
 * ```
 */
export class Semaphore implements Shareable {
  /** Bytes a semaphore needs in a caller-provided buffer. */
  static readonly byteLength: number = CORE_WORDS * 4;
  #v: Int32Array;
  #me: number;
  #take: Take;

  /**
   * Creates a semaphore with `value` permits, or attaches to one already
   * at `location` (then `value` is ignored).
   *
   * @example Creating a semaphore with three permits
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * assert.equal(new Semaphore(3).value, 3);
   * ```
   *
   * @param value Initial permits (default 1).
   * @param location Shared memory to use.
   * @throws {RangeError} If `value` is negative, not an integer, or the
   * block is unusable.
   */
  constructor(value: number = 1, location?: SharedLocation) {
    const permits = checkValue(value, this.#kind());
    this.#v = attachBlock(
      "Semaphore",
      MAGIC.Semaphore,
      CORE_WORDS,
      location,
      (v) => {
        v[STATE] = permits;
        v[AUX] = this.#bound(permits);
      },
    );
    this.#me = currentIdent();
    const v = this.#v;
    this.#take = () => {
      for (;;) {
        const c = Atomics.load(v, STATE);
        if (c <= 0) return NONE;
        if (Atomics.compareExchange(v, STATE, c, c - 1) === c) return 1;
      }
    };
  }

  #kind(): string {
    return this instanceof BoundedSemaphore ? "BoundedSemaphore" : "Semaphore";
  }

  #bound(permits: number): number {
    return this instanceof BoundedSemaphore ? permits + 1 : 0;
  }

  /** The shared memory holding this semaphore. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of this semaphore in its buffer. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /**
   * Permits available right now.
   *
   * @example Counting free permits
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(2);
   * s.tryAcquire();
   * assert.equal(s.value, 1);
   * ```
   */
  get value(): number {
    return Atomics.load(this.#v, STATE);
  }

  /**
   * Waits for a permit without blocking the event loop.
   *
   * @example Acquiring with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(1);
   * assert.equal(await s.acquire(), true);
   * assert.equal(await s.acquire({ timeout: 10 }), false);
   * s.release();
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` once a permit is taken, `false` on timeout.
   */
  acquire(opts?: WaitOptions): Promise<boolean> {
    return acquireAsync(
      this.#v,
      this.#take,
      this.#me,
      opts,
      PERMITS,
      taken,
    );
  }

  /**
   * Blocks the calling thread until a permit is taken (meant for workers).
   *
   * @example Acquiring in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(1);
   * assert.equal(s.acquireSync(), true);
   * assert.equal(s.acquireSync({ timeout: 5 }), false);
   * s.release();
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false`.
   * @returns `true` once a permit is taken, `false` on timeout.
   */
  acquireSync(opts?: SyncWaitOptions): boolean {
    const v = this.#v;
    if (opts === undefined && v[NEXT] === v[SERVING]) {
      // Fast path; plain reads are only hints, the compare-exchange decides.
      const c = v[STATE];
      if (c > 0 && Atomics.compareExchange(v, STATE, c, c - 1) === c) {
        return true;
      }
    }
    return acquireBlocking(v, this.#take, this.#me, opts, PERMITS) !== NONE;
  }

  /**
   * Takes a permit if one is free right now; never waits.
   *
   * @example Trying once without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(1);
   * assert.equal(s.tryAcquire(), true);
   * assert.equal(s.tryAcquire(), false);
   * ```
   *
   * @returns Whether a permit was taken.
   */
  tryAcquire(): boolean {
    return queueEmpty(this.#v) && this.#take() !== NONE;
  }

  /**
   * Returns `n` permits and wakes as many waiters.
   *
   * @example Releasing several permits at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(0);
   * s.release(3);
   * assert.equal(s.value, 3);
   * ```
   *
   * @param n Permits to return (default 1).
   * @throws {RangeError} If `n` is not a positive integer, or a
   * {@linkcode BoundedSemaphore} would exceed its initial value.
   */
  release(n: number = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot release ${this.#kind()}: "n" must be a positive integer, got ${n}`,
      );
    }
    const v = this.#v;
    const bound = v[AUX]; // constant after initialization
    if (bound === 0) {
      Atomics.add(v, STATE, n);
    } else {
      for (;;) {
        const c = Atomics.load(v, STATE);
        if (c + n > bound - 1) {
          throw new RangeError(
            `Cannot release BoundedSemaphore: it would exceed its initial value ${
              bound - 1
            }`,
          );
        }
        if (Atomics.compareExchange(v, STATE, c, c + n) === c) break;
      }
    }
    wake(v, n);
  }

  /**
   * Async acquire returning a Disposable that releases at most once.
   *
   * @example Holding a permit for a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(1);
   * {
   *   using _ = await s.guard();
   *   assert.equal(s.value, 0);
   * }
   * assert.equal(s.value, 1);
   * ```
   *
   * @param opts `timeout` in ms, `signal` to abort.
   * @returns The guard.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   */
  guard(opts?: WaitOptions): Promise<Disposable> {
    return guardAsync(this, this.#kind(), opts);
  }

  /**
   * Blocking form of {@linkcode Semaphore.guard}.
   *
   * @example Holding a permit for a block in a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(1);
   * {
   *   using _ = s.guardSync();
   * }
   * assert.equal(s.value, 1);
   * ```
   *
   * @param opts `timeout` in ms.
   * @returns The guard.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   */
  guardSync(opts?: { timeout?: number }): Disposable {
    return guardBlocking(this, this.#kind(), opts);
  }

  /**
   * The cloneable handle that rebuilds this semaphore in a worker.
   *
   * @example Sharing a semaphore with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { revive, Semaphore, share } from "@weft/weft/concurrency";
   *
   * const s = new Semaphore(4);
   * assert.equal(revive<Semaphore>(structuredClone(share(s))).value, 4);
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    refuseProcess(this.#kind(), target);
    return blockHandle("Semaphore", target, this, {
      bounded: this instanceof BoundedSemaphore,
    });
  }
}

/**
 * A semaphore that refuses to be released above its initial value, like
 * Python's `threading.BoundedSemaphore`: an extra `release()` throws a
 * `RangeError` (it usually means a bug: a release without an acquire).
 *
 * Fairness, cancellation and visibility are those of {@linkcode Semaphore}.
 *
 * @example Over-release is an error
 * ```ts
 * import assert from "node:assert/strict";
 * import { BoundedSemaphore } from "@weft/weft/concurrency";
 *
 * const s = new BoundedSemaphore(1);
 * s.acquireSync();
 * s.release();
 * try {
 *   s.release();
 * } catch (error) {
 *   assert.equal((error as Error).name, "RangeError");
 * }
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /**
   * Creates a bounded semaphore with `value` permits (also its bound).
   *
   * @example Creating a bounded semaphore
   * ```ts
   * import assert from "node:assert/strict";
   * import { BoundedSemaphore } from "@weft/weft/concurrency";
   *
   * assert.equal(new BoundedSemaphore(5).value, 5);
   * ```
   *
   * @param value Initial permits and upper bound (default 1).
   * @param location Shared memory to use.
   */
  constructor(value: number = 1, location?: SharedLocation) {
    super(value, location);
  }
}

registerBlock(
  "Semaphore",
  (location, h) =>
    h.bounded ? new BoundedSemaphore(1, location) : new Semaphore(1, location),
  import.meta.url,
);
