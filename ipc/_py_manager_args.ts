/**
 * Python calls on weft objects (private): the adapter shape each kind of
 * object has, binding `(args, kwds)` to a signature as CPython does,
 * iterating what crossed as data, and Python's seconds-based timeouts.
 *
 * @module
 */

import type { CallContext } from "./_manager_object_base.ts";
import { PyException } from "./_py_manager_codec.ts";
import { pyTypeName } from "./_py_values.ts";

/** Keyword arguments of a Python call. */
export type Kwds = ReadonlyMap<string, unknown>;

/** An empty `Kwds`. */
export const NO_KWDS: Kwds = new Map();

/** Marks a required parameter in {@linkcode bind}. */
export const REQUIRED: unique symbol = Symbol("required");

/** Decoded kwargs (a plain object or a Map with str keys) as a Map. */
export function toKwds(value: unknown): Kwds {
  if (value === undefined || value === null) return NO_KWDS;
  if (value instanceof Map) {
    for (const key of value.keys()) {
      if (typeof key !== "string") {
        throw new PyException("TypeError", ["keywords must be strings"]);
      }
    }
    return value as Kwds;
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    return new Map(Object.entries(value as Record<string, unknown>));
  }
  throw new PyException("TypeError", ["kwds must be a dict"]);
}

/**
 * Binds positional `args` and `kwds` to `params` (`[name, default]`, or
 * `[name, REQUIRED]`), raising Python's TypeError for extra or missing
 * ones.
 */
export function bind(
  method: string,
  args: readonly unknown[],
  kwds: Kwds,
  params: readonly (readonly [string, unknown])[],
): unknown[] {
  if (args.length > params.length) {
    throw new PyException("TypeError", [
      `${method}() takes at most ${params.length} arguments (${args.length} given)`,
    ]);
  }
  for (const key of kwds.keys()) {
    const index = params.findIndex(([name]) => name === key);
    if (index < 0) {
      throw new PyException("TypeError", [
        `${method}() got an unexpected keyword argument '${key}'`,
      ]);
    }
    if (index < args.length) {
      throw new PyException("TypeError", [
        `${method}() got multiple values for argument '${key}'`,
      ]);
    }
  }
  return params.map(([name, fallback], i) => {
    const value = i < args.length
      ? args[i]
      : kwds.has(name)
      ? kwds.get(name)
      : fallback;
    if (value === REQUIRED) {
      throw new PyException("TypeError", [
        `${method}() missing required argument: '${name}'`,
      ]);
    }
    return value;
  });
}

/**
 * `{ timeout, blocking }` in weft's milliseconds for Python's
 * `(blocking, timeout)` in seconds (None or -1: forever).
 */
export function waitOptions(
  blocking: unknown,
  timeout: unknown,
): { timeout?: number; blocking?: boolean } {
  if (timeout === null || timeout === undefined || timeout === -1) {
    return { blocking: blocking !== false && blocking !== 0 };
  }
  if (typeof timeout !== "number" && typeof timeout !== "bigint") {
    throw new PyException("TypeError", [
      "timeout must be a number or None",
    ]);
  }
  const seconds = Number(timeout);
  if (!(seconds >= 0)) {
    throw new PyException("ValueError", [
      "timeout value must be a non-negative number",
    ]);
  }
  if (blocking === false || blocking === 0) return { blocking: false };
  return { timeout: seconds * 1000 };
}

/** A Python index (int or bool) as a number. */
export function toIndex(value: unknown, what = "indices"): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint") {
    return value > BigInt(Number.MAX_SAFE_INTEGER)
      ? Number.MAX_SAFE_INTEGER
      : value < BigInt(Number.MIN_SAFE_INTEGER)
      ? Number.MIN_SAFE_INTEGER
      : Number(value);
  }
  throw new PyException("TypeError", [
    `${what} must be integers or slices, not ${typeof value}`,
  ]);
}

/** How Python clients use one kind of object. */
export interface PyAdapter {
  /** Method names a proxy may call (sent back by `create`). */
  readonly exposed: readonly string[];
  /** Methods whose result is returned as a new proxy (`#PROXY`). */
  readonly methodToTypeid?: Readonly<Record<string, string>>;
  /** Runs `method`; throws `PyException` for Python's errors. */
  call(
    object: object,
    method: string,
    args: unknown[],
    kwds: Kwds,
    ctx: CallContext,
  ): unknown;
  /** A copy of the referent (`#GETVALUE`). */
  value(object: object, ctx: CallContext): unknown;
  /** Python's `repr()` of the referent (`__repr__` / `__str__`). */
  repr(object: object, ctx: CallContext): string;
}

/** Classes of server objects and the adapter of each (first match wins). */
export type AdapterTable = readonly [
  // deno-lint-ignore no-explicit-any
  abstract new (...args: any[]) => object,
  PyAdapter,
][];

/** The adapter of the first class in `table` that `object` is an instance of. */
export function adapterIn(
  table: AdapterTable,
  object: object,
): PyAdapter | undefined {
  for (const [type, adapter] of table) {
    if (object instanceof type) return adapter;
  }
  return undefined;
}

/** What `create` makes for a Python typeid. */
export interface PyCreated {
  /** weft's typeid for it. */
  readonly typeid: string;
  readonly object: object;
  readonly methods: ReadonlySet<string>;
}

/** Python's AttributeError for a method an object lacks. */
export function unknownMethod(method: string, type: string): never {
  throw new PyException("AttributeError", [
    `'${type}' object has no attribute '${method}'`,
  ]);
}

/** Iterates a Python iterable that crossed as data. */
export function iterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return [...value];
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return [...value.keys()];
  if (value instanceof Uint8Array) return [...value];
  if (typeof value === "object" && value !== null) {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return Object.keys(value);
  }
  throw new PyException("TypeError", [
    `'${pyTypeName(value)}' object is not iterable`,
  ]);
}
