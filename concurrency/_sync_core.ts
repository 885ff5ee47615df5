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

import {
  blockOn,
  deadlineOf,
  driveAsync,
  remaining,
  throwIfStopping,
  type WaitLoop,
} from "./_wait.ts";
import { DEATHS, isIdentAlive, registryView } from "./_thread_registry.ts";
import { asyncOptions, syncTimeout } from "./_sync_guard.ts";
import type { SyncWaitOptions, WaitOptions } from "./_wait.ts";

/**
 * What the engine needs to know of its client: when STATE is free for a
 * taker, and whether a take may leave more for the next queued waiter
 * (permits of a semaphore) or not (a lock, which its release hands on).
 */
export interface Acquirable {
  /** True if `state` lets a taker in (lock: 0; semaphore: > 0). */
  isFree(state: number): boolean;
  /** True if one take may leave room for another (semaphores). */
  readonly shared: boolean;
}

/** A lock's STATE: 0 free, else the owner's ident. */
export const LOCK: Acquirable = { isFree: (s) => s === 0, shared: false };
/** A semaphore's STATE: the permits left. */
export const PERMITS: Acquirable = { isFree: (s) => s > 0, shared: true };

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
/** Longest single blocking sleep, so dead owners are noticed. */
export const SLICE_MS = 50;
/**
 * Longest single async sleep: async waiters are woken by the death watcher
 * ({@linkcode watchDeaths}) when any thread ends, so their slice is only a
 * safety net.
 */
export const ASYNC_SLICE_MS = 1000;

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
  #kind: Acquirable;
  #slice: number;
  #start = performance.now();
  #ticket = 0;
  #hasTicket = false;

  constructor(
    v: Int32Array,
    take: Take,
    me: number,
    kind: Acquirable,
    slice: number,
  ) {
    this.#v = v;
    this.#take = take;
    this.#me = me;
    this.#kind = kind;
    this.#slice = slice;
  }

  /** How long the next sleep may last: until the queue-join point, or a slice. */
  sleepCap(): number {
    if (this.#hasTicket) return this.#slice;
    const wait = STARVE_MS - (performance.now() - this.#start);
    return wait > 0 ? wait : this.#slice;
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
      this.#kind.shared && Atomics.load(v, WAITERS) > 1 &&
      this.#kind.isFree(Atomics.load(v, STATE))
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
export function spinTake(v: Int32Array, take: Take, kind: Acquirable): number {
  for (let i = 0; i < SPIN; i++) {
    if (!kind.isFree(Atomics.load(v, STATE)) || !queueEmpty(v)) continue;
    const r = take();
    if (r !== NONE) return r;
  }
  return NONE;
}

/**
 * The slow path, written once ({@linkcode WaitLoop}): returns
 * TAKEN/ABANDONED, or NONE on timeout. The waiter is counted in WAITERS
 * and leaves the ticket queue however the loop ends (an abort or a thread
 * stop is thrown into it).
 */
function* acquireLoop(
  v: Int32Array,
  take: Take,
  me: number,
  timeoutMs: number,
  kind: Acquirable,
  slice: number,
): WaitLoop<number> {
  const deadline = deadlineOf(timeoutMs);
  Atomics.add(v, WAITERS, 1);
  const attempt = new Attempt(v, take, me, kind, slice);
  try {
    for (;;) {
      const seq = Atomics.load(v, SEQ);
      const r = attempt.step();
      if (r !== NONE) return r;
      const left = remaining(deadline);
      if (left === 0) return NONE;
      yield {
        view: v,
        index: SEQ,
        expected: seq,
        timeout: Math.min(left, attempt.sleepCap()),
      };
    }
  } finally {
    attempt.finish();
  }
}

/** Blocking slow path (spins first). */
export function acquireSlowSync(
  v: Int32Array,
  take: Take,
  me: number,
  timeoutMs: number,
  kind: Acquirable,
): number {
  throwIfStopping();
  const r = spinTake(v, take, kind);
  if (r !== NONE) return r;
  return blockOn(acquireLoop(v, take, me, timeoutMs, kind, SLICE_MS));
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
  kind: Acquirable,
): Promise<number> {
  watched.set(v, (watched.get(v) ?? 0) + 1);
  watchDeaths();
  try {
    return await driveAsync(
      acquireLoop(v, take, me, timeoutMs, kind, ASYNC_SLICE_MS),
      signal,
    );
  } finally {
    const n = watched.get(v)! - 1;
    if (n === 0) watched.delete(v);
    else watched.set(v, n);
  }
}

/**
 * The take of a robust lock (Lock, RLock): one compare-exchange from free
 * to `me`, or a take-over from an owner whose end is certain (ABANDONED;
 * its ident goes to AUX2 and to `abandoned`). A `recursive` lock sets its
 * count (AUX) to 1 when it takes.
 */
export function robustTake(
  v: Int32Array,
  me: number,
  recursive: boolean,
  abandoned: (owner: number) => void,
): Take {
  return () => {
    const s = Atomics.compareExchange(v, STATE, 0, me);
    if (s === 0) {
      if (recursive) Atomics.store(v, AUX, 1);
      return TAKEN;
    }
    if (!isIdentAlive(s) && Atomics.compareExchange(v, STATE, s, me) === s) {
      if (recursive) Atomics.store(v, AUX, 1);
      Atomics.store(v, AUX2, s);
      abandoned(s);
      return ABANDONED;
    }
    return NONE;
  };
}

/**
 * `acquire()` of Lock, RLock and Semaphore after their own fast paths,
 * written once: validate the options, re-enter (RLock), take at once if
 * nobody queues, give up on `timeout: 0`, spin briefly, then wait in the
 * queue without blocking. `result` turns the engine's code into the
 * caller's answer (and may throw `AbandonedLockError`).
 */
export function acquireAsync(
  v: Int32Array,
  take: Take,
  me: number,
  opts: WaitOptions | undefined,
  kind: Acquirable,
  result: (r: number) => boolean,
  reenter?: () => boolean,
): Promise<boolean> {
  try {
    const { timeout, signal } = asyncOptions(opts);
    if (reenter?.()) return Promise.resolve(true);
    let r = queueEmpty(v) ? take() : NONE;
    if (r === NONE && timeout !== 0) r = spinTake(v, take, kind);
    if (r !== NONE || timeout === 0) return Promise.resolve(result(r));
    return acquireSlowAsync(v, take, me, timeout, signal, kind).then(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `acquireSync()` of Lock, RLock and Semaphore after their own fast paths:
 * the blocking twin of {@linkcode acquireAsync}. Returns the engine's code.
 */
export function acquireBlocking(
  v: Int32Array,
  take: Take,
  me: number,
  opts: SyncWaitOptions | undefined,
  kind: Acquirable,
  reenter?: () => boolean,
): number {
  const timeout = opts === undefined ? Infinity : syncTimeout(opts);
  if (reenter?.()) return TAKEN;
  if (queueEmpty(v)) {
    const r = take();
    if (r !== NONE) return r;
  }
  if (timeout === 0) return NONE;
  return acquireSlowSync(v, take, me, timeout, kind);
}

/** Blocks this thread has async acquirers on, with their counts. */
const watched = new Map<Int32Array, number>();
let watching = false;

/**
 * While this thread has async acquirers, one async wait on the registry's
 * DEATHS word: when any thread ends, every watched block gets a wake-up,
 * so its waiters look for a dead owner or ticket holder at once instead of
 * polling every 50 ms. (Blocking waiters cannot wait on two words; they
 * keep the 50 ms slice.)
 */
function watchDeaths(): void {
  if (watching) return;
  watching = true;
  const registry = registryView();
  const arm = (seen: number) => {
    if (watched.size === 0) {
      watching = false;
      return;
    }
    const r = Atomics.waitAsync(registry, DEATHS, seen);
    if (r.async) r.value.then(fire);
    else fire();
  };
  const fire = () => {
    // Read before waking, so a death during the wake-ups is not missed.
    const seen = Atomics.load(registry, DEATHS);
    for (const v of watched.keys()) wakeAll(v);
    arm(seen);
  };
  arm(Atomics.load(registry, DEATHS));
}
