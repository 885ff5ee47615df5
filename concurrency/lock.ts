/**
 * {@linkcode Lock} and {@linkcode AbandonedLockError}.
 *
 * @module
 */

import { blockHandle, registerBlock } from "./_shared_block.ts";
import {
  ABANDONED,
  acquireAsync,
  acquireBlocking,
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
import type {
  SharedLocation,
  SyncWaitOptions,
  WaitOptions,
} from "./options.ts";

/**
 * Thrown (or rejected) by an acquire that found the lock held by a thread
 * that has ended for certain — its function returned or threw, it exited,
 * crashed, or honoured `Thread.terminate()` — and took the lock over, like `EOWNERDEAD` of a POSIX robust
 * mutex.
 *
 * **The caller holds the lock when it receives this error.** The data the
 * lock protects may be half-updated: repair or check it, then `release()`.
 * `guard()` / `guardSync()` reject with this error too (the lock is held and
 * no guard was returned, so release it yourself).
 *
 * @example Recovering a lock whose owner died
 * ```ts
 * import assert from "node:assert/strict";
 * import { AbandonedLockError, Lock, Thread } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export function hold(lock) { lock.acquireSync(); }");
 * const lock = new Lock();
 * const thread = new Thread({ module, fn: "hold", args: [lock] });
 * thread.start();
 * await thread.join(); // it ended holding the lock
 * try {
 *   await lock.acquire();
 * } catch (error) {
 *   if (!(error instanceof AbandonedLockError)) throw error;
 *   // we hold the lock: check the shared data here
 *   assert.equal(error.previousOwner, thread.ident);
 * }
 * assert.equal(lock.locked, true);
 * lock.release();
 * ```
 */
export class AbandonedLockError extends Error {
  /** The ident of the thread that died while holding the lock. */
  readonly previousOwner: number;

  /**
   * Creates the error; weft raises it, user code rarely needs to.
   *
   * @param what The primitive, e.g. `"lock"`.
   * @param previousOwner Ident of the dead owner.
   */
  constructor(what: string, previousOwner: number) {
    super(
      `Acquired ${what} abandoned by thread ${previousOwner}: its owner ended while holding it; the caller now holds it`,
    );
    this.name = "AbandonedLockError";
    this.previousOwner = previousOwner;
  }
}

const TRUE = Promise.resolve(true);

export type {
  SharedLocation,
  SyncWaitOptions,
  WaitOptions,
} from "./options.ts";

/**
 * A mutual-exclusion lock in shared memory, like Python's `threading.Lock`
 * except that one object synchronizes the main thread and any number of Web
 * Workers (pass it as a `Thread` argument or through `share()`), and that
 * waiting comes in an async face (`acquire`) and a blocking face
 * (`acquireSync`).
 *
 * As in Python, a locked `Lock` may be released by any thread.
 *
 * ## Fairness
 * Barging with bounded unfairness: a free lock goes to whoever asks first
 * (one compare-exchange), so a releasing thread may take it again at once.
 * A waiter that has waited 1 ms joins a FIFO ticket queue; while the queue is
 * not empty nobody barges and the lock passes in ticket order. So no waiter
 * starves, including an async waiter on the main thread against workers
 * spinning on `acquireSync`. Up to 64 waiters queue at once; more wait to
 * enter the queue.
 *
 * ## Cancellation
 * `acquire({ signal })` rejects with `signal.reason` when the signal is
 * already aborted or aborts while waiting; the waiter leaves the queue and
 * the next one proceeds. `{ timeout }` (ms) resolves `false` instead.
 *
 * ## Visibility
 * Every shared-memory write made before `release()` is visible to the next
 * acquirer (all state changes are sequentially consistent `Atomics`).
 *
 * ## Abandoned locks
 * The lock word records the acquirer's thread ident. If that thread's end is
 * certain while it holds the lock, the next acquirer takes it and gets an
 * {@linkcode AbandonedLockError} while holding it (async waiters learn of
 * the end at once, blocking ones within about 50 ms). A thread that was
 * asked to stop but may still run keeps the lock: Deno cannot stop a busy
 * worker (see `Thread.terminate()`). Only threads started by `Thread` or
 * `Pool` have an observable end; a lock acquired in a plain `new Worker` is
 * never considered abandoned. If you use the "one thread
 * acquires, another releases" hand-off pattern, the acquirer must stay alive
 * until the release.
 *
 * ## Platform
 * `acquireSync` / `guardSync` block the calling thread with `Atomics.wait`:
 * use them in workers (on Deno's main thread they freeze the event loop).
 * Shareable with workers only; sharing with a process throws `TypeError`.
 *
 * @example Guarding a shared counter
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lock } from "@weft/weft/concurrency";
 *
 * const lock = new Lock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * {
 *   using _ = await lock.guard();
 *   counter[0]++;
 * }
 * assert.equal(lock.locked, false);
 * assert.equal(counter[0], 1);
 * ```
 */
export class Lock implements Shareable {
  /** Bytes a Lock needs at its `byteOffset` in a caller-provided buffer. */
  static readonly byteLength: number = CORE_WORDS * 4;
  #v: Int32Array;
  #me: number;
  #take: Take;
  #dead = 0;

  /**
   * Creates a lock, or attaches to one already initialized at
   * `location` (a zeroed block is initialized as an unlocked lock).
   *
   * @example Two views of one lock in caller-provided memory
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const buffer = new SharedArrayBuffer(Lock.byteLength);
   * const a = new Lock({ buffer });
   * const b = new Lock({ buffer }); // the same lock
   * a.tryAcquire();
   * assert.equal(b.locked, true);
   * a.release();
   * ```
   *
   * @param location Shared memory to use (`byteOffset` multiple of 4).
   * @throws {RangeError} If the block is not shared, misaligned, too small,
   * or holds another kind of object.
   */
  constructor(location?: SharedLocation) {
    this.#v = attachBlock("Lock", MAGIC.Lock, CORE_WORDS, location, () => {});
    this.#me = currentIdent();
    this.#take = robustTake(this.#v, this.#me, false, (owner) => {
      this.#dead = owner;
    });
  }

  /** The shared memory holding this lock. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of this lock in {@linkcode Lock.buffer}. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /**
   * Whether some thread holds the lock right now.
   *
   * @example Checking whether the lock is held
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * assert.equal(lock.locked, false);
   * ```
   */
  get locked(): boolean {
    return Atomics.load(this.#v, STATE) !== 0;
  }

  /** The engine's code as the caller's answer. */
  #result = (r: number): boolean => {
    if (r === ABANDONED) throw new AbandonedLockError("lock", this.#dead);
    return r !== NONE;
  };

  /**
   * Waits for the lock without blocking the event loop.
   *
   * @example Acquiring with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * assert.equal(await lock.acquire({ timeout: 100 }), true);
   * assert.equal(await lock.acquire({ timeout: 10 }), false);
   * lock.release();
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` once held, `false` on timeout.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  acquire(opts?: WaitOptions): Promise<boolean> {
    const v = this.#v;
    // Fast path, as in acquireSync (plain reads for the queue check).
    if (
      opts === undefined && v[NEXT] === v[SERVING] &&
      Atomics.compareExchange(v, STATE, 0, this.#me) === 0
    ) return TRUE;
    return acquireAsync(v, this.#take, this.#me, opts, LOCK, this.#result);
  }

  /**
   * Blocks the calling thread until the lock is held (meant for workers).
   *
   * @example Acquiring in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * assert.equal(lock.acquireSync(), true);
   * assert.equal(lock.acquireSync({ blocking: false }), false);
   * lock.release();
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false` to never wait.
   * @returns `true` once held, `false` on timeout.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  acquireSync(opts?: SyncWaitOptions): boolean {
    const v = this.#v;
    // Fast path: no queue and a free lock (one compare-exchange). The queue
    // check uses plain reads on purpose (an Atomics.load costs ~10 ns in
    // V8): a stale answer only lets one acquirer barge past the queue once,
    // or sends it to the slow path, which re-checks with Atomics.
    if (
      opts === undefined && v[NEXT] === v[SERVING] &&
      Atomics.compareExchange(v, STATE, 0, this.#me) === 0
    ) return true;
    return this.#result(acquireBlocking(v, this.#take, this.#me, opts, LOCK));
  }

  /**
   * Takes the lock if it is free right now; never waits.
   *
   * @example Trying once without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * assert.equal(lock.tryAcquire(), true);
   * assert.equal(lock.tryAcquire(), false);
   * lock.release();
   * ```
   *
   * @returns Whether the lock is now held by the caller.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  tryAcquire(): boolean {
    return queueEmpty(this.#v) && this.#result(this.#take());
  }

  /**
   * Releases the lock (any thread may release it, as in Python).
   *
   * @example Releasing the lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * lock.tryAcquire();
   * lock.release();
   * assert.equal(lock.locked, false);
   * ```
   *
   * @throws {TypeError} If the lock is not held.
   */
  release(): void {
    const v = this.#v;
    if (Atomics.exchange(v, STATE, 0) === 0) {
      throw new TypeError("Cannot release lock: it is not held");
    }
    if (Atomics.load(v, WAITERS) !== 0) wake(v);
  }

  /**
   * Acquires asynchronously and returns a Disposable that releases (at most
   * once), for `using _ = await lock.guard();`.
   *
   * @example Holding the lock for a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * {
   *   using _ = await lock.guard();
   *   assert.equal(lock.locked, true);
   * }
   * assert.equal(lock.locked, false);
   * ```
   *
   * @param opts `timeout` in ms, `signal` to abort.
   * @returns A guard releasing the lock when disposed.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  guard(opts?: WaitOptions): Promise<Disposable> {
    return guardAsync(this, "lock", opts);
  }

  /**
   * Blocking form of {@linkcode Lock.guard} (meant for workers).
   *
   * @example Holding the lock for a block in a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * {
   *   using _ = lock.guardSync();
   *   assert.equal(lock.locked, true);
   * }
   * ```
   *
   * @param opts `timeout` in ms.
   * @returns A guard releasing the lock when disposed.
   * @throws {DOMException} `TimeoutError` if `timeout` passes first.
   * @throws {AbandonedLockError} If taken over from a dead owner (held).
   */
  guardSync(opts?: { timeout?: number }): Disposable {
    return guardBlocking(this, "lock", opts);
  }

  /**
   * The cloneable handle that rebuilds this lock in a worker.
   *
   * @example Sharing a lock with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Lock, revive, share } from "@weft/weft/concurrency";
   *
   * const lock = new Lock();
   * const copy = revive<Lock>(structuredClone(share(lock)));
   * lock.tryAcquire();
   * assert.equal(copy.locked, true);
   * lock.release();
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return blockHandle("Lock", target, this);
  }
}

registerBlock("Lock", (location) => new Lock(location), import.meta.url);
