/**
 * The synchronisation objects a manager server holds (private): Lock,
 * RLock, Semaphore (and BoundedSemaphore), Event, Condition and Barrier.
 * Holders are client connections (sessions): what a dropped connection
 * held is given back.
 *
 * @module
 */

import {
  type CallContext,
  park,
  type Parked,
  ServerObject,
  type Session,
  waitSpec,
} from "./_manager_object_base.ts";

// ---------------------------------------------------------------------------
// Locks

/**
 * What Lock and RLock share: one holder (a client connection) with a hold
 * count, and a FIFO of waiting calls that get the lock handed over in turn.
 */
abstract class HeldLock extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "acquire",
    "release",
    "locked",
  ]);
  protected holder: Session | undefined;
  protected count = 0;
  #waiters: Parked<void>[] = [];

  /** Takes the lock if free, else waits for it up to `timeout` ms. */
  protected async take(ctx: CallContext, timeout: number): Promise<boolean> {
    if (this.holder === undefined) {
      this.#hold(ctx.session);
      return true;
    }
    if (timeout === 0) return false;
    return (await park(this.#waiters, ctx, timeout)).ok;
  }

  #hold(session: Session): void {
    this.holder = session;
    this.count = 1;
    session.holdings.add(this);
  }

  /** Frees the lock and hands it to the first waiter, if any. */
  protected handOff(): void {
    this.holder!.holdings.delete(this);
    this.holder = undefined;
    this.count = 0;
    const next = this.#waiters.shift();
    if (next !== undefined) {
      this.#hold(next.session);
      next.grant();
    }
  }

  locked(): boolean {
    return this.holder !== undefined;
  }

  override dropSession(session: Session): void {
    if (this.holder === session) this.handOff();
  }

  /** For Condition: true if `session` holds the lock. */
  heldBy(session: Session): boolean {
    return this.holder === session;
  }

  /** For Condition: frees the lock whatever its count; returns the count. */
  releaseFor(): number {
    const saved = this.count;
    this.handOff();
    return saved;
  }

  /** For Condition: takes the lock back (waiting as long as needed). */
  async reacquire(ctx: CallContext, saved: number): Promise<void> {
    await this.take(ctx, Infinity);
    this.count = saved;
  }
}

/** Python's `Lock`; the holder is a client connection. */
export class LockObject extends HeldLock {
  async acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "acquire lock");
    return await this.take(ctx, timeout);
  }

  /** Like Python's `Lock`, any client may release it. */
  release(): void {
    if (this.holder === undefined) {
      throw new TypeError("Cannot release lock: it is not held");
    }
    this.handOff();
  }
}

/** Python's `RLock`: re-entrant per client connection. */
export class RLockObject extends HeldLock {
  async acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "acquire lock");
    if (this.holder === ctx.session) {
      this.count++;
      return true;
    }
    return await this.take(ctx, timeout);
  }

  release(ctx: CallContext): void {
    if (this.holder !== ctx.session) {
      throw new TypeError(
        "Cannot release lock: it is not held by this connection",
      );
    }
    if (--this.count === 0) this.handOff();
  }
}

/** Python's `Semaphore` (and `BoundedSemaphore` with `bounded`). */
export class SemaphoreObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "acquire",
    "release",
    "value",
  ]);
  #value: number;
  #initial: number;
  #bounded: boolean;
  #held = new Map<Session, number>();
  #waiters: Parked<void>[] = [];

  constructor(value: unknown = 1, bounded: unknown = false) {
    super();
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(
        `Cannot create semaphore: value must be an integer >= 0, got ${value}`,
      );
    }
    this.#value = this.#initial = value as number;
    this.#bounded = bounded === true;
  }

  async acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "acquire semaphore");
    if (this.#value > 0 && this.#waiters.length === 0) {
      this.#value--;
      this.#count(ctx.session, 1);
      return true;
    }
    if (timeout === 0) return false;
    return (await park(this.#waiters, ctx, timeout)).ok;
  }

  #count(session: Session, delta: number): void {
    const held = (this.#held.get(session) ?? 0) + delta;
    if (held > 0) {
      this.#held.set(session, held);
      session.holdings.add(this);
    } else {
      this.#held.delete(session);
      session.holdings.delete(this);
    }
  }

  release(ctx: CallContext, n: unknown = 1): void {
    if (!Number.isInteger(n) || (n as number) < 1) {
      throw new RangeError(
        `Cannot release semaphore: n must be an integer >= 1, got ${n}`,
      );
    }
    if (this.#bounded && this.#value + (n as number) > this.#initial) {
      throw new TypeError(
        `Cannot release semaphore: it would exceed its initial value ${this.#initial}`,
      );
    }
    const mine = this.#held.get(ctx.session) ?? 0;
    this.#count(ctx.session, -Math.min(mine, n as number));
    this.#give(n as number);
  }

  #give(n: number): void {
    this.#value += n;
    while (this.#value > 0 && this.#waiters.length > 0) {
      const next = this.#waiters.shift()!;
      this.#value--;
      this.#count(next.session, 1);
      next.grant();
    }
  }

  value(): number {
    return this.#value;
  }

  override dropSession(session: Session): void {
    const held = this.#held.get(session) ?? 0;
    if (held > 0) {
      this.#count(session, -held);
      this.#give(held);
    }
  }
}

/** Python's `Event`. */
export class EventObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "set",
    "clear",
    "isSet",
    "wait",
  ]);
  #flag = false;
  #waiters: Parked<void>[] = [];

  set(): void {
    this.#flag = true;
    for (const waiter of this.#waiters.splice(0)) waiter.grant();
  }
  clear(): void {
    this.#flag = false;
  }
  isSet(): boolean {
    return this.#flag;
  }
  async wait(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "wait for event");
    if (this.#flag) return true;
    if (timeout === 0) return false;
    return (await park(this.#waiters, ctx, timeout)).ok;
  }
}

// ---------------------------------------------------------------------------
// Condition and Barrier

/** What a Condition needs from its lock (a Lock or an RLock). */
interface ConditionLock extends ServerObject {
  acquire(ctx: CallContext, options?: unknown): Promise<boolean>;
  release(ctx: CallContext): void;
  heldBy(session: Session): boolean;
  /** Releases completely for a wait; returns what to restore. */
  releaseFor(session: Session): number;
  /** Takes the lock back after a wait (waits as long as it takes). */
  reacquire(ctx: CallContext, saved: number): Promise<void>;
}

/**
 * Python's `Condition` over a manager `Lock` or `RLock` (a fresh `RLock`
 * by default). `wait` and `notify` require the calling connection to hold
 * the lock.
 */
export class ConditionObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "acquire",
    "release",
    "wait",
    "notify",
    "notifyAll",
  ]);
  #lock: ConditionLock;
  #waiters: Parked<void>[] = [];

  constructor(lock?: unknown) {
    super();
    if (lock === undefined || lock === null) {
      this.#lock = new RLockObject() as unknown as ConditionLock;
    } else if (lock instanceof LockObject || lock instanceof RLockObject) {
      this.#lock = lock as unknown as ConditionLock;
    } else {
      throw new TypeError(
        "Cannot create condition: its lock must be a manager Lock or RLock",
      );
    }
  }

  acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    return this.#lock.acquire(ctx, options);
  }

  release(ctx: CallContext): void {
    this.#lock.release(ctx);
  }

  #checkHeld(session: Session, what: string): void {
    if (!this.#lock.heldBy(session)) {
      throw new TypeError(
        `Cannot ${what}: the condition's lock is not held by this connection`,
      );
    }
  }

  async wait(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "wait on condition");
    this.#checkHeld(ctx.session, "wait on condition");
    const saved = this.#lock.releaseFor(ctx.session);
    let notified = false;
    try {
      notified = (await park(this.#waiters, ctx, timeout)).ok;
    } finally {
      await this.#lock.reacquire(ctx, saved);
    }
    return notified;
  }

  notify(ctx: CallContext, n: unknown = 1): number {
    this.#checkHeld(ctx.session, "notify condition");
    if (!Number.isInteger(n) || (n as number) < 0) {
      throw new RangeError(
        `Cannot notify condition: n must be an integer >= 0, got ${n}`,
      );
    }
    const woken = this.#waiters.splice(0, n as number);
    for (const waiter of woken) waiter.grant();
    return woken.length;
  }

  notifyAll(ctx: CallContext): number {
    return this.notify(ctx, this.#waiters.length);
  }
}

export function brokenBarrier(message: string): Error {
  const error = new Error(message);
  error.name = "BrokenBarrierError";
  return error;
}

/**
 * Python's `Barrier`: `wait` returns the arrival index (0 for the first);
 * the last arrival releases everyone. A timeout, an abort or a dropped
 * connection of a waiter breaks it (as an exception does in Python).
 */
export class BarrierObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "wait",
    "reset",
    "abort",
    "broken",
    "parties",
    "nWaiting",
  ]);
  #parties: number;
  #waiters: Parked<boolean>[] = [];
  #broken = false;

  constructor(parties: unknown) {
    super();
    if (!Number.isInteger(parties) || (parties as number) < 1) {
      throw new RangeError(
        `Cannot create barrier: parties must be an integer >= 1, got ${parties}`,
      );
    }
    this.#parties = parties as number;
  }

  async wait(ctx: CallContext, options?: unknown): Promise<number> {
    const { timeout } = waitSpec(options, "wait at barrier");
    if (this.#broken) throw brokenBarrier("Cannot pass barrier: it is broken");
    const index = this.#waiters.length;
    if (index === this.#parties - 1) {
      for (const waiter of this.#waiters.splice(0)) waiter.grant(true);
      return index;
    }
    let result;
    try {
      result = await park(this.#waiters, ctx, timeout);
    } catch (error) {
      this.abort();
      throw error;
    }
    if (!result.ok) {
      this.abort();
      throw brokenBarrier("Cannot pass barrier: timed out, so it broke");
    }
    if (!result.value) {
      throw brokenBarrier("Cannot pass barrier: it was broken while waiting");
    }
    return index;
  }

  reset(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.grant(false);
    this.#broken = false;
  }

  abort(): void {
    this.#broken = true;
    for (const waiter of this.#waiters.splice(0)) waiter.grant(false);
  }

  broken(): boolean {
    return this.#broken;
  }

  parties(): number {
    return this.#parties;
  }

  nWaiting(): number {
    return this.#waiters.length;
  }
}
