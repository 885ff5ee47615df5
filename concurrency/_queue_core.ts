/**
 * The waiting side of Queue, LifoQueue and PriorityQueue (private): how
 * `put`, `get` and `join` wait, on top of the storage of `_queue_store.ts`
 * and the item codec of `_queue_codec.ts`.
 *
 * ## Fair wake-one waiting (two FIFO semaphores)
 * A getter that finds the queue empty takes a ticket from the getter ring
 * (`GET_NEXT++`, under the queue's internal mutex) and sleeps on its own
 * ring word. A put that stores an item serves the oldest ticket
 * (`GET_SERVE++`): it marks that word woken and notifies it — exactly one
 * sleeper wakes, in arrival order. Putters of a full queue do the same on
 * the putter ring, served by gets. A waiter that times out or aborts
 * cancels its ticket (servers skip it) or, if it was already served, hands
 * the wake to the next ticket, so no wake-up is lost. A woken waiter
 * retries its operation; if another thread took the item first (a newcomer
 * may barge, as in CPython's `Queue`), it takes a new ticket.
 *
 * More than `RING` (128) sleepers on one side at once wait on the overflow
 * word (`NOT_EMPTY` / `NOT_FULL`, woken all at once), as every waiter did
 * before this design.
 *
 * Every wait loop is written once (a {@linkcode WaitLoop}) and driven
 * blocking (`...Sync`) or async.
 *
 * @module
 */

import { QueueClosed, QueueEmpty, QueueFull } from "./queue_errors.ts";
import {
  blockOn,
  checkTimeout,
  deadlineOf,
  driveAsync,
  remaining,
  throwIfAborted,
  throwIfStopping,
  type WaitLoop,
  type WaitOptions,
} from "./_wait.ts";
import type { ShareTarget } from "../_internal/share.ts";
import {
  decodeItem,
  type Encoded,
  encodeItem,
  inScratch,
  type Popped,
} from "./_queue_codec.ts";
import {
  GET_RING,
  H_ALL_DONE,
  H_CLOSED,
  H_COUNT,
  H_GET_NEXT,
  H_GET_SERVE,
  H_GET_WAITERS,
  H_MAX_DATA,
  H_MAXSIZE,
  H_NOT_EMPTY,
  H_NOT_FULL,
  H_PUT_NEXT,
  H_PUT_SERVE,
  H_PUT_WAITERS,
  H_UNFINISHED,
  type Priority,
  PUT_RING,
  type QueueHandle,
  type QueueKind,
  type QueueOptions,
  QueueStore,
  RING,
} from "./_queue_store.ts";
import { HANDLE_KIND } from "../_internal/share.ts";

export {
  KIND_FIFO,
  KIND_LIFO,
  KIND_PRIORITY,
  type Priority,
  type QueueHandle,
  type QueueKind,
  type QueueOptions,
} from "./_queue_store.ts";
export { encodeItem } from "./_queue_codec.ts";

/** Options for the waiting async calls of a queue (`put`, `get`, `join`). */
export interface QueueWaitOptions {
  /** Give up after this many milliseconds (`put`/`get` throw `QueueFull` /
   * `QueueEmpty`; `join` resolves `false`). */
  timeout?: number;
  /** Abort the wait; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options for the blocking `...Sync` calls of a queue. */
export interface QueueSyncOptions {
  /** Give up after this many milliseconds (throws `QueueEmpty`/`QueueFull`). */
  timeout?: number;
  /** `false` never waits: same as `getNowait()` / `putNowait()`. */
  blocking?: boolean;
}

/** Ring word states. */
const ARMED = 1;
const WOKEN = 2;
const CANCELLED = 3;

/** One side's ring: where its tickets and words are. */
interface Side {
  next: number;
  serve: number;
  ring: number;
  overflowWord: number;
  overflowWaiters: number;
}

const GETTERS: Side = {
  next: H_GET_NEXT,
  serve: H_GET_SERVE,
  ring: GET_RING,
  overflowWord: H_NOT_EMPTY,
  overflowWaiters: H_GET_WAITERS,
};
const PUTTERS: Side = {
  next: H_PUT_NEXT,
  serve: H_PUT_SERVE,
  ring: PUT_RING,
  overflowWord: H_NOT_FULL,
  overflowWaiters: H_PUT_WAITERS,
};

/** A waiter's place: a ticket, an overflow registration, or nothing. */
interface Place {
  /** The ticket, or -1. */
  ticket: number;
  /** Registered as an overflow waiter at this sequence, or -1. */
  overflow: number;
}

/** Where to sleep after {@linkcode QueueCore} enlisted a waiter. */
interface Sleep {
  index: number;
  expected: number;
}

/**
 * The engine of one queue: a {@linkcode QueueStore} plus fair waiting.
 * The public classes wrap it and only choose the kind and the item type.
 */
export class QueueCore {
  #store: QueueStore;
  #h: Int32Array;
  #handleKind: string;

  constructor(
    kind: QueueKind,
    handleKind: string,
    options: QueueOptions | QueueHandle | undefined,
  ) {
    this.#handleKind = handleKind;
    this.#store = new QueueStore(kind, handleKind, options);
    this.#h = this.#store.h;
  }

  /** The handle for `target` (workers only). */
  toHandle(target: ShareTarget): QueueHandle {
    if (target !== "worker") {
      throw new TypeError(
        `Cannot share ${this.#handleKind} with another process: it lives in shared memory (use a Manager queue)`,
      );
    }
    return {
      [HANDLE_KIND]: this.#handleKind,
      header: this.#store.header,
      slots: this.#store.slotsBuf,
      data: this.#store.dataBuf,
    };
  }

  // ---- tickets (all under the store's mutex) -----------------------------

  /** True if `ticket` was served (woken or skipped) already. */
  #served(side: Side, ticket: number): boolean {
    return ((this.#h[side.serve] - ticket) | 0) > 0;
  }

  /**
   * Wakes the oldest armed waiter of `side` (skipping cancelled tickets);
   * returns the ring word to notify after unlocking, or -1. Overflow
   * waiters are woken (all) only when no ticket was.
   */
  #serveOne(side: Side): number {
    const h = this.#h;
    while (h[side.serve] !== h[side.next]) {
      const t = h[side.serve];
      h[side.serve] = (t + 1) | 0;
      const word = side.ring + (t & (RING - 1));
      const state = h[word];
      h[word] = state === ARMED ? WOKEN : 0;
      if (state === ARMED) return word;
    }
    if (h[side.overflowWaiters] > 0) {
      h[side.overflowWaiters] = 0;
      h[side.overflowWord]++;
      return -2; // notify the overflow word (all)
    }
    return -1;
  }

  #notify(side: Side, word: number): void {
    if (word === -1) return;
    if (word === -2) Atomics.notify(this.#h, side.overflowWord);
    else Atomics.notify(this.#h, word, 1);
  }

  /** Gives up a place: cancels an unserved ticket, or passes a wake on. */
  #leave(side: Side, place: Place): number {
    const h = this.#h;
    let wake = -1;
    if (place.ticket >= 0) {
      const word = side.ring + (place.ticket & (RING - 1));
      if (!this.#served(side, place.ticket)) h[word] = CANCELLED;
      else {
        if (h[word] === WOKEN) h[word] = 0;
        // We were woken but take nothing: the next one may.
        if (
          side === GETTERS ? h[H_COUNT] > 0 : this.#store.hasRoom()
        ) wake = this.#serveOne(side);
      }
      place.ticket = -1;
    }
    if (place.overflow >= 0) {
      if (
        h[side.overflowWord] === place.overflow && h[side.overflowWaiters] > 0
      ) {
        h[side.overflowWaiters]--;
      }
      place.overflow = -1;
    }
    return wake;
  }

  /** The operation succeeded: drop the place (no wake to pass on). */
  #consumed(side: Side, place: Place): void {
    const h = this.#h;
    if (place.ticket >= 0) {
      const word = side.ring + (place.ticket & (RING - 1));
      if (!this.#served(side, place.ticket)) h[word] = CANCELLED;
      else if (h[word] === WOKEN) h[word] = 0;
      place.ticket = -1;
    }
    if (place.overflow >= 0) {
      if (
        h[side.overflowWord] === place.overflow && h[side.overflowWaiters] > 0
      ) h[side.overflowWaiters]--;
      place.overflow = -1;
    }
  }

  /** Takes a place in line (or keeps the one not served yet). */
  #enlist(side: Side, place: Place): Sleep {
    const h = this.#h;
    if (place.ticket >= 0 && !this.#served(side, place.ticket)) {
      return {
        index: side.ring + (place.ticket & (RING - 1)),
        expected: ARMED,
      };
    }
    if (place.ticket >= 0) {
      const word = side.ring + (place.ticket & (RING - 1));
      if (h[word] === WOKEN) h[word] = 0;
      place.ticket = -1;
    }
    if (((h[side.next] - h[side.serve]) | 0) < RING) {
      const t = h[side.next];
      h[side.next] = (t + 1) | 0;
      h[side.ring + (t & (RING - 1))] = ARMED;
      place.ticket = t;
      return { index: side.ring + (t & (RING - 1)), expected: ARMED };
    }
    if (place.overflow < 0 || h[side.overflowWord] !== place.overflow) {
      h[side.overflowWaiters]++;
      place.overflow = h[side.overflowWord];
    }
    return { index: side.overflowWord, expected: place.overflow };
  }

  // ---- put / get ----------------------------------------------------------

  #checkFits(enc: Encoded): void {
    if (enc.bytes.length > this.#h[H_MAX_DATA]) {
      throw new RangeError(
        `Cannot put item: it encodes to ${enc.bytes.length} bytes, more than the queue's "maxBufferSize" (${
          this.#h[H_MAX_DATA]
        })`,
      );
    }
  }

  /**
   * Under one hold of the mutex: stores the item (returns `null`, and wakes
   * one getter), or — with a `place` — enlists as a putter and returns where
   * to sleep (or `false` without one). Throws QueueClosed (with the item).
   */
  #tryPut(
    item: unknown,
    enc: Encoded,
    priority: Priority,
    place: Place | undefined,
  ): Sleep | null | false {
    const store = this.#store;
    const h = this.#h;
    let wakeGetter = -1;
    let wakePutter = -1;
    let result: Sleep | null | false;
    store.lock();
    try {
      if (h[H_CLOSED]) {
        if (place) wakePutter = this.#leave(PUTTERS, place);
        throw new QueueClosed("Cannot put item: the queue is closed", {
          item,
        });
      }
      if (store.push(enc, priority)) {
        if (place) this.#consumed(PUTTERS, place);
        wakeGetter = this.#serveOne(GETTERS);
        result = null;
      } else if (place) {
        result = this.#enlist(PUTTERS, place);
      } else {
        result = false;
      }
    } finally {
      store.unlock();
    }
    this.#notify(GETTERS, wakeGetter);
    this.#notify(PUTTERS, wakePutter);
    return result;
  }

  /**
   * Under one hold of the mutex: takes an item (and wakes one putter), or —
   * with a `place` — enlists as a getter and returns where to sleep (or
   * `false` without one). Throws QueueClosed once closed and drained.
   */
  #tryGet(place: Place | undefined): Popped | Sleep | false {
    const store = this.#store;
    const h = this.#h;
    if (
      place === undefined && Atomics.load(h, H_COUNT) === 0 &&
      !Atomics.load(h, H_CLOSED)
    ) return false;
    let wakeGetter = -1;
    let wakePutter = -1;
    let result: Popped | Sleep | false;
    store.lock();
    try {
      if (h[H_COUNT] > 0) {
        result = store.pop();
        if (place) this.#consumed(GETTERS, place);
        wakePutter = this.#serveOne(PUTTERS);
      } else if (h[H_CLOSED]) {
        if (place) wakeGetter = this.#leave(GETTERS, place);
        throw new QueueClosed("Cannot get item: the queue is closed");
      } else if (place) {
        result = this.#enlist(GETTERS, place);
      } else {
        result = false;
      }
    } finally {
      store.unlock();
    }
    this.#notify(GETTERS, wakeGetter);
    this.#notify(PUTTERS, wakePutter);
    return result;
  }

  /** Leaves the line after a wait that ended without success. */
  #giveUp(side: Side, place: Place): void {
    if (place.ticket < 0 && place.overflow < 0) return;
    this.#store.lock();
    let wake: number;
    try {
      wake = this.#leave(side, place);
    } finally {
      this.#store.unlock();
    }
    this.#notify(side, wake);
  }

  /** The put wait loop (driven blocking or async). */
  *#putLoop(
    item: unknown,
    enc: Encoded,
    priority: Priority,
    timeout: number,
    spin: boolean,
  ): WaitLoop<void> {
    const deadline = deadlineOf(timeout);
    const place: Place = { ticket: -1, overflow: -1 };
    let done = false;
    try {
      for (;;) {
        const waitTime = remaining(deadline);
        const sleep = this.#tryPut(
          item,
          enc,
          priority,
          waitTime > 0 ? place : undefined,
        );
        if (sleep === null) {
          done = true;
          return;
        }
        if (sleep === false) {
          throw new QueueFull(
            `Cannot put item: the queue is still full after ${timeout} ms`,
          );
        }
        yield {
          view: this.#h,
          index: sleep.index,
          expected: sleep.expected,
          timeout: waitTime,
          spin,
        };
      }
    } finally {
      if (!done) this.#giveUp(PUTTERS, place);
    }
  }

  /** The get wait loop (driven blocking or async). */
  *#getLoop(timeout: number, spin: boolean): WaitLoop<unknown> {
    const deadline = deadlineOf(timeout);
    const place: Place = { ticket: -1, overflow: -1 };
    let done = false;
    try {
      for (;;) {
        const waitTime = remaining(deadline);
        const got = this.#tryGet(waitTime > 0 ? place : undefined);
        if (got === false) {
          throw new QueueEmpty(
            `Cannot get item: the queue is still empty after ${timeout} ms`,
          );
        }
        if ("tag" in got) {
          done = true;
          return decodeItem(got);
        }
        yield {
          view: this.#h,
          index: got.index,
          expected: got.expected,
          timeout: waitTime,
          spin,
        };
      }
    } finally {
      if (!done) this.#giveUp(GETTERS, place);
    }
  }

  async putItem(
    item: unknown,
    priority: Priority,
    options?: WaitOptions,
  ): Promise<void> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    const enc = encodeItem(item);
    this.#checkFits(enc);
    if (this.#tryPut(item, enc, priority, undefined) === null) return;
    // Other puts of this thread may reuse the scratch buffer meanwhile.
    if (inScratch(enc.bytes)) enc.bytes = enc.bytes.slice();
    return await driveAsync(
      this.#putLoop(item, enc, priority, timeout, false),
      signal,
    );
  }

  putItemSync(
    item: unknown,
    priority: Priority,
    options?: QueueSyncOptions,
  ): void {
    throwIfStopping();
    const timeout = checkTimeout(options?.timeout);
    const enc = encodeItem(item);
    this.#checkFits(enc);
    if (this.#tryPut(item, enc, priority, undefined) === null) return;
    if (options?.blocking === false) throw new QueueFull();
    blockOn(this.#putLoop(item, enc, priority, timeout, true));
  }

  putItemNowait(item: unknown, priority: Priority): void {
    const enc = encodeItem(item);
    this.#checkFits(enc);
    if (this.#tryPut(item, enc, priority, undefined) !== null) {
      throw new QueueFull();
    }
  }

  async getItem(options?: WaitOptions): Promise<unknown> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    const got = this.#tryGet(undefined);
    if (got !== false && "tag" in got) return decodeItem(got);
    return await driveAsync(this.#getLoop(timeout, false), signal);
  }

  getItemSync(options?: QueueSyncOptions): unknown {
    throwIfStopping();
    const timeout = checkTimeout(options?.timeout);
    const got = this.#tryGet(undefined);
    if (got !== false && "tag" in got) return decodeItem(got);
    if (options?.blocking === false) throw new QueueEmpty();
    return blockOn(this.#getLoop(timeout, true));
  }

  getItemNowait(): unknown {
    const got = this.#tryGet(undefined);
    if (got === false || !("tag" in got)) throw new QueueEmpty();
    return decodeItem(got);
  }

  /** Number of items queued right now (a snapshot, like Python's). */
  qsize(): number {
    return Atomics.load(this.#h, H_COUNT);
  }

  /** True if no item is queued right now (a snapshot). */
  empty(): boolean {
    return Atomics.load(this.#h, H_COUNT) === 0;
  }

  /** True if `maxsize` items are queued right now (a snapshot). */
  full(): boolean {
    const max = Atomics.load(this.#h, H_MAXSIZE);
    return max > 0 && Atomics.load(this.#h, H_COUNT) >= max;
  }

  /** The `maxsize` given at construction (`0`: unbounded). */
  get maxsize(): number {
    return this.#h[H_MAXSIZE];
  }

  /** True once `close()` was called by any thread. */
  get closed(): boolean {
    return Atomics.load(this.#h, H_CLOSED) !== 0;
  }

  // ---- join -----------------------------------------------------------------

  /** Marks one formerly queued item as processed (see `join`). */
  taskDone(): void {
    const h = this.#h;
    const store = this.#store;
    let done = false;
    store.lock();
    try {
      if (h[H_UNFINISHED] <= 0) {
        throw new RangeError(
          "Cannot mark task done: taskDone() was called more times than items were put",
        );
      }
      if (--h[H_UNFINISHED] === 0) {
        h[H_ALL_DONE]++;
        done = true;
      }
    } finally {
      store.unlock();
    }
    if (done) Atomics.notify(h, H_ALL_DONE);
  }

  /** Number of items put but not yet marked done with `taskDone()`. */
  get unfinishedTasks(): number {
    return Atomics.load(this.#h, H_UNFINISHED);
  }

  /** The join wait loop: `true` once nothing is unfinished, else `false`
   * when `timeout` passes. */
  *#joinLoop(timeout: number): WaitLoop<boolean> {
    const deadline = deadlineOf(timeout);
    const h = this.#h;
    for (;;) {
      const seq = Atomics.load(h, H_ALL_DONE);
      if (Atomics.load(h, H_UNFINISHED) === 0) return true;
      if (Atomics.load(h, H_CLOSED)) {
        throw new QueueClosed(
          "Cannot join queue: it was closed with unfinished tasks",
        );
      }
      const waitTime = remaining(deadline);
      if (waitTime === 0) return false;
      yield { view: h, index: H_ALL_DONE, expected: seq, timeout: waitTime };
    }
  }

  /** Waits until every item put was marked done; `false` on timeout. */
  async join(options?: WaitOptions): Promise<boolean> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    return await driveAsync(this.#joinLoop(timeout), signal);
  }

  /** Like `join()` but blocks the calling thread (workers). */
  joinSync(options?: { timeout?: number }): boolean {
    const timeout = checkTimeout(options?.timeout);
    return blockOn(this.#joinLoop(timeout));
  }

  /** Closes the queue for every thread and wakes every waiter. Idempotent. */
  close(): void {
    const h = this.#h;
    const store = this.#store;
    const words: number[] = [];
    store.lock();
    try {
      if (h[H_CLOSED]) return;
      h[H_CLOSED] = 1;
      for (const side of [GETTERS, PUTTERS]) {
        for (;;) {
          const word = this.#serveOne(side);
          if (word === -1) break;
          if (word >= 0) words.push(word);
        }
      }
      h[H_GET_WAITERS] = 0;
      h[H_PUT_WAITERS] = 0;
      h[H_NOT_EMPTY]++;
      h[H_NOT_FULL]++;
      h[H_ALL_DONE]++;
    } finally {
      store.unlock();
    }
    for (const word of words) Atomics.notify(h, word, 1);
    Atomics.notify(h, H_NOT_EMPTY);
    Atomics.notify(h, H_NOT_FULL);
    Atomics.notify(h, H_ALL_DONE);
  }
}
