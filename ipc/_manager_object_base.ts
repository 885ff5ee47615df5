/**
 * What every object a manager server holds shares (private): the session
 * and call context a method sees, the `ServerObject` base, and the one
 * waiting mechanism (`park`) with Python-style `{ timeout, blocking }`
 * options.
 *
 * The server is one event loop, so every method runs to completion before
 * another starts: compound operations are atomic for free. Waiting methods
 * park a waiter and never block other calls; a waiter leaves its queue on
 * timeout, on cancel and when its client's connection drops (the call's
 * `signal` aborts).
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

export interface Parked<T> {
  readonly session: Session;
  grant(value: T): void;
}

export type ParkResult<T> = { ok: true; value: T } | { ok: false };

/**
 * Parks a waiter at the end of `queue` until someone calls `grant`, the
 * timeout passes (`{ ok: false }`) or the call's signal aborts (rejects).
 */
export function park<T, X extends object = Record<never, never>>(
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
