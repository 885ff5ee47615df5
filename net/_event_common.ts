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

/** Events a program cannot emit (Socket.IO reserves them). */
export const RESERVED: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/** Pending acknowledgements of one sender, by packet id. */
export class PendingAcks {
  #next = 0;
  #pending = new Map<
    number,
    {
      resolve: (args: unknown[]) => void;
      reject: (e: unknown) => void;
      timer?: ReturnType<typeof setTimeout>;
    }
  >();

  /** Number of acknowledgements still awaited. */
  get size(): number {
    return this.#pending.size;
  }

  /** Reserves an id; the promise settles with the ack's arguments. */
  create(event: string, timeout: number): [number, Promise<unknown[]>] {
    const id = this.#next;
    this.#next = (this.#next + 1) % 0x7fffffff;
    const promise = new Promise<unknown[]>((resolve, reject) => {
      const entry: {
        resolve: (args: unknown[]) => void;
        reject: (e: unknown) => void;
        timer?: ReturnType<typeof setTimeout>;
      } = { resolve, reject };
      if (timeout > 0 && Number.isFinite(timeout)) {
        entry.timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new AckTimeoutError(event, timeout));
        }, timeout);
      }
      this.#pending.set(id, entry);
    });
    return [id, promise];
  }

  /** Settles `id` with the ack's arguments (unknown ids are ignored). */
  settle(id: number, args: unknown[]): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(args);
  }

  /** Rejects `id` (e.g. when the packet could not be sent). */
  fail(id: number, error: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  /** Rejects everything (the connection closed). */
  rejectAll(reason: string): void {
    for (const [id, entry] of this.#pending) {
      clearTimeout(entry.timer);
      entry.reject(new Error(`Cannot get acknowledgement: ${reason}`));
      this.#pending.delete(id);
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
