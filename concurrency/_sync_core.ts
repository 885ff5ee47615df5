/**
 * The acquire engine shared by Lock, RLock, Semaphore and BoundedSemaphore
 * (private).
 *
 * ## Layout (Int32 words)
 *
 * | word | name      | meaning                                              |
 * | ---- | --------- | ---------------------------------------------------- |
 * | 0    | MAGIC     | kind tag (see `_layout.ts`)                          |
 * | 1    | STATE     | lock: 0 free or owner ident; semaphore: permits      |
 * | 2    | SEQ       | event count, bumped on every wake-worthy change      |
 * | 3    | WAITERS   | threads/tasks inside a slow-path acquire             |
 * | 4    | NEXT      | next queue ticket                                    |
 * | 5    | SERVING   | ticket at the head of the queue                      |
 * | 6    | AUX       | RLock: recursion count; BoundedSemaphore: bound      |
 * | 7    | AUX2      | ident of the last owner found dead (diagnostics)     |
 * | 8..  | CANCEL[R] | ring: `ticket + 1` once that ticket gave up          |
 * | ..   | HOLDER[R] | ring: ident of the thread holding that ticket        |
 *
 * ## Algorithm: barging with a FIFO starvation queue
 *
 * Uncontended, `take()` is one compare-exchange. A waiter that has waited
 * {@linkcode STARVE_MS} without success takes a ticket; while any ticket is
 * outstanding nobody barges: only the ticket at SERVING may take, and it
 * advances SERVING when it does. Tickets whose holder timed out, aborted or
 * died are skipped (CANCEL ring, HOLDER liveness). Waiters sleep on SEQ
 * (an event count) in slices of {@linkcode SLICE_MS}, so a dead owner or
 * dead ticket holder is noticed within one slice even though nobody wakes
 * them. Before its first sleep an acquirer spins ({@linkcode spinTake}) on
 * plain loads for a moment, which keeps contended hand-offs cheap.
 *
 * Release stores the new STATE and, only if WAITERS > 0, bumps SEQ and
 * notifies (one sleeper when no ticket is queued, all of them otherwise,
 * since only the queue head may proceed). A waiter increments WAITERS
 * before it reads SEQ and re-checks STATE, so a release either sees the
 * waiter or the waiter sees the release: no lost wake-up.
 *
 * @module
 */

import { deadlineOf, remaining, waitAsync, waitSync } from "./_wait.ts";
import { isIdentAlive } from "./_thread_registry.ts";
import { MAGIC } from "./_layout.ts";

export const STATE = 1;
export const SEQ = 2;
export const WAITERS = 3;
export const NEXT = 4;
export const SERVING = 5;
export const AUX = 6;
export const AUX2 = 7;
/** Queue ring size (power of two): tickets outstanding at once. */
export const RING = 64;
const CANCEL = 8;
const HOLDER = CANCEL + RING;
/** Words of an acquirable block. */
export const CORE_WORDS = HOLDER + RING;
/** A waiter that waited this long joins the FIFO queue. */
export const STARVE_MS = 1;
/** Loads a blocking acquirer spins before it sleeps. */
const SPIN = 100;
/** Longest single sleep, so dead owners are noticed. */
export const SLICE_MS = 50;

/** `take()` results. */
export const NONE = 0;
export const TAKEN = 1;
export const ABANDONED = 2;

/** Tries to take the resource once; never waits. */
export type Take = () => number;

/** Wakes sleepers after a change; `all` for queue mode or many permits. */
export function wake(v: Int32Array, count = 1): void {
  if (Atomics.load(v, WAITERS) === 0) return;
  Atomics.add(v, SEQ, 1);
  Atomics.notify(
    v,
    SEQ,
    Atomics.load(v, NEXT) !== Atomics.load(v, SERVING) ? undefined : count,
  );
}

function wakeAll(v: Int32Array): void {
  Atomics.add(v, SEQ, 1);
  Atomics.notify(v, SEQ);
}

/** True if no ticket is outstanding (barging allowed). */
export function queueEmpty(v: Int32Array): boolean {
  return Atomics.load(v, NEXT) === Atomics.load(v, SERVING);
}

/** Advances SERVING past tickets that gave up or whose thread died. */
function skipStale(v: Int32Array): void {
  let advanced = false;
  for (;;) {
    const s = Atomics.load(v, SERVING);
    if (s === Atomics.load(v, NEXT)) break;
    const slot = s & (RING - 1);
    const tag = (s + 1) | 0;
    if (Atomics.load(v, CANCEL + slot) === tag) {
      if (Atomics.compareExchange(v, SERVING, s, (s + 1) | 0) === s) {
        Atomics.compareExchange(v, CANCEL + slot, tag, 0);
        advanced = true;
      }
      continue;
    }
    const holder = Atomics.load(v, HOLDER + slot);
    if (holder !== 0 && !isIdentAlive(holder)) {
      Atomics.compareExchange(v, HOLDER + slot, holder, 0);
      if (Atomics.compareExchange(v, SERVING, s, (s + 1) | 0) === s) {
        advanced = true;
      }
      continue;
    }
    break;
  }
  if (advanced) wakeAll(v);
}

/** One waiter's progress through the slow path. */
class Attempt {
  #v: Int32Array;
  #take: Take;
  #me: number;
  #start = performance.now();
  #ticket = 0;
  #hasTicket = false;

  constructor(v: Int32Array, take: Take, me: number) {
    this.#v = v;
    this.#take = take;
    this.#me = me;
  }

  /** How long the next sleep may last: until the queue-join point, or a slice. */
  sleepCap(): number {
    if (this.#hasTicket) return SLICE_MS;
    const wait = STARVE_MS - (performance.now() - this.#start);
    return wait > 0 ? wait : SLICE_MS;
  }

  /** Tries once; returns TAKEN/ABANDONED or NONE. */
  step(): number {
    const v = this.#v;
    for (let round = 0; round < 3; round++) {
      if (!this.#hasTicket) {
        const empty = queueEmpty(v);
        if (empty) {
          const r = this.#take();
          if (r !== NONE) return r;
        }
        if (
          performance.now() - this.#start >= STARVE_MS && this.#takeTicket()
        ) continue; // re-check as a queued waiter
        return NONE;
      }
      skipStale(v);
      const s = Atomics.load(v, SERVING);
      if (s === this.#ticket) {
        const r = this.#take();
        if (r !== NONE) this.#consume();
        return r;
      }
      if (((s - this.#ticket) | 0) > 0) {
        // Our ticket was skipped (we looked dead for a moment): queue again.
        this.#hasTicket = false;
        Atomics.compareExchange(
          v,
          HOLDER + (this.#ticket & (RING - 1)),
          this.#me,
          0,
        );
        continue;
      }
      return NONE;
    }
    return NONE;
  }

  /**
   * Joins the queue. The ticket's HOLDER slot is claimed *before* NEXT is
   * advanced, and only the slot's claimant advances NEXT past it, so a
   * thread that dies in between leaves a slot whose dead claimant the next
   * taker replaces, and one that dies after leaves its ident for
   * `skipStale` to find: no ticket is ever anonymous.
   */
  #takeTicket(): boolean {
    const v = this.#v;
    const me = this.#me;
    for (let tries = 0; tries < 4; tries++) {
      const n = Atomics.load(v, NEXT);
      if (((n - Atomics.load(v, SERVING)) | 0) >= RING) return false;
      const slot = HOLDER + (n & (RING - 1));
      const prev = Atomics.compareExchange(v, slot, 0, me);
      if (prev !== 0) {
        if (isIdentAlive(prev)) continue; // someone is taking ticket n
        if (Atomics.compareExchange(v, slot, prev, me) !== prev) continue;
      }
      if (Atomics.compareExchange(v, NEXT, n, (n + 1) | 0) === n) {
        this.#ticket = n;
        this.#hasTicket = true;
        return true;
      }
      Atomics.compareExchange(v, slot, me, prev); // n was stale: undo
    }
    return false;
  }

  #consume(): void {
    const v = this.#v;
    const t = this.#ticket;
    Atomics.store(v, HOLDER + (t & (RING - 1)), 0);
    Atomics.compareExchange(v, SERVING, t, (t + 1) | 0);
    this.#hasTicket = false;
    skipStale(v);
    // The next ticket may proceed at once only if permits are left (a lock
    // is held by us now; its release will wake the queue).
    if (
      Atomics.load(v, WAITERS) > 1 && Atomics.load(v, 0) === MAGIC.Semaphore &&
      Atomics.load(v, STATE) > 0
    ) wakeAll(v);
  }

  /** Leaves the slow path; gives the ticket up if still holding one. */
  finish(): void {
    const v = this.#v;
    Atomics.sub(v, WAITERS, 1);
    if (!this.#hasTicket) return;
    this.#hasTicket = false;
    const t = this.#ticket;
    const slot = t & (RING - 1);
    Atomics.compareExchange(v, HOLDER + slot, this.#me, 0);
    Atomics.store(v, CANCEL + slot, (t + 1) | 0);
    skipStale(v);
    wakeAll(v);
  }
}

/**
 * Brief adaptive spin before sleeping: most critical sections are shorter
 * than a sleep/wake round trip. Takes only while no ticket is queued.
 */
export function spinTake(v: Int32Array, take: Take): number {
  // A lock is free at 0; a semaphore has permits above 0.
  const lock = Atomics.load(v, 0) !== MAGIC.Semaphore;
  for (let i = 0; i < SPIN; i++) {
    const s = Atomics.load(v, STATE);
    if ((lock ? s !== 0 : s <= 0) || !queueEmpty(v)) continue;
    const r = take();
    if (r !== NONE) return r;
  }
  return NONE;
}

/**
 * Blocking slow path. Returns TAKEN/ABANDONED, or NONE on timeout.
 */
export function acquireSlowSync(
  v: Int32Array,
  take: Take,
  me: number,
  timeoutMs: number,
): number {
  const r = spinTake(v, take);
  if (r !== NONE) return r;
  const deadline = deadlineOf(timeoutMs);
  Atomics.add(v, WAITERS, 1);
  const attempt = new Attempt(v, take, me);
  try {
    for (;;) {
      const seq = Atomics.load(v, SEQ);
      const r = attempt.step();
      if (r !== NONE) return r;
      const left = remaining(deadline);
      if (left === 0) return NONE;
      waitSync(v, SEQ, seq, Math.min(left, attempt.sleepCap()));
    }
  } finally {
    attempt.finish();
  }
}

/**
 * Async slow path (never blocks). Resolves TAKEN/ABANDONED, or NONE on
 * timeout; rejects with `signal.reason` on abort (the waiter is removed).
 */
export async function acquireSlowAsync(
  v: Int32Array,
  take: Take,
  me: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  const deadline = deadlineOf(timeoutMs);
  Atomics.add(v, WAITERS, 1);
  const attempt = new Attempt(v, take, me);
  try {
    for (;;) {
      const seq = Atomics.load(v, SEQ);
      const r = attempt.step();
      if (r !== NONE) return r;
      const left = remaining(deadline);
      if (left === 0) return NONE;
      await waitAsync(v, SEQ, seq, Math.min(left, attempt.sleepCap()), signal);
    }
  } finally {
    attempt.finish();
  }
}
