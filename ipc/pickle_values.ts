/**
 * Value classes of the pickle codec: the Python types that have no exact
 * JavaScript counterpart (`tuple`, an integral `float`, `bytearray`,
 * `frozenset`, `complex`, `decimal.Decimal`) and the two building blocks
 * for any other Python object (`PyGlobal`, `PyReduce`).
 *
 * @module
 */

/**
 * A Python `tuple`: an `Array` subclass, so it indexes, iterates and spreads
 * like an array, but `dumps` writes it as a tuple and `loads` returns every
 * tuple as one. Build with {@linkcode tuple} (or `Tuple.of`): `new
 * Tuple(3)` follows `Array`'s constructor and makes three holes. As for any
 * `Array` subclass, `map`, `filter` and `slice` return tuples too (spread
 * into `[...t]` for a list).
 *
 * @example A tuple comes back as a tuple
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, Tuple, tuple } from "@weft/weft/ipc";
 *
 * const t = loads(dumps(tuple(1, "a")));
 * assert.ok(t instanceof Tuple);
 * assert.deepEqual([...(t as Tuple)], [1, "a"]);
 * ```
 */
// No Symbol.species override: defining one would disable V8's fast paths
// for every array in the process.
export class Tuple<T = unknown> extends Array<T> {}

/**
 * Returns a {@linkcode Tuple} of `items`: Python's `(a, b, ...)`.
 *
 * @example Python's `(3, 4)`
 * ```ts
 * import assert from "node:assert/strict";
 * import { tuple } from "@weft/weft/ipc";
 *
 * const point = tuple(3, 4);
 * assert.equal(point.length, 2);
 * assert.equal(point[1], 4);
 * ```
 */
export function tuple<T>(...items: T[]): Tuple<T>;
/** Mixed item types: `tuple("a", 1)` is a `Tuple<string | number>`. */
export function tuple<T extends unknown[]>(...items: T): Tuple<T[number]>;
export function tuple(...items: unknown[]): Tuple<unknown> {
  const t = new Tuple<unknown>();
  for (let i = 0; i < items.length; i++) t.push(items[i]);
  return t;
}

/**
 * Forces a Python `float` for a number that `dumps` would otherwise write as
 * an `int` (an integral number such as `1`). `loads` returns one for each
 * integral float when `exactFloats` is set, so `1.0` survives a round trip.
 *
 * @example Keeping `2.0` a float
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyFloat } from "@weft/weft/ipc";
 *
 * assert.equal(loads(dumps(new PyFloat(2))), 2);
 * const back = loads(dumps(new PyFloat(2)), { exactFloats: true });
 * assert.ok(back instanceof PyFloat && back.value === 2);
 * ```
 */
export class PyFloat {
  /** The float's value. */
  readonly value: number;
  /** Wraps `value` (any number). */
  constructor(value: number) {
    if (typeof value !== "number") {
      throw new TypeError(
        `Invalid float: expected a number, got ${typeof value}`,
      );
    }
    this.value = value;
  }
  /** The number, so `+f` and arithmetic work. */
  valueOf(): number {
    return this.value;
  }
}

/**
 * A reference to a Python global (a class or a function) by module and
 * qualified name, as pickle's `GLOBAL` / `STACK_GLOBAL` write it. `dumps`
 * writes it as that reference; `loads` returns one for an allowed global
 * that the pickle uses as a plain value (never called). Nothing is imported.
 *
 * @example A reference to `builtins.KeyError`
 * ```ts
 * import assert from "node:assert/strict";
 * import { PyGlobal } from "@weft/weft/ipc";
 *
 * const g = new PyGlobal("builtins", "KeyError");
 * assert.equal(g.key, "builtins KeyError");
 * assert.equal(String(g), "builtins.KeyError");
 * ```
 */
export class PyGlobal {
  /** Module name, e.g. `"collections"`. */
  readonly module: string;
  /** Qualified name in the module, e.g. `"OrderedDict"` or `"A.B"`. */
  readonly name: string;
  /** Creates the reference; both parts are non-empty and hold no newline. */
  constructor(module: string, name: string) {
    for (const [what, part] of [["module", module], ["name", name]]) {
      if (typeof part !== "string" || part === "" || /[\n\r ]/.test(part)) {
        throw new TypeError(
          `Invalid global ${what}: expected a non-empty string without spaces or newlines, got ${
            JSON.stringify(part)
          }`,
        );
      }
    }
    this.module = module;
    this.name = name;
  }
  /** `"module name"`: the key of a `globals` entry of `loads`. */
  get key(): string {
    return `${this.module} ${this.name}`;
  }
  /** `"module.name"`. */
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * Options of {@linkcode PyReduce}.
 *
 * @example A `collections.deque` with its items
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyGlobal, PyReduce, type PyReduceOptions } from "@weft/weft/ipc";
 *
 * const options: PyReduceOptions = { listItems: [1, 2] };
 * const deque = new PyReduce(new PyGlobal("collections", "deque"), [], options);
 * const back = loads(dumps(deque), { globals: { "collections deque": true } });
 * assert.ok(back instanceof PyReduce);
 * assert.deepEqual(back.listItems, [1, 2]);
 * ```
 */
export interface PyReduceOptions {
  /** State set with `BUILD` (`__setstate__`); `undefined` writes no BUILD. */
  state?: unknown;
  /**
   * Call `callable.__new__(callable, *args, **kwargs)` (NEWOBJ) instead of
   * `callable(*args)`.
   *
   * @default {false}
   */
  newobj?: boolean;
  /**
   * Keyword arguments of `__new__` (NEWOBJ_EX, protocol 4 and later).
   *
   * @default {null}
   */
  kwargs?: Map<string, unknown> | null;
  /**
   * Items appended after construction (APPENDS).
   *
   * @default {[]}
   */
  listItems?: unknown[];
  /**
   * Pairs set after construction (SETITEMS).
   *
   * @default {[]}
   */
  dictItems?: [unknown, unknown][];
}

/**
 * Any Python object, as its pickle recipe: Python's "reduce" tuple. `dumps`
 * writes `callable(*args)` (REDUCE), or `callable.__new__(callable, *args,
 * **kwargs)` with `newobj` (NEWOBJ / NEWOBJ_EX), then `BUILD` with `state`,
 * then `listItems` and `dictItems`. `loads` returns one for a call to a
 * global whose `globals` handler is `true` (kept inert: nothing runs), and
 * for a few allow-listed values with no exact JavaScript type (an aware
 * `datetime.time`, a bare `datetime.timezone`), so they round-trip.
 *
 * @example An inert call to `KeyError('x')`
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyGlobal, PyReduce } from "@weft/weft/ipc";
 *
 * const error = new PyReduce(new PyGlobal("builtins", "KeyError"), ["x"]);
 * const back = loads(dumps(error), { globals: { "builtins KeyError": true } });
 * assert.ok(back instanceof PyReduce);
 * assert.deepEqual([...back.args], ["x"]);
 * ```
 */
export class PyReduce {
  /** The class or function called. */
  readonly callable: PyGlobal;
  /** Positional arguments. */
  readonly args: unknown[];
  /** True for `callable.__new__(callable, ...)` (NEWOBJ). */
  readonly newobj: boolean;
  /** Keyword arguments of `__new__`, or `null`. */
  kwargs: Map<string, unknown> | null;
  /** BUILD state, or `undefined` for none. */
  state: unknown;
  /** Items appended after construction. */
  listItems: unknown[];
  /** Pairs set after construction. */
  dictItems: [unknown, unknown][];
  /** Describes the call; see the class documentation. */
  constructor(
    callable: PyGlobal,
    args: readonly unknown[] = [],
    options: PyReduceOptions = {},
  ) {
    if (!(callable instanceof PyGlobal)) {
      throw new TypeError("Invalid callable: expected a PyGlobal");
    }
    if (!Array.isArray(args)) {
      throw new TypeError("Invalid args: expected an array");
    }
    this.callable = callable;
    this.args = [...args];
    this.newobj = options.newobj ?? false;
    this.kwargs = options.kwargs ?? null;
    this.state = options.state;
    this.listItems = options.listItems ? [...options.listItems] : [];
    this.dictItems = options.dictItems ? [...options.dictItems] : [];
  }
}

/**
 * A Python `bytearray` (a `Uint8Array` is `bytes`).
 *
 * @example A bytearray round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyByteArray } from "@weft/weft/ipc";
 *
 * const back = loads(dumps(new PyByteArray(new Uint8Array([1, 2]))));
 * assert.ok(back instanceof PyByteArray);
 * assert.deepEqual(back.bytes, new Uint8Array([1, 2]));
 * ```
 */
export class PyByteArray {
  /** The contents. */
  bytes: Uint8Array;
  /** Wraps `bytes` (not copied). */
  constructor(bytes: Uint8Array = new Uint8Array()) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("Invalid bytearray: expected a Uint8Array");
    }
    this.bytes = bytes;
  }
}

/**
 * A Python `frozenset`: a `Set` that `dumps` writes as a frozenset (a plain
 * `Set` is a `set`). `loads` returns every frozenset as one.
 *
 * @example A frozenset round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyFrozenSet } from "@weft/weft/ipc";
 *
 * const back = loads(dumps(new PyFrozenSet([1, 2])));
 * assert.ok(back instanceof PyFrozenSet && back.has(2));
 * ```
 */
export class PyFrozenSet<T = unknown> extends Set<T> {}

/**
 * A Python `complex`.
 *
 * @example A complex round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyComplex } from "@weft/weft/ipc";
 *
 * assert.deepEqual(loads(dumps(new PyComplex(1, -2))), new PyComplex(1, -2));
 * ```
 */
export class PyComplex {
  /** Real part. */
  readonly real: number;
  /** Imaginary part. */
  readonly imag: number;
  /** Creates `real + imag*j`. */
  constructor(real: number, imag = 0) {
    if (typeof real !== "number" || typeof imag !== "number") {
      throw new TypeError("Invalid complex: expected two numbers");
    }
    this.real = real;
    this.imag = imag;
  }
}

const DECIMAL_SYNTAX =
  /^[+-]?(?:(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?|inf(?:inity)?|s?nan\d*)$/i;

/**
 * A Python `decimal.Decimal`, kept as its exact text (JavaScript has no
 * decimal type).
 *
 * @example A decimal keeps its exact text
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps, loads, PyDecimal } from "@weft/weft/ipc";
 *
 * const back = loads(dumps(new PyDecimal("0.10")));
 * assert.ok(back instanceof PyDecimal);
 * assert.equal(String(back), "0.10");
 * ```
 */
export class PyDecimal {
  /** The decimal's text, e.g. `"0.10"`, `"-1E+3"`, `"NaN"`. */
  readonly text: string;
  /** Wraps `text`; it must be Python Decimal syntax. */
  constructor(text: string) {
    if (typeof text !== "string" || !DECIMAL_SYNTAX.test(text.trim())) {
      throw new TypeError(
        `Invalid decimal: ${
          JSON.stringify(String(text).slice(0, 40))
        } is not a number`,
      );
    }
    this.text = text.trim();
  }
  /** The decimal's text. */
  toString(): string {
    return this.text;
  }
}
