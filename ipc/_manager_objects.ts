/**
 * The objects a manager server holds (private): dict, list, Namespace,
 * Value, Queue, Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition,
 * Barrier.
 *
 * The server is one event loop, so every method runs to completion before
 * another starts: compound operations (`increment`, `update`, `setdefault`)
 * are atomic for free. Waiting methods park a waiter and never block other
 * calls; a waiter leaves its queue on timeout, on cancel and when its
 * client's connection drops (the call's `signal` aborts).
 *
 * Every class lists the methods a client may call in `static methods`; the
 * server refuses anything else.
 *
 * @module
 */

/** One client connection, as the objects see it. */
export interface Session {
  /** Unique per server. */
  readonly id: number;
  /** Objects holding something for this session (locks, permits). */
  readonly holdings: Set<ServerObject>;
}

/** What a method learns about its call. */
export interface CallContext {
  readonly session: Session;
  /** Aborts on cancel, on connection drop and when the object is released. */
  readonly signal: AbortSignal;
}

/** Base of every server-side object. */
export abstract class ServerObject {
  /** Gives back whatever `session` held (locks, permits). */
  dropSession(_session: Session): void {}
}

/** Constructor + allowlist for one built-in type. */
export interface BuiltinType {
  new (...args: unknown[]): ServerObject;
  readonly methods: ReadonlySet<string>;
}

// ---------------------------------------------------------------------------
// Waiting

interface WaitSpec {
  timeout: number;
}

/** Reads `{ timeout?, blocking? }` into milliseconds (Infinity = forever). */
export function waitSpec(options: unknown, what: string): WaitSpec {
  if (options === undefined || options === null) return { timeout: Infinity };
  if (typeof options !== "object") {
    throw new TypeError(`Cannot ${what}: options must be an object`);
  }
  const { timeout, blocking } = options as Record<string, unknown>;
  if (blocking === false) return { timeout: 0 };
  if (timeout === undefined || timeout === null) return { timeout: Infinity };
  if (typeof timeout !== "number") {
    throw new TypeError(
      `Cannot ${what}: "timeout" must be a number of milliseconds, got ${typeof timeout}`,
    );
  }
  if (Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `Cannot ${what}: "timeout" must be >= 0, got ${timeout}`,
    );
  }
  return { timeout };
}

interface Parked<T> {
  readonly session: Session;
  grant(value: T): void;
}

type ParkResult<T> = { ok: true; value: T } | { ok: false };

/**
 * Parks a waiter at the end of `queue` until someone calls `grant`, the
 * timeout passes (`{ ok: false }`) or the call's signal aborts (rejects).
 */
function park<T, X extends object = Record<never, never>>(
  queue: (Parked<T> & X)[],
  ctx: CallContext,
  timeout: number,
  extra: X = {} as X,
): Promise<ParkResult<T>> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const leave = () => {
      const index = queue.indexOf(entry);
      if (index >= 0) queue.splice(index, 1);
    };
    const cleanup = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanup();
      leave();
      reject(ctx.signal.reason);
    };
    const entry = {
      ...extra,
      session: ctx.session,
      grant(value: T) {
        cleanup();
        resolve({ ok: true, value });
      },
    } as Parked<T> & X;
    queue.push(entry);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (timeout !== Infinity) {
      timer = setTimeout(() => {
        cleanup();
        leave();
        resolve({ ok: false });
      }, timeout);
    }
  });
}

// ---------------------------------------------------------------------------
// Data types

function checkKey(key: unknown, what: string): void {
  if (typeof key === "object" && key !== null) {
    throw new TypeError(
      `Cannot ${what}: dict keys must be primitives (string, number, bigint, boolean, null, undefined)`,
    );
  }
}

function toEntries(
  source: unknown,
  what: string,
): Iterable<[unknown, unknown]> {
  if (source instanceof Map) return source;
  if (Array.isArray(source)) {
    for (const pair of source) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `Cannot ${what}: entries must be [key, value] pairs`,
        );
      }
    }
    return source as [unknown, unknown][];
  }
  if (typeof source === "object" && source !== null) {
    return Object.entries(source);
  }
  throw new TypeError(
    `Cannot ${what}: expected a Map, an array of [key, value] pairs or an object`,
  );
}

/** Python's `dict`, on a `Map` with primitive keys. */
export class DictObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "delete",
    "has",
    "keys",
    "values",
    "entries",
    "size",
    "clear",
    "update",
    "setdefault",
    "pop",
    "increment",
  ]);
  #map = new Map<unknown, unknown>();

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      this.update(undefined, initial);
    }
  }

  get(_: unknown, key: unknown, fallback?: unknown): unknown {
    return this.#map.has(key) ? this.#map.get(key) : fallback;
  }
  set(_: unknown, key: unknown, value: unknown): void {
    checkKey(key, "set dict item");
    this.#map.set(key, value);
  }
  delete(_: unknown, key: unknown): boolean {
    return this.#map.delete(key);
  }
  has(_: unknown, key: unknown): boolean {
    return this.#map.has(key);
  }
  keys(): unknown[] {
    return [...this.#map.keys()];
  }
  values(): unknown[] {
    return [...this.#map.values()];
  }
  entries(): [unknown, unknown][] {
    return [...this.#map.entries()];
  }
  size(): number {
    return this.#map.size;
  }
  clear(): void {
    this.#map.clear();
  }
  update(_: unknown, source: unknown): void {
    const entries = [...toEntries(source, "update dict")];
    for (const [key] of entries) checkKey(key, "update dict");
    for (const [key, value] of entries) this.#map.set(key, value);
  }
  setdefault(_: unknown, key: unknown, value: unknown): unknown {
    checkKey(key, "set dict default");
    if (this.#map.has(key)) return this.#map.get(key);
    this.#map.set(key, value);
    return value;
  }
  pop(_: unknown, key: unknown, fallback?: unknown): unknown {
    if (!this.#map.has(key)) return fallback;
    const value = this.#map.get(key);
    this.#map.delete(key);
    return value;
  }
  increment(_: unknown, key: unknown, by: unknown = 1): unknown {
    checkKey(key, "increment dict item");
    const current = this.#map.has(key) ? this.#map.get(key) : 0;
    const next = add(current, by, "increment dict item");
    this.#map.set(key, next);
    return next;
  }
}

function add(current: unknown, by: unknown, what: string): unknown {
  if (typeof current === "number" && typeof by === "number") {
    return current + by;
  }
  if (typeof current === "bigint" && typeof by === "bigint") {
    return current + by;
  }
  throw new TypeError(
    `Cannot ${what}: expected numbers (or bigints) on both sides, got ${typeof current} and ${typeof by}`,
  );
}

function checkIndex(index: unknown, what: string): number {
  if (!Number.isInteger(index)) {
    throw new TypeError(`Cannot ${what}: index must be an integer`);
  }
  return index as number;
}

/** Python's `list`, on an array. */
export class ListObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "push",
    "extend",
    "pop",
    "insert",
    "at",
    "set",
    "slice",
    "length",
    "toArray",
    "clear",
    "indexOf",
  ]);
  #items: unknown[] = [];

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      if (!Array.isArray(initial)) {
        throw new TypeError(
          "Cannot create list: initial items must be an array",
        );
      }
      this.#items = initial;
    }
  }

  push(_: unknown, ...items: unknown[]): number {
    return this.#items.push(...items);
  }
  extend(_: unknown, items: unknown): number {
    if (!Array.isArray(items)) {
      throw new TypeError("Cannot extend list: items must be an array");
    }
    for (const item of items) this.#items.push(item);
    return this.#items.length;
  }
  pop(_: unknown, index: unknown = -1): unknown {
    const length = this.#items.length;
    if (length === 0) {
      throw new RangeError("Cannot pop from list: it is empty");
    }
    let i = checkIndex(index, "pop from list");
    if (i < 0) i += length;
    if (i < 0 || i >= length) {
      throw new RangeError(
        `Cannot pop from list: index ${index} is out of range`,
      );
    }
    return this.#items.splice(i, 1)[0];
  }
  insert(_: unknown, index: unknown, item: unknown): number {
    let i = checkIndex(index, "insert into list");
    const length = this.#items.length;
    if (i < 0) i = Math.max(0, i + length);
    this.#items.splice(Math.min(i, length), 0, item);
    return this.#items.length;
  }
  at(_: unknown, index: unknown): unknown {
    return this.#items.at(checkIndex(index, "read list item"));
  }
  set(_: unknown, index: unknown, item: unknown): void {
    let i = checkIndex(index, "set list item");
    const length = this.#items.length;
    if (i < 0) i += length;
    if (i < 0 || i >= length) {
      throw new RangeError(
        `Cannot set list item: index ${index} is out of range`,
      );
    }
    this.#items[i] = item;
  }
  slice(_: unknown, start?: number, end?: number): unknown[] {
    return this.#items.slice(start ?? undefined, end ?? undefined);
  }
  length(): number {
    return this.#items.length;
  }
  toArray(): unknown[] {
    return this.#items;
  }
  clear(): void {
    this.#items = [];
  }
  indexOf(_: unknown, item: unknown): number {
    return this.#items.indexOf(item);
  }
}

/** Python's `Namespace`: named attributes. */
export class NamespaceObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "delete",
    "has",
    "toObject",
    "update",
  ]);
  #fields = new Map<string, unknown>();

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      this.update(undefined, initial);
    }
  }

  #name(name: unknown, what: string): string {
    if (typeof name !== "string") {
      throw new TypeError(`Cannot ${what}: attribute names must be strings`);
    }
    return name;
  }
  get(_: unknown, name: unknown): unknown {
    return this.#fields.get(this.#name(name, "read attribute"));
  }
  set(_: unknown, name: unknown, value: unknown): void {
    this.#fields.set(this.#name(name, "set attribute"), value);
  }
  delete(_: unknown, name: unknown): boolean {
    return this.#fields.delete(this.#name(name, "delete attribute"));
  }
  has(_: unknown, name: unknown): boolean {
    return this.#fields.has(this.#name(name, "check attribute"));
  }
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#fields);
  }
  update(_: unknown, values: unknown): void {
    if (
      typeof values !== "object" || values === null || Array.isArray(values)
    ) {
      throw new TypeError("Cannot update namespace: values must be an object");
    }
    for (const [name, value] of Object.entries(values)) {
      this.#fields.set(name, value);
    }
  }
}

/** Python's `Value`, with atomic read-modify-write calls. */
export class ValueObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "increment",
    "compareAndSet",
    "getAndSet",
  ]);
  #value: unknown;

  constructor(initial?: unknown) {
    super();
    this.#value = initial;
  }

  get(): unknown {
    return this.#value;
  }
  set(_: unknown, value: unknown): void {
    this.#value = value;
  }
  increment(_: unknown, by: unknown = 1): unknown {
    this.#value = add(this.#value, by, "increment value");
    return this.#value;
  }
  compareAndSet(_: unknown, expected: unknown, next: unknown): boolean {
    if (!Object.is(this.#value, expected)) return false;
    this.#value = next;
    return true;
  }
  getAndSet(_: unknown, next: unknown): unknown {
    const previous = this.#value;
    this.#value = next;
    return previous;
  }
}

// ---------------------------------------------------------------------------
// Queue

/** Error names the client maps to `QueueEmpty` / `QueueFull`. */
function queueError(name: "QueueEmpty" | "QueueFull", message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Python's `queue.Queue` (FIFO, optional `maxsize`). */
export class QueueObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "put",
    "get",
    "putNowait",
    "getNowait",
    "qsize",
    "empty",
    "full",
    "taskDone",
    "join",
  ]);
  #items: unknown[] = [];
  #maxsize: number;
  #getters: Parked<unknown>[] = [];
  #putters: (Parked<void> & { item: unknown })[] = [];
  #unfinished = 0;
  #joiners: Parked<void>[] = [];

  constructor(options?: unknown) {
    super();
    const maxsize = (options as { maxsize?: unknown } | undefined)?.maxsize ??
      0;
    if (!Number.isInteger(maxsize) || (maxsize as number) < 0) {
      throw new RangeError(
        `Cannot create queue: "maxsize" must be an integer >= 0, got ${maxsize}`,
      );
    }
    this.#maxsize = maxsize as number;
  }

  #isFull(): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }

  /** Adds an item, handing it straight to a waiting getter if any. */
  #enqueue(item: unknown): void {
    this.#unfinished++;
    const getter = this.#getters.shift();
    if (getter !== undefined) getter.grant(item);
    else this.#items.push(item);
  }

  /** Removes the head item and lets one waiting putter in. */
  #dequeue(): unknown {
    const item = this.#items.shift();
    const putter = this.#putters.shift();
    if (putter !== undefined) {
      this.#enqueue(putter.item);
      putter.grant();
    }
    return item;
  }

  async put(ctx: CallContext, item: unknown, options?: unknown): Promise<void> {
    const { timeout } = waitSpec(options, "put into queue");
    if (!this.#isFull()) return this.#enqueue(item);
    const result = await park(this.#putters, ctx, timeout, { item });
    if (!result.ok) {
      throw queueError("QueueFull", "Cannot put into queue: it is full");
    }
  }
  putNowait(_: unknown, item: unknown): void {
    if (this.#isFull()) {
      throw queueError("QueueFull", "Cannot put into queue: it is full");
    }
    this.#enqueue(item);
  }
  async get(ctx: CallContext, options?: unknown): Promise<unknown> {
    const { timeout } = waitSpec(options, "get from queue");
    if (this.#items.length > 0) return this.#dequeue();
    const result = await park(this.#getters, ctx, timeout);
    if (!result.ok) {
      throw queueError("QueueEmpty", "Cannot get from queue: it is empty");
    }
    return result.value;
  }
  getNowait(): unknown {
    if (this.#items.length === 0) {
      throw queueError("QueueEmpty", "Cannot get from queue: it is empty");
    }
    return this.#dequeue();
  }
  qsize(): number {
    return this.#items.length;
  }
  empty(): boolean {
    return this.#items.length === 0;
  }
  full(): boolean {
    return this.#isFull();
  }
  taskDone(): void {
    if (this.#unfinished === 0) {
      throw new TypeError(
        "Cannot mark task done: more calls than items put into the queue",
      );
    }
    if (--this.#unfinished === 0) {
      for (const joiner of this.#joiners.splice(0)) joiner.grant();
    }
  }
  async join(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "join queue");
    if (this.#unfinished === 0) return true;
    return (await park(this.#joiners, ctx, timeout)).ok;
  }
}

// ---------------------------------------------------------------------------
// Locks

/** Python's `Lock`; the holder is a client connection. */
export class LockObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "acquire",
    "release",
    "locked",
  ]);
  #holder: Session | undefined;
  #waiters: Parked<void>[] = [];

  async acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "acquire lock");
    if (this.#holder === undefined) {
      this.#take(ctx.session);
      return true;
    }
    if (timeout === 0) return false;
    return (await park(this.#waiters, ctx, timeout)).ok;
  }

  #take(session: Session): void {
    this.#holder = session;
    session.holdings.add(this);
  }

  /** Like Python's `Lock`, any client may release it. */
  release(): void {
    if (this.#holder === undefined) {
      throw new TypeError("Cannot release lock: it is not held");
    }
    this.#handOff();
  }

  #handOff(): void {
    this.#holder!.holdings.delete(this);
    this.#holder = undefined;
    const next = this.#waiters.shift();
    if (next !== undefined) {
      this.#take(next.session);
      next.grant();
    }
  }

  locked(): boolean {
    return this.#holder !== undefined;
  }

  override dropSession(session: Session): void {
    if (this.#holder === session) this.#handOff();
  }

  heldBy(session: Session): boolean {
    return this.#holder === session;
  }

  releaseFor(): number {
    this.#handOff();
    return 1;
  }

  async reacquire(ctx: CallContext): Promise<void> {
    if (this.#holder === undefined) return this.#take(ctx.session);
    await park(this.#waiters, ctx, Infinity);
  }
}

/** Python's `RLock`: re-entrant per client connection. */
export class RLockObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "acquire",
    "release",
    "locked",
  ]);
  #owner: Session | undefined;
  #count = 0;
  #waiters: Parked<void>[] = [];

  async acquire(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "acquire lock");
    if (this.#owner === ctx.session) {
      this.#count++;
      return true;
    }
    if (this.#owner === undefined) {
      this.#take(ctx.session);
      return true;
    }
    if (timeout === 0) return false;
    return (await park(this.#waiters, ctx, timeout)).ok;
  }

  #take(session: Session): void {
    this.#owner = session;
    this.#count = 1;
    session.holdings.add(this);
  }

  release(ctx: CallContext): void {
    if (this.#owner !== ctx.session) {
      throw new TypeError(
        "Cannot release lock: it is not held by this connection",
      );
    }
    if (--this.#count === 0) this.#handOff();
  }

  #handOff(): void {
    this.#owner!.holdings.delete(this);
    this.#owner = undefined;
    this.#count = 0;
    const next = this.#waiters.shift();
    if (next !== undefined) {
      this.#take(next.session);
      next.grant();
    }
  }

  locked(): boolean {
    return this.#owner !== undefined;
  }

  override dropSession(session: Session): void {
    if (this.#owner === session) this.#handOff();
  }

  heldBy(session: Session): boolean {
    return this.#owner === session;
  }

  releaseFor(): number {
    const saved = this.#count;
    this.#handOff();
    return saved;
  }

  async reacquire(ctx: CallContext, saved: number): Promise<void> {
    if (this.#owner === undefined) this.#take(ctx.session);
    else await park(this.#waiters, ctx, Infinity);
    this.#count = saved;
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

function brokenBarrier(message: string): Error {
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

/** The built-in type ids. */
export const BUILTIN_TYPES: ReadonlyMap<string, BuiltinType> = new Map<
  string,
  BuiltinType
>([
  ["dict", DictObject as unknown as BuiltinType],
  ["list", ListObject as unknown as BuiltinType],
  ["Namespace", NamespaceObject as unknown as BuiltinType],
  ["Value", ValueObject as unknown as BuiltinType],
  ["Queue", QueueObject as unknown as BuiltinType],
  ["Lock", LockObject as unknown as BuiltinType],
  ["RLock", RLockObject as unknown as BuiltinType],
  ["Semaphore", SemaphoreObject as unknown as BuiltinType],
  ["Event", EventObject as unknown as BuiltinType],
  ["Condition", ConditionObject as unknown as BuiltinType],
  ["Barrier", BarrierObject as unknown as BuiltinType],
]);
