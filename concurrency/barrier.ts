/**
 * {@linkcode Barrier} and {@linkcode BrokenBarrierError}.
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
  type WaitLoop,
  type WaitOptions,
} from "./_wait.ts";
import type { SharedLocation } from "./options.ts";

// Word 1 packs the round: bit 30 broken, bits 16..29 generation, 0..15 count.
const STATE = 1;
const PARTIES = 2;
const OUTCOME = 4; // ring of 64 words: how generation g ended
const RING = 64;
const WORDS = OUTCOME + RING;
const BROKEN = 1 << 30;
const PASSED = 1;
const RESET = 2;
const MAX_PARTIES = 0xffff;

const genOf = (w: number) => (w >>> 16) & 0x3fff;
const countOf = (w: number) => w & 0xffff;
const nextGen = (g: number) => ((g + 1) & 0x3fff) << 16;

/**
 * Raised in every waiter of a {@linkcode Barrier} that is broken by
 * `abort()`, `reset()`, or a waiter's timeout, like Python's
 * `threading.BrokenBarrierError`.
 *
 * @example Catching a broken barrier
 * ```ts
 * import assert from "node:assert/strict";
 * import { Barrier, BrokenBarrierError } from "@weft/weft/concurrency";
 *
 * const barrier = new Barrier(2);
 * barrier.abort();
 * try {
 *   await barrier.wait();
 * } catch (error) {
 *   assert.equal(error instanceof BrokenBarrierError, true);
 * }
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates the error; barriers raise it, user code rarely needs to.
   *
   * @param message What broke the barrier.
   * @param options `cause`, if any.
   */
  constructor(
    message = "Cannot pass barrier: it is broken",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/**
 * A meeting point for a fixed number of parties, like Python's
 * `threading.Barrier`: each party calls `wait()`, and all are released
 * together once `parties` have arrived; then the barrier is ready for the
 * next round. Works across the main thread and workers.
 *
 * ## Fairness
 * Everyone of a round is released at once. `wait()` returns the arrival
 * index (0 for the first arrival, `parties - 1` for the last).
 *
 * ## Cancellation
 * As in Python, a wait that times out breaks the barrier: it rejects with
 * {@linkcode BrokenBarrierError} and so does every other waiter. An aborted
 * `signal` also breaks it (that waiter rejects with `signal.reason`, the
 * others with BrokenBarrierError). `reset()` repairs it.
 *
 * ## Visibility
 * Writes made by any party before its `wait()` are visible to all parties
 * after the round completes.
 *
 * ## Platform
 * `waitSync` blocks the calling thread (meant for workers). At most 65535
 * parties. Shareable with workers only.
 *
 * @example Two tasks meet
 * ```ts
 * import assert from "node:assert/strict";
 * import { Barrier } from "@weft/weft/concurrency";
 *
 * const barrier = new Barrier(2);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
 * assert.deepEqual(indexes.sort(), [0, 1]);
 * ```
 */
export class Barrier implements Shareable {
  /** Bytes a Barrier needs in a caller-provided buffer. */
  static readonly byteLength: number = WORDS * 4;
  #v: Int32Array;

  /**
   * Creates a barrier for `parties` parties, or attaches to one already at
   * `location` (then `parties` is ignored).
   *
   * @example Creating a barrier for three parties
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * assert.equal(new Barrier(3).parties, 3);
   * ```
   *
   * @param parties How many must arrive to release a round.
   * @param location Shared memory to use.
   * @throws {RangeError} If `parties` is not an integer in [1, 65535].
   */
  constructor(parties: number, location?: SharedLocation) {
    if (
      typeof parties !== "number" || !Number.isInteger(parties) ||
      parties < 1 || parties > MAX_PARTIES
    ) {
      throw new RangeError(
        `Cannot create Barrier: "parties" must be an integer in [1, ${MAX_PARTIES}], got ${parties}`,
      );
    }
    this.#v = attachBlock("Barrier", MAGIC.Barrier, WORDS, location, (v) => {
      v[PARTIES] = parties;
    });
  }

  /** The shared memory holding this barrier. */
  get buffer(): SharedArrayBuffer {
    return this.#v.buffer as SharedArrayBuffer;
  }

  /** Byte offset of this barrier in its buffer. */
  get byteOffset(): number {
    return this.#v.byteOffset;
  }

  /** How many parties a round needs. */
  get parties(): number {
    return Atomics.load(this.#v, PARTIES);
  }

  /**
   * How many parties are waiting in the current round.
   *
   * @example Counting the parties waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * assert.equal(new Barrier(2).nWaiting, 0);
   * ```
   */
  get nWaiting(): number {
    return countOf(Atomics.load(this.#v, STATE));
  }

  /**
   * Whether the barrier is broken (until `reset()`).
   *
   * @example Checking whether the barrier is broken
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * const b = new Barrier(2);
   * b.abort();
   * assert.equal(b.broken, true);
   * ```
   */
  get broken(): boolean {
    return (Atomics.load(this.#v, STATE) & BROKEN) !== 0;
  }

  /** Registers an arrival; returns [index, generation] or index if last. */
  #arrive(): { index: number; gen: number; last: boolean } {
    const v = this.#v;
    const parties = Atomics.load(v, PARTIES);
    for (;;) {
      const w = Atomics.load(v, STATE);
      if (w & BROKEN) throw new BrokenBarrierError();
      const count = countOf(w), gen = genOf(w);
      if (count + 1 === parties) {
        Atomics.store(v, OUTCOME + (gen & (RING - 1)), PASSED);
        if (Atomics.compareExchange(v, STATE, w, nextGen(gen)) === w) {
          // The CAS winner decides the outcome (a racing reset() may have
          // written RESET after our first store).
          Atomics.store(v, OUTCOME + (gen & (RING - 1)), PASSED);
          Atomics.notify(v, STATE);
          return { index: count, gen, last: true };
        }
        continue;
      }
      if (Atomics.compareExchange(v, STATE, w, w + 1) === w) {
        return { index: count, gen, last: false };
      }
    }
  }

  /** After a wake: "passed", "broken" or "waiting". */
  #check(gen: number): "passed" | "waiting" {
    const v = this.#v;
    const w = Atomics.load(v, STATE);
    if (genOf(w) !== gen) {
      if (Atomics.load(v, OUTCOME + (gen & (RING - 1))) === PASSED) {
        return "passed";
      }
      throw new BrokenBarrierError("Cannot pass barrier: it was reset");
    }
    if (w & BROKEN) throw new BrokenBarrierError();
    return "waiting";
  }

  /**
   * Waits (without blocking the event loop) until all parties arrived.
   *
   * @example Waiting for the other parties
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * const barrier = new Barrier(1);
   * assert.equal(await barrier.wait(), 0);
   * ```
   *
   * @param opts `timeout` in ms (breaks the barrier), `signal` to abort.
   * @returns This party's arrival index, 0 to `parties - 1`.
   * @throws {BrokenBarrierError} If the barrier is or becomes broken.
   */
  async wait(opts?: WaitOptions): Promise<number> {
    const { timeout, signal } = asyncOptions(opts);
    const { index, gen, last } = this.#arrive();
    if (last) return index;
    return await driveAsync(this.#waitLoop(index, gen, timeout), signal);
  }

  /**
   * The wait loop, written once: this party's index once the generation
   * passed. A timeout, an abort or a stop of this thread breaks the
   * barrier (the others must not wait for a party that left).
   */
  *#waitLoop(index: number, gen: number, timeout: number): WaitLoop<number> {
    const deadline = deadlineOf(timeout);
    const v = this.#v;
    for (;;) {
      const w = Atomics.load(v, STATE);
      if (this.#check(gen) === "passed") return index;
      const left = remaining(deadline);
      if (left === 0) {
        this.abort();
        throw new BrokenBarrierError("Cannot pass barrier: the wait timed out");
      }
      try {
        yield { view: v, index: STATE, expected: w, timeout: left };
      } catch (error) {
        this.abort();
        throw error;
      }
    }
  }

  /**
   * Blocking form of {@linkcode Barrier.wait} (meant for workers).
   *
   * @example Waiting in a worker (blocking)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * assert.equal(new Barrier(1).waitSync(), 0);
   * ```
   *
   * @param opts `timeout` in ms (breaks the barrier).
   * @returns This party's arrival index.
   * @throws {BrokenBarrierError} If the barrier is or becomes broken.
   */
  waitSync(opts?: { timeout?: number }): number {
    const timeout = syncTimeout(opts);
    const { index, gen, last } = this.#arrive();
    if (last) return index;
    return blockOn(this.#waitLoop(index, gen, timeout));
  }

  /**
   * Breaks the barrier: current and future waiters get
   * {@linkcode BrokenBarrierError} until {@linkcode Barrier.reset}.
   *
   * @example Breaking the barrier on purpose
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * const b = new Barrier(3);
   * b.abort();
   * assert.equal(b.broken, true);
   * ```
   */
  abort(): void {
    const v = this.#v;
    for (;;) {
      const w = Atomics.load(v, STATE);
      if (w & BROKEN) return;
      if (Atomics.compareExchange(v, STATE, w, w | BROKEN) === w) break;
    }
    Atomics.notify(v, STATE);
  }

  /**
   * Returns the barrier to its empty, unbroken state; parties waiting now
   * get {@linkcode BrokenBarrierError}.
   *
   * @example Repairing a broken barrier
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier } from "@weft/weft/concurrency";
   *
   * const b = new Barrier(2);
   * b.abort();
   * b.reset();
   * assert.equal(b.broken, false);
   * ```
   */
  reset(): void {
    const v = this.#v;
    for (;;) {
      const w = Atomics.load(v, STATE);
      const gen = genOf(w);
      Atomics.store(v, OUTCOME + (gen & (RING - 1)), RESET);
      if (Atomics.compareExchange(v, STATE, w, nextGen(gen)) === w) {
        Atomics.store(v, OUTCOME + (gen & (RING - 1)), RESET);
        break;
      }
    }
    Atomics.notify(v, STATE);
  }

  /**
   * The cloneable handle that rebuilds this barrier in a worker.
   *
   * @example Sharing a barrier with a worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier, revive, share } from "@weft/weft/concurrency";
   *
   * const copy = revive<Barrier>(structuredClone(share(new Barrier(4))));
   * assert.equal(copy.parties, 4);
   * ```
   */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    return blockHandle("Barrier", target, this);
  }
}

registerBlock(
  "Barrier",
  (location) => new Barrier(1, location),
  import.meta.url,
);
