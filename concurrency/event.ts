/**
 * {@linkcode Event}.
 *
 * @module
 */

import { blockHandle, registerBlock } from "./_shared_block.ts";
import { attachBlock, MAGIC } from "./_layout.ts";
import { asyncOptions, syncTimeout } from "./_sync_guard.ts";
import {
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import {
  blockOn,
  deadlineOf,
  driveAsync,
  remaining,
  type SyncWaitOptions,
  type WaitLoop,
  type WaitOptions,
} from "./_wait.ts";
import type { SharedLocation } from "./options.ts";

const FLAG = 1;
const WORDS = 2;

/**
 * A flag threads wait on, like Python's `threading.Event`, except that it
 * lives in shared memory: `set()` on any thread wakes waiters on every
 * thread, and waiting comes as `wait()` (async) and `waitSync()` (blocking).
 *
 * ## Fairness
 * `set()` wakes every waiter; there is no order to keep.
 *
 * ## Cancellation
 * `wait({ signal })` rejects with `signal.reason` if the signal is already
 * aborted or aborts while waiting; `{ timeout }` resolves `false`.
 *
 * ## Visibility
 * Writes made before `set()` are visible to every waiter it wakes.
 *
 * ## Platform
 * `waitSync` blocks the calling thread (meant for workers). Shareable with
 * workers only.
 *
 * @example Boss and worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { Event } from "@weft/weft/concurrency";
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 5);
 * assert.equal(await ready.wait({ timeout: 1000 }), true);
 * assert.equal(ready.isSet(), true);
 * ```
 */
export class Event implements Shareable {
  /** Bytes an Event needs in a caller-provided buffer. */
  static readonly byteLength: number = WORDS * 4;
  #v: Int32Array;

  /**
   * Creates a cleared event, or attaches to one already at `location`.
   *
   * @example Creating an event
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * assert.equal(new Event().isSet(), false);
   * ```
   *
   * @param location Shared memory to use.
   * @throws {RangeError} If the block is unusable or holds another kind.
   */
  constructor(location?: SharedLocation) {
    this.#v = attachBlock("Event", MAGIC.Event, WORDS, location, () => {});
  }

  /** The shared memory holding this event. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of this event in its buffer. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /**
   * Whether the flag is set.
   *
   * @example Checking the flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * assert.equal(e.isSet(), true);
   * ```
   *
   * @returns The flag.
   */
  isSet(): boolean {
    return Atomics.load(this.#v, FLAG) === 1;
  }

  /**
   * Sets the flag and wakes every waiter on every thread.
   *
   * @example Setting the flag wakes the waiters
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * assert.equal(await e.wait(), true);
   * ```
   */
  set(): void {
    if (Atomics.exchange(this.#v, FLAG, 1) === 0) {
      Atomics.notify(this.#v, FLAG);
    }
  }

  /**
   * Clears the flag, so later waits wait again.
   *
   * @example Clearing the flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * e.clear();
   * assert.equal(e.isSet(), false);
   * ```
   */
  clear(): void {
    Atomics.store(this.#v, FLAG, 0);
  }

  /**
   * Waits (without blocking the event loop) until the flag is set.
   *
   * @example Waiting with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * assert.equal(await new Event().wait({ timeout: 10 }), false);
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` once set, `false` on timeout.
   */
  async wait(opts?: WaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(opts);
    if (Atomics.load(this.#v, FLAG) !== 0) return true;
    return await driveAsync(this.#waitLoop(timeout), signal);
  }

  /** The wait loop, written once: `true` once set, `false` on timeout. */
  *#waitLoop(timeout: number): WaitLoop<boolean> {
    const deadline = deadlineOf(timeout);
    const v = this.#v;
    while (Atomics.load(v, FLAG) === 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      yield { view: v, index: FLAG, expected: 0, timeout: left };
    }
    return true;
  }

  /**
   * Blocks the calling thread until the flag is set (meant for workers).
   *
   * @example Waiting with a timeout in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * assert.equal(e.waitSync({ timeout: 5 }), false);
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false` to only look.
   * @returns `true` once set, `false` on timeout.
   */
  waitSync(opts?: SyncWaitOptions): boolean {
    const timeout = syncTimeout(opts);
    if (Atomics.load(this.#v, FLAG) !== 0) return true;
    return blockOn(this.#waitLoop(timeout));
  }

  /**
   * The cloneable handle that rebuilds this event in a worker.
   *
   * @example Sharing an event with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event, revive, share } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * const copy = revive<Event>(structuredClone(share(e)));
   * e.set();
   * assert.equal(copy.isSet(), true);
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return blockHandle("Event", target, this);
  }
}

registerBlock("Event", (location) => new Event(location), import.meta.url);
