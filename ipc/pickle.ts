/**
 * `dumps` and `loads`: Python's pickle format for JavaScript values, like
 * Python's `pickle.dumps` / `pickle.loads`, minus the part that makes
 * pickle dangerous: `loads` never imports or calls anything named by the
 * data.
 *
 * @module
 */
import { _read } from "./_pickle_reader.ts";
import type { _Handler } from "./_pickle_common.ts";
import { _write } from "./_pickle_writer.ts";
import { _DEFAULT_GLOBALS } from "./_pickle_globals.ts";
import { UnpicklingError } from "./pickle_error.ts";

/**
 * Options of {@linkcode dumps}.
 *
 * @example Protocol 2 for old readers, and a depth limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, type DumpsOptions, PicklingError } from "@weft/weft/ipc";
 *
 * const options: DumpsOptions = { protocol: 2, maxDepth: 2 };
 * assert.deepEqual(dumps([[1]], options).subarray(0, 2), new Uint8Array([0x80, 2]));
 * assert.throws(() => dumps([[[1]]], options), PicklingError);
 * ```
 */
export interface DumpsOptions {
  /**
   * Pickle protocol to write: 2, 3, 4 (the default,
   * {@linkcode DEFAULT_PICKLE_PROTOCOL}; read by every Python 3) or 5. Like
   * Python's `protocol=`; 0 and 1 are read but not written.
   *
   * @default {4}
   */
  protocol?: 2 | 3 | 4 | 5;
  /**
   * Deepest nesting of containers written (1000 by default, about Python's
   * recursion limit); deeper throws `PicklingError`.
   *
   * @default {1000}
   */
  maxDepth?: number;
}

/**
 * How {@linkcode loads} decodes one allowed Python global. `true` keeps its
 * calls inert as `PyReduce` values; a function handles `callable(*args)`
 * (REDUCE); an object can also handle `cls.__new__(cls, *args, **kwargs)`
 * (NEWOBJ, NEWOBJ_EX) and `BUILD` (`__setstate__`) on a value it returned,
 * whose result replaces that value (mutate `obj` and return it when the
 * pickle may reference it again). A missing method rejects that opcode.
 * What a handler throws becomes an `UnpicklingError` with it as `cause`.
 *
 * @example A Python object rebuilt through a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, type GlobalHandler, loads, PyGlobal, PyReduce } from "@weft/weft/ipc";
 *
 * // A Python class pickled as NEWOBJ + BUILD (its __getstate__ returns a dict).
 * const Point = new PyGlobal("geometry", "Point");
 * const bytes = dumps(new PyReduce(Point, [], { newobj: true, state: { x: 1, y: 2 } }));
 * const point: GlobalHandler = {
 *   newobj: () => ({}),
 *   build: (obj, state) => Object.assign(obj as object, state),
 * };
 * assert.deepEqual(loads(bytes, { globals: { "geometry Point": point } }), { x: 1, y: 2 });
 * ```
 */
export type GlobalHandler =
  | true
  | ((args: unknown[]) => unknown)
  | {
    /** `callable(*args)`: REDUCE, INST, OBJ. */
    reduce?(args: unknown[]): unknown;
    /** `cls.__new__(cls, *args, **kwargs)`: NEWOBJ, NEWOBJ_EX. */
    newobj?(args: unknown[], kwargs: Map<string, unknown> | null): unknown;
    /** `obj.__setstate__(state)`: BUILD on a value this handler returned. */
    build?(obj: unknown, state: unknown): unknown;
  };

/**
 * Options of {@linkcode loads}.
 *
 * @example Every dict as a Map, integral floats kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, type LoadsOptions, PyFloat } from "@weft/weft/ipc";
 *
 * const options: LoadsOptions = { dicts: "map", exactFloats: true, maxSize: 1024 };
 * const back = loads(dumps({ x: new PyFloat(1) }), options);
 * assert.ok(back instanceof Map);
 * assert.deepEqual(back.get("x"), new PyFloat(1));
 * ```
 */
export interface LoadsOptions {
  /**
   * More allowed globals, keyed `"module name"` (one space, as in the
   * pickle): `{ "multiprocessing.managers Token": handler }`. Consulted
   * before weft's defaults (datetime, decimal, complex, OrderedDict, set,
   * frozenset, bytearray). Protocol 0-2 names like `__builtin__` are mapped
   * to `builtins` first, as Python's `fix_imports` does.
   */
  globals?: Record<string, GlobalHandler>;
  /**
   * `"auto"`: a dict whose keys are all `str` (none `__proto__` or an array
   * index such as `"1"`, which JavaScript would reorder) decodes to a plain
   * object, any other to a `Map`. `"map"`: always a Map.
   *
   * @default {"auto"}
   */
  dicts?: "auto" | "map";
  /**
   * Decode each integral float (`1.0`) as a `PyFloat`, so it is written
   * back as a float. When false, every float is a number.
   *
   * @default {false}
   */
  exactFloats?: boolean;
  /**
   * Largest pickle accepted, in bytes. Default: no limit.
   *
   * @default {Infinity}
   */
  maxSize?: number;
}

/**
 * Default pickle protocol written by {@linkcode dumps}: 4, which every
 * Python 3.4+ reads (Python 3.8–3.13 write it by default too).
 *
 * @example The protocol byte after PROTO
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PICKLE_PROTOCOL, dumps } from "@weft/weft/ipc";
 *
 * assert.equal(dumps(null)[1], DEFAULT_PICKLE_PROTOCOL);
 * ```
 */
export const DEFAULT_PICKLE_PROTOCOL = 4;

/**
 * Encodes `value` as a pickle that Python's `pickle.loads` (and
 * `multiprocessing.connection`'s `recv`) reads. Mapping: `null`/`undefined`
 * → None; booleans; a number → `int` if it is a safe integer (and not
 * `-0`), else `float` (use `PyFloat` to force a float); a bigint → `int`;
 * a string → `str`; a `Uint8Array` (or `ArrayBuffer`) → `bytes`; an Array →
 * `list`; a `Tuple` → `tuple`; a plain object or a `Map` → `dict`; a `Set`
 * → `set`, a `PyFrozenSet` → `frozenset`; `Temporal.PlainDateTime` /
 * `ZonedDateTime` / `PlainDate` / `PlainTime` / `Duration` and `Date` →
 * `datetime` / `date` / `time` / `timedelta`; `PyByteArray`, `PyComplex`,
 * `PyDecimal`; `PyGlobal` and `PyReduce` for any other Python object.
 * Shared references and cycles are kept (memo).
 *
 * @throws {PicklingError} For a value with no Python counterpart (a
 * function, a symbol, a class instance) or nested deeper than `maxDepth`.
 * @throws {TypeError} For an invalid option.
 *
 * @example A round trip of Python's basic types
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, tuple } from "@weft/weft/ipc";
 *
 * const bytes = dumps({ a: [1, 2.5, "x", null, true, new Uint8Array([7]), tuple(1, 2)] });
 * assert.equal(bytes[0], 0x80); // PROTO
 * assert.equal(bytes[1], 4);
 * assert.deepEqual(loads(bytes), { a: [1, 2.5, "x", null, true, new Uint8Array([7]), tuple(1, 2)] });
 * ```
 */
export function dumps(value: unknown, options: DumpsOptions = {}): Uint8Array {
  const protocol = options.protocol ?? DEFAULT_PICKLE_PROTOCOL;
  if (protocol !== 2 && protocol !== 3 && protocol !== 4 && protocol !== 5) {
    throw new TypeError(
      `Invalid protocol: expected 2, 3, 4 or 5, got ${protocol}`,
    );
  }
  const maxDepth = options.maxDepth ?? 1000;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) {
    throw new TypeError(
      `Invalid maxDepth: expected a positive integer, got ${maxDepth}`,
    );
  }
  return _write(value, { protocol, maxDepth });
}

function normalize(key: string, handler: GlobalHandler): _Handler {
  if (handler === true) return { inert: true };
  if (typeof handler === "function") return { reduce: (args) => handler(args) };
  if (typeof handler === "object" && handler !== null) {
    const { reduce, newobj, build } = handler;
    return {
      reduce: reduce && ((args) => reduce.call(handler, args)),
      newobj: newobj && ((args, kwargs) => newobj.call(handler, args, kwargs)),
      build: build && ((obj, state) => build.call(handler, obj, state)),
    };
  }
  throw new TypeError(
    `Invalid globals entry ${
      JSON.stringify(key)
    }: expected true, a function or an object`,
  );
}

// Normalized handlers per `globals` object: callers pass the same object on
// every call (a protocol's allow-list), so it is validated once.
const normalized = new WeakMap<
  object,
  Map<string, [GlobalHandler, _Handler]>
>();

function handlersOf(
  extra: Record<string, GlobalHandler>,
): Map<string, [GlobalHandler, _Handler]> {
  let own = normalized.get(extra);
  if (own === undefined) {
    own = new Map();
    for (const key of Object.keys(extra)) {
      own.set(key, [extra[key], normalize(key, extra[key])]);
    }
    normalized.set(extra, own);
  }
  return own;
}

/**
 * Decodes a pickle of protocol 0 to 5 (what Python's `pickle.dumps` and
 * `multiprocessing.connection`'s `send` write), the reverse of
 * {@linkcode dumps}: None → `null`, `int` → number when safe else bigint,
 * `float` → number, `bytes` → `Uint8Array`, `tuple` → `Tuple`, `dict` →
 * plain object or `Map` (see `dicts`), `set` → `Set`, `frozenset` →
 * `PyFrozenSet`, `bytearray` → `PyByteArray`, naive `datetime` →
 * `Temporal.PlainDateTime`, aware → `Temporal.ZonedDateTime`, `date`,
 * `time` → `Temporal.PlainDate`, `PlainTime`, `timedelta` →
 * `Temporal.Duration`, `Decimal` → `PyDecimal`, `complex` → `PyComplex`,
 * `OrderedDict` → `Map`.
 *
 * ## Security
 *
 * Nothing is imported or called: a global outside the allow-list (weft's
 * defaults plus `options.globals`) is rejected the moment it is named, so
 * `os.system`, `builtins.eval`, `subprocess.Popen` and every `__reduce__`
 * gadget fail with an `UnpicklingError` naming the global. Declared lengths
 * are checked against the bytes present before anything is allocated;
 * decoding uses no recursion, so deep nesting cannot exhaust the stack.
 *
 * @throws {UnpicklingError} For any pickle it refuses (see above), a
 * truncated or malformed one, or one larger than `maxSize`.
 *
 * @example Reading a pickle that Python wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { loads, UnpicklingError } from "@weft/weft/ipc";
 *
 * // pickle.dumps({'a': (1, 2)}, protocol=2)
 * const bytes = new Uint8Array([
 *   0x80, 2, 0x7d, 0x71, 0, 0x58, 1, 0, 0, 0, 0x61, 0x71, 1,
 *   0x4b, 1, 0x4b, 2, 0x86, 0x71, 2, 0x73, 0x2e,
 * ]);
 * const value = loads(bytes) as { a: number[] };
 * assert.deepEqual([...value.a], [1, 2]);
 * assert.throws(() => loads(bytes.subarray(0, 10)), UnpicklingError);
 * ```
 */
export function loads(bytes: Uint8Array, options: LoadsOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Invalid pickle: expected a Uint8Array");
  }
  const maxSize = options.maxSize ?? Infinity;
  if (bytes.length > maxSize) {
    throw new UnpicklingError(
      `Cannot unpickle: the pickle is ${bytes.length} bytes, over maxSize (${maxSize})`,
    );
  }
  const dicts = options.dicts ?? "auto";
  if (dicts !== "auto" && dicts !== "map") {
    throw new TypeError(
      `Invalid dicts: expected "auto" or "map", got ${dicts}`,
    );
  }
  const extra = options.globals;
  let lookup = (key: string): _Handler | undefined => _DEFAULT_GLOBALS.get(key);
  if (extra !== undefined) {
    const own = handlersOf(extra);
    lookup = (key) => {
      if (!Object.hasOwn(extra, key)) return _DEFAULT_GLOBALS.get(key);
      const raw = extra[key];
      const hit = own.get(key);
      if (hit !== undefined && hit[0] === raw) return hit[1];
      const handler = normalize(key, raw); // an entry changed since last call
      own.set(key, [raw, handler]);
      return handler;
    };
  }
  try {
    return _read(bytes, {
      lookup,
      mapDicts: dicts === "map",
      exactFloats: options.exactFloats ?? false,
    });
  } catch (error) {
    if (error instanceof UnpicklingError) throw error;
    // Defense in depth: whatever else a malformed pickle trips is still a refusal.
    throw new UnpicklingError(
      `Cannot unpickle: malformed pickle (${
        (error as Error)?.message ?? error
      })`,
      { cause: error },
    );
  }
}
