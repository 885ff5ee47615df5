/**
 * The one sharing mechanism of weft (private).
 *
 * Every shareable type (locks, queues, pipe ends, manager proxies, ...)
 * implements {@linkcode TO_HANDLE}: a method returning a plain, cloneable
 * {@linkcode SharedHandle}, and registers a reviver for its `kind` with
 * {@linkcode registerReviver} when its module loads. {@linkcode shareValue}
 * and {@linkcode reviveValue} walk a value tree and convert in both
 * directions, so a whole argument list (`[lock, { queue, n: 3 }]`) crosses a
 * worker or process boundary in one step.
 *
 * @module
 */

/** Where a handle is going: another worker (same process, shared memory
 * available) or another process (only bytes cross). */
export type ShareTarget = "worker" | "process";

/** The symbol-keyed method every shareable type implements. */
export const TO_HANDLE: unique symbol = Symbol.for("weft.toHandle");

/** The key that marks a plain object as a weft handle. */
export const HANDLE_KIND = "@@weft";

/** A plain, structured-cloneable description of a shared object. */
export interface SharedHandle {
  /** The registered kind, e.g. `"Lock"` (the key is {@linkcode HANDLE_KIND}). */
  readonly "@@weft": string;
  /** Anything else the reviver needs (SharedArrayBuffers, ports, numbers). */
  readonly [field: string]: unknown;
}

/** A value that can be turned into a {@linkcode SharedHandle}. */
export interface Shareable {
  /** Returns the handle for `target`; throws `TypeError` if it cannot go there. */
  [TO_HANDLE](target: ShareTarget): SharedHandle;
}

/** The key naming the module that registers a handle's reviver. */
export const HANDLE_MODULE = "@@module";

type Reviver = (handle: SharedHandle) => unknown;
const revivers = new Map<string, Reviver>();
const reviverModules = new Map<string, string>();

/**
 * Registers how handles of `kind` are rebuilt. Called once, at load, by the
 * module defining the type, which passes its own `import.meta.url`: every
 * handle {@linkcode shareValue} makes then names that module, so a worker or
 * process that never imported it can load it ({@linkcode importRevivers}).
 */
export function registerReviver(
  kind: string,
  reviver: Reviver,
  moduleUrl: string,
): void {
  revivers.set(kind, reviver);
  reviverModules.set(kind, moduleUrl);
}

function stampModule(handle: SharedHandle): SharedHandle {
  const moduleUrl = reviverModules.get(handle[HANDLE_KIND]);
  if (moduleUrl === undefined || HANDLE_MODULE in handle) return handle;
  return { ...handle, [HANDLE_MODULE]: moduleUrl };
}

/** True if `value` implements {@linkcode TO_HANDLE}. */
export function isShareable(value: unknown): value is Shareable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Shareable>)[TO_HANDLE] === "function";
}

/** True if `value` is a handle produced by {@linkcode shareValue}. */
export function isHandle(value: unknown): value is SharedHandle {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<string, unknown>)[HANDLE_KIND] === "string";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function walk(
  value: unknown,
  visit: (v: unknown) => unknown | typeof KEEP,
  seen: Map<unknown, unknown>,
): unknown {
  const replaced = visit(value);
  if (replaced !== KEEP) return replaced;
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(walk(item, visit, seen));
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) {
      out.set(walk(k, visit, seen), walk(v, visit, seen));
    }
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(walk(v, visit, seen));
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, visit, seen);
    return out;
  }
  return value;
}

const KEEP = Symbol("keep");

/**
 * Replaces every shareable inside `value` (arrays, plain objects, Maps and
 * Sets are walked) with its handle for `target`. Other values are kept.
 */
export function shareValue(value: unknown, target: ShareTarget): unknown {
  return walk(
    value,
    (v) => isShareable(v) ? stampModule(v[TO_HANDLE](target)) : KEEP,
    new Map(),
  );
}

/**
 * Rebuilds every handle inside `value` into a live object.
 *
 * @throws {TypeError} If a handle's kind has no registered reviver (its
 * module was not imported in this worker or process).
 */
export function reviveValue(value: unknown): unknown {
  return walk(value, (v) => {
    if (!isHandle(v)) return KEEP;
    const reviver = revivers.get(v[HANDLE_KIND]);
    if (reviver === undefined) {
      const where = typeof v[HANDLE_MODULE] === "string"
        ? ` (import "${v[HANDLE_MODULE]}" or await importRevivers() first)`
        : "";
      throw new TypeError(
        `Cannot revive shared "${
          v[HANDLE_KIND]
        }": its module is not imported here${where}`,
      );
    }
    return reviver(v);
  }, new Map());
}

/**
 * Imports the module of every handle inside `value` whose kind has no
 * reviver here yet (each handle names it under {@linkcode HANDLE_MODULE}),
 * so that {@linkcode reviveValue} can rebuild it. Worker and process
 * bootstraps call this before reviving arguments.
 */
export async function importRevivers(value: unknown): Promise<void> {
  const missing = new Set<string>();
  walk(value, (v) => {
    if (
      isHandle(v) && !revivers.has(v[HANDLE_KIND]) &&
      typeof v[HANDLE_MODULE] === "string"
    ) {
      missing.add(v[HANDLE_MODULE] as string);
    }
    return KEEP;
  }, new Map());
  for (const moduleUrl of missing) await import(moduleUrl);
}

/** Collects the MessagePorts inside a handle tree, for a transfer list. */
export function transferablesOf(value: unknown): Transferable[] {
  const found: Transferable[] = [];
  walk(value, (v) => {
    if (v instanceof MessagePort) {
      found.push(v);
      return v;
    }
    return KEEP;
  }, new Map());
  return found;
}
