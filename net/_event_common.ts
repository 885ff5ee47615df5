/**
 * Pieces shared by the event server and client (private; no Deno APIs here:
 * the browser client imports this file too): acknowledgement bookkeeping,
 * handler tables, argument checks.
 *
 * Several arguments travel as one {@linkcode Tuple} (weft's Python tuple,
 * shared with the pickle codec in `ipc`): `emit(ev, tuple(a, b))` sends two
 * arguments, a handler returning `tuple(a, b)` acknowledges with two
 * values, and an acknowledgement of several values arrives as a tuple.
 *
 * @module
 */

import { Tuple, tuple } from "../ipc/pickle_values.ts";

export { Tuple, tuple };

/**
 * An acknowledgement that did not arrive in time.
 *
 * @example The message names the event and the wait
 * ```ts
 * import assert from "node:assert/strict";
 * import { AckTimeoutError } from "@weft/weft/net";
 *
 * const error = new AckTimeoutError("ping", 500);
 * assert.equal(
 *   error.message,
 *   'Cannot get acknowledgement of event "ping": no answer within 500 ms',
 * );
 * ```
 */
export class AckTimeoutError extends Error {
  /** The event whose acknowledgement timed out. */
  readonly event: string;
  /**
   * Creates the error for `event` after `ms` milliseconds.
   *
   * @param event The event name.
   * @param ms The timeout that passed.
   */
  constructor(event: string, ms: number) {
    super(
      `Cannot get acknowledgement of event ${
        JSON.stringify(event)
      }: no answer within ${ms} ms`,
    );
    this.name = "AckTimeoutError";
    this.event = event;
  }
}

/** Argument list of `data` (undefined: none; a tuple: its values). */
export function toArgs(data: unknown): unknown[] {
  if (data === undefined) return [];
  if (data instanceof Tuple) return [...data];
  return [data];
}

/** Python-style single value of an argument list (tuple when several). */
export function fromArgs(args: unknown[]): unknown {
  if (args.length === 0) return undefined;
  if (args.length === 1) return args[0];
  return tuple(...args);
}

/** Validates a millisecond option. */
export function checkMs(
  value: unknown,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `Invalid option "${field}": expected a non-negative number of milliseconds`,
    );
  }
  return value;
}

/** Validates an event name for emit/on. */
export function checkEvent(event: unknown, action: string): string {
  if (typeof event !== "string" || event.length === 0 || event.length > 256) {
    throw new TypeError(
      `Cannot ${action}: event name must be a string of 1 to 256 characters`,
    );
  }
  return event;
}

interface PendingAck {
  resolve: (args: unknown[]) => void;
  reject: (e: unknown) => void;
  event: string;
  timeout: number;
  /** `performance.now()` after which it times out (Infinity: never). */
  deadline: number;
}

/**
 * Pending acknowledgements of one sender, by packet id. Timeouts share one
 * timer, armed for the earliest deadline and left running while calls come
 * and go (a timer per call cost a `setTimeout` + `clearTimeout` per round
 * trip); {@linkcode rejectAll} stops it.
 */
export class PendingAcks {
  #next = 0;
  #pending = new Map<number, PendingAck>();
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt = Infinity;

  /** Number of acknowledgements still awaited. */
  get size(): number {
    return this.#pending.size;
  }

  /** Reserves an id; the promise settles with the ack's arguments. */
  create(event: string, timeout: number): [number, Promise<unknown[]>] {
    const id = this.#next;
    this.#next = (this.#next + 1) % 0x7fffffff;
    const deadline = timeout > 0 && Number.isFinite(timeout)
      ? performance.now() + timeout
      : Infinity;
    const promise = new Promise<unknown[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, event, timeout, deadline });
    });
    if (deadline < this.#timerAt) this.#arm(deadline);
    return [id, promise];
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => this.#expire(),
      Math.max(0, Math.ceil(at - performance.now())),
    );
  }

  /** Rejects what is due; re-arms for the next deadline, if any. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, entry] of this.#pending) {
      if (entry.deadline <= now) {
        this.#pending.delete(id);
        entry.reject(new AckTimeoutError(entry.event, entry.timeout));
      } else if (entry.deadline < next) next = entry.deadline;
    }
    if (next < Infinity) this.#arm(next);
  }

  /** Settles `id` with the ack's arguments (unknown ids are ignored). */
  settle(id: number, args: unknown[]): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    entry.resolve(args);
  }

  /** Rejects `id` (e.g. when the packet could not be sent). */
  fail(id: number, error: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    entry.reject(error);
  }

  /** Rejects everything (the connection closed) and stops the timer. */
  rejectAll(reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) {
      entry.reject(new Error(`Cannot get acknowledgement: ${reason}`));
    }
  }
}

/** Random URL-safe id of `bytes` random bytes. */
export function randomId(bytes = 15): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let text = "";
  for (const b of raw) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll(
    "=",
    "",
  );
}

/** Runs a handler, reporting sync throws and async rejections to `onError`. */
export function runHandler(
  fn: () => unknown,
  onError: (error: unknown) => void,
): Promise<unknown> {
  try {
    const result = fn();
    if (result instanceof Promise) {
      return result.catch((e) => (onError(e), undefined));
    }
    return Promise.resolve(result);
  } catch (error) {
    onError(error);
    return Promise.resolve(undefined);
  }
}

/** `promise`, or a rejection with `error()` after `ms` milliseconds. */
export function deadline<T>(
  promise: Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
