/**
 * {@linkcode Event}.
 *
 * @module
 */

import { attachBlock, MAGIC } from "./_layout.ts";
import { asyncOptions, refuseProcess, syncTimeout } from "./_sync_guard.ts";
import {
  registerReviver,
  type Shareable,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "./_share.ts";
import { adoptRegistry, registryBuffer } from "./_thread_registry.ts";
import {
  deadlineOf,
  remaining,
  type SyncWaitOptions,
  waitAsync,
  type WaitOptions,
  waitSync,
} from "./_wait.ts";
import type { SharedLocation } from "./lock.ts";

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
 * import { Event } from "@weft/weft/concurrency";
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 5);
 * console.log(await ready.wait({ timeout: 1000 }), ready.isSet()); // true true
 * ```
 */
export class Event implements Shareable {
  /** Bytes an Event needs in a caller-provided buffer. */
  static readonly byteLength: number = WORDS * 4;
  #v: Int32Array;

  /**
   * Creates a cleared event, or attaches to one already at `location`.
   *
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * console.log(new Event().isSet()); // false
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
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * console.log(e.isSet()); // true
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
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * console.log(await e.wait()); // true
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
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * e.set();
   * e.clear();
   * console.log(e.isSet()); // false
   * ```
   */
  clear(): void {
    Atomics.store(this.#v, FLAG, 0);
  }

  /**
   * Waits (without blocking the event loop) until the flag is set.
   *
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * console.log(await new Event().wait({ timeout: 10 })); // false
   * ```
   *
   * @param opts `timeout` in ms (resolve `false`), `signal` to abort.
   * @returns `true` once set, `false` on timeout.
   */
  async wait(opts?: WaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(opts);
    const deadline = deadlineOf(timeout);
    const v = this.#v;
    while (Atomics.load(v, FLAG) === 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      await waitAsync(v, FLAG, 0, left, signal);
    }
    return true;
  }

  /**
   * Blocks the calling thread until the flag is set (meant for workers).
   *
   * @example
   * ```ts
   * import { Event } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * console.log(e.waitSync({ timeout: 5 })); // false
   * ```
   *
   * @param opts `timeout` in ms, or `blocking: false` to only look.
   * @returns `true` once set, `false` on timeout.
   */
  waitSync(opts?: SyncWaitOptions): boolean {
    const deadline = deadlineOf(syncTimeout(opts));
    const v = this.#v;
    while (Atomics.load(v, FLAG) === 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      waitSync(v, FLAG, 0, left);
    }
    return true;
  }

  /**
   * The cloneable handle that rebuilds this event in a worker.
   *
   * @example
   * ```ts
   * import { Event, revive, share } from "@weft/weft/concurrency";
   *
   * const e = new Event();
   * const copy = revive<Event>(structuredClone(share(e)));
   * e.set();
   * console.log(copy.isSet()); // true
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    refuseProcess("Event", target);
    return {
      "@@weft": "Event",
      buffer: this.buffer,
      byteOffset: this.byteOffset,
      registry: registryBuffer(),
    };
  }
}

registerReviver("Event", (h) => {
  adoptRegistry(h.registry);
  return new Event({
    buffer: h.buffer as SharedArrayBuffer,
    byteOffset: h.byteOffset as number,
  });
}, import.meta.url);
