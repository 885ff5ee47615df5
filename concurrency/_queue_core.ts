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
 * The two lines (tickets, rings, overflow words) are `_queue_lines.ts`;
 * this file holds the operations that use them. Every wait loop is written
 * once (a {@linkcode WaitLoop}) and driven blocking (`...Sync`) or async.
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
  H_ALL_DONE,
  H_CLOSED,
  H_COUNT,
  H_GET_WAITERS,
  H_MAX_DATA,
  H_MAXSIZE,
  H_NOT_EMPTY,
  H_NOT_FULL,
  H_PUT_WAITERS,
  H_UNFINISHED,
  type Priority,
  type QueueHandle,
  type QueueKind,
  type QueueOptions,
  QueueStore,
} from "./_queue_store.ts";
import { HANDLE_KIND } from "../_internal/share.ts";
import {
  enlist,
  GETTERS,
  leave,
  type Line,
  newPlace,
  NO_WAKE,
  notifyLine,
  type Place,
  PUTTERS,
  serveAll,
  serveOne,
  type Sleep,
} from "./_queue_lines.ts";

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
  /**
   * `false` never waits: same as `getNowait()` / `putNowait()`.
   *
   * @default {true}
   */
  blocking?: boolean;
}

/**
 * The engine of one queue: a {@linkcode QueueStore} plus fair waiting.
 * The public classes wrap it and only choose the kind and the item type.
 */
export class QueueCore {
  #store: QueueStore;
  #h: Int32Array;
  #handleKind: string;
  /** Wake-ups chosen under the mutex, notified after unlocking. */
  #wakeGetter = NO_WAKE;
  #wakePutter = NO_WAKE;

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

  /** Whether a waiter of `line` leaving after a wake-up passes it on. */
  #more(line: Line): boolean {
    return line === GETTERS ? this.#h[H_COUNT] > 0 : this.#store.hasRoom();
  }

  /** Unlocks the mutex, then notifies the wake-ups chosen under it. */
  #unlockAndNotify(): void {
    this.#store.unlock();
    const getter = this.#wakeGetter;
    const putter = this.#wakePutter;
    this.#wakeGetter = this.#wakePutter = NO_WAKE;
    notifyLine(this.#h, GETTERS, getter);
    notifyLine(this.#h, PUTTERS, putter);
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
    store.lock();
    try {
      if (h[H_CLOSED]) {
        if (place) {
          this.#wakePutter = leave(h, PUTTERS, place, this.#more(PUTTERS));
        }
        throw new QueueClosed("Cannot put item: the queue is closed", {
          item,
        });
      }
      if (store.push(enc, priority)) {
        if (place) leave(h, PUTTERS, place, false);
        this.#wakeGetter = serveOne(h, GETTERS);
        return null;
      }
      return place ? enlist(h, PUTTERS, place) : false;
    } finally {
      this.#unlockAndNotify();
    }
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
    store.lock();
    try {
      if (h[H_COUNT] > 0) {
        const popped = store.pop();
        if (place) leave(h, GETTERS, place, false);
        this.#wakePutter = serveOne(h, PUTTERS);
        return popped;
      }
      if (h[H_CLOSED]) {
        if (place) {
          this.#wakeGetter = leave(h, GETTERS, place, this.#more(GETTERS));
        }
        throw new QueueClosed("Cannot get item: the queue is closed");
      }
      return place ? enlist(h, GETTERS, place) : false;
    } finally {
      this.#unlockAndNotify();
    }
  }

  /** Leaves the line after a wait that ended without success. */
  #giveUp(line: Line, place: Place): void {
    if (place.ticket < 0 && place.overflow < 0) return;
    this.#store.lock();
    try {
      const wake = leave(this.#h, line, place, this.#more(line));
      if (line === GETTERS) this.#wakeGetter = wake;
      else this.#wakePutter = wake;
    } finally {
      this.#unlockAndNotify();
    }
  }

  /**
   * The wait loop of `put` and `get`, written once (driven blocking or
   * async): `attempt` tries the operation under the mutex — `true` when it
   * succeeded, else where to sleep (given a place in `line`) or `false`
   * once the deadline passed (then `expired` is thrown). The place is given
   * up however the loop ends without success.
   */
  *#waitLoop(
    line: Line,
    timeout: number,
    spin: boolean,
    attempt: (place: Place | undefined) => Sleep | boolean,
    expired: () => Error,
  ): WaitLoop<void> {
    const deadline = deadlineOf(timeout);
    const place = newPlace();
    let done = false;
    try {
      for (;;) {
        const waitTime = remaining(deadline);
        const sleep = attempt(waitTime > 0 ? place : undefined);
        if (sleep === true) {
          done = true;
          return;
        }
        if (sleep === false) throw expired();
        yield {
          view: this.#h,
          index: sleep.index,
          expected: sleep.expected,
          timeout: waitTime,
          spin,
        };
      }
    } finally {
      if (!done) this.#giveUp(line, place);
    }
  }

  /** The put wait loop. */
  #putLoop(
    item: unknown,
    enc: Encoded,
    priority: Priority,
    timeout: number,
    spin: boolean,
  ): WaitLoop<void> {
    return this.#waitLoop(
      PUTTERS,
      timeout,
      spin,
      (place) => this.#tryPut(item, enc, priority, place) ?? true,
      () =>
        new QueueFull(
          `Cannot put item: the queue is still full after ${timeout} ms`,
        ),
    );
  }

  /** The get wait loop: the item got. */
  *#getLoop(timeout: number, spin: boolean): WaitLoop<unknown> {
    let got: Popped | undefined;
    yield* this.#waitLoop(GETTERS, timeout, spin, (place) => {
      const r = this.#tryGet(place);
      if (r === false || !("tag" in r)) return r;
      got = r;
      return true;
    }, () =>
      new QueueEmpty(
        `Cannot get item: the queue is still empty after ${timeout} ms`,
      ));
    return decodeItem(got!);
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
      serveAll(h, GETTERS, words);
      serveAll(h, PUTTERS, words);
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
