/**
 * Proxies to the locks, semaphores, events, conditions and barriers a
 * {@linkcode Manager} holds (re-exported by `manager_proxy.ts`).
 *
 * @module
 */

import {
  BaseProxy,
  type ProxyWaitOptions,
  waitArgs,
} from "./_manager_proxy_base.ts";

/**
 * A proxy to a lock-like object in a manager (`Lock`, `RLock`, `Semaphore`).
 *
 * The manager records which connection (client process, or worker) holds
 * it; if that connection drops — the process died — the manager releases
 * what it held. (Python's manager does not.)
 *
 * @example Holding a proxied lock for a block
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const lock = await manager.Lock();
 * {
 *   await using _ = await lock.guard({ timeout: 5000 });
 *   assert.equal(await lock.locked(), true);
 * }
 * assert.equal(await lock.locked(), false);
 * ```
 */
export class AcquirableProxy extends BaseProxy {
  /**
   * Waits to acquire; resolves `false` on timeout. An abort rejects with
   * `signal.reason`; if the manager granted it just before the abort arrived,
   * it is given back.
   */
  acquire(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("acquire", waitArgs(options), {
      signal: options?.signal,
      onLate: (granted) => {
        if (granted === true) this.call("release", []).catch(() => {});
      },
    }) as Promise<boolean>;
  }
  /** Releases once; rejects with a `RemoteError` if it was not held. */
  async release(): Promise<void> {
    await this.call("release", []);
  }
  /**
   * Acquires and returns an `AsyncDisposable` that releases (once), for
   * `await using _ = await lock.guard();`.
   *
   * @throws {Error} With `timeout`, if it could not be acquired in time.
   */
  async guard(options?: ProxyWaitOptions): Promise<AsyncDisposable> {
    if (!await this.acquire(options)) {
      throw new Error(
        `Cannot acquire ${this.typeid}: timed out after ${options?.timeout} ms`,
      );
    }
    let released = false;
    return {
      [Symbol.asyncDispose]: async () => {
        if (released) return;
        released = true;
        await this.call("release", []);
      },
    };
  }
}

/**
 * A proxy to a `Lock` in a manager: like `threading.Lock` behind Python's
 * manager. Any connection may release it (as in Python).
 *
 * @example The ticket-grabbing pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const lock = await manager.Lock();
 * const tickets = await manager.Value(1);
 * {
 *   await using _ = await lock.guard();
 *   if (await tickets.get() > 0) await tickets.set(0);
 * }
 * assert.equal(await tickets.get(), 0);
 * assert.equal(await lock.locked(), false);
 * ```
 */
export class LockProxy extends AcquirableProxy {
  /** True if some connection holds it. */
  locked(): Promise<boolean> {
    return this.call("locked", []) as Promise<boolean>;
  }
}

/**
 * A proxy to an `RLock` in a manager: re-entrant per connection (one per
 * process or worker), so every task of one process counts as the same owner.
 * Releasing from another connection rejects.
 *
 * @example Acquired twice, released twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const rlock = await manager.RLock();
 * await rlock.acquire();
 * await rlock.acquire();
 * await rlock.release();
 * assert.equal(await rlock.locked(), true); // still held once
 * await rlock.release();
 * assert.equal(await rlock.locked(), false);
 * ```
 */
export class RLockProxy extends AcquirableProxy {
  /** True if some connection holds it. */
  locked(): Promise<boolean> {
    return this.call("locked", []) as Promise<boolean>;
  }
}

/**
 * A proxy to a `Semaphore` (or `BoundedSemaphore`) in a manager. Permits a
 * dead connection held are given back.
 *
 * @example Taking one of two permits
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const slots = await manager.Semaphore(2);
 * await slots.acquire();
 * assert.equal(await slots.value(), 1);
 * await slots.release();
 * ```
 */
export class SemaphoreProxy extends AcquirableProxy {
  /** Permits available now. */
  value(): Promise<number> {
    return this.call("value", []) as Promise<number>;
  }
}

/**
 * A proxy to an `Event` in a manager.
 *
 * @example Waiting until another task sets it
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const ready = await manager.Event();
 * setTimeout(() => ready.set(), 10);
 * assert.equal(await ready.wait({ timeout: 5000 }), true);
 * assert.equal(await ready.isSet(), true);
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    await this.call("set", []);
  }
  /** Clears the flag. */
  async clear(): Promise<void> {
    await this.call("clear", []);
  }
  /** True if the flag is set. */
  isSet(): Promise<boolean> {
    return this.call("isSet", []) as Promise<boolean>;
  }
  /** Waits for the flag; resolves `false` on timeout. */
  wait(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<boolean>;
  }
}

/**
 * A proxy to a `Condition` in a manager, over a manager `Lock` or `RLock`
 * (a fresh `RLock` by default). Like Python's, `wait` and `notify` need the
 * lock held by this connection (process or worker); `wait` releases it while
 * waiting and holds it again when it resolves. An aborted `wait` rejects
 * without the lock.
 *
 * @example A wait that times out, a notify that wakes nobody
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const cond = await manager.Condition();
 * await cond.acquire();
 * assert.equal(await cond.wait({ timeout: 10 }), false); // nobody notified
 * assert.equal(await cond.notify(), 0); // nobody waiting
 * await cond.release();
 * ```
 */
export class ConditionProxy extends AcquirableProxy {
  /** Waits for a notify; resolves `false` on timeout. */
  wait(options?: ProxyWaitOptions): Promise<boolean> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<boolean>;
  }
  /** Wakes up to `n` waiters (default 1); resolves how many. */
  notify(n: number = 1): Promise<number> {
    return this.call("notify", [n]) as Promise<number>;
  }
  /** Wakes every waiter; resolves how many. */
  notifyAll(): Promise<number> {
    return this.call("notifyAll", []) as Promise<number>;
  }
}

/**
 * A proxy to a `Barrier` in a manager. `wait` resolves with the arrival
 * index (0 for the first); a timeout, an abort, or a waiting process dying
 * breaks the barrier, and waits then reject with `concurrency`'s
 * `BrokenBarrierError`.
 *
 * @example Two parties meet; each gets its own index
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const barrier = await manager.Barrier(2);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
 * assert.deepEqual(indexes.sort(), [0, 1]);
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** Waits until `parties` callers are waiting; resolves the arrival index. */
  wait(options?: ProxyWaitOptions): Promise<number> {
    return this.call("wait", waitArgs(options), {
      signal: options?.signal,
    }) as Promise<number>;
  }
  /** Fails current waiters with `BrokenBarrierError` and un-breaks it. */
  async reset(): Promise<void> {
    await this.call("reset", []);
  }
  /** Breaks it: current and later waits reject until `reset`. */
  async abort(): Promise<void> {
    await this.call("abort", []);
  }
  /** True if broken. */
  broken(): Promise<boolean> {
    return this.call("broken", []) as Promise<boolean>;
  }
  /** Callers needed to pass. */
  parties(): Promise<number> {
    return this.call("parties", []) as Promise<number>;
  }
  /** Callers waiting now. */
  nWaiting(): Promise<number> {
    return this.call("nWaiting", []) as Promise<number>;
  }
}
