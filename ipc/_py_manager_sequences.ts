/**
 * Python's sequence proxies served from weft objects (private): what
 * `ListProxy` calls on weft's `ListObject` (indexes and slices, `append`,
 * `sort`...) and the `array.array` behind `SyncManager.Array`, with the
 * errors CPython raises (`IndexError`, `ValueError`, `OverflowError`...).
 *
 * @module
 */

import { ServerObject } from "./_manager_object_base.ts";
import type { ListObject } from "./_manager_containers.ts";
import {
  bind,
  iterate,
  type PyAdapter,
  REQUIRED,
  toIndex,
  unknownMethod,
} from "./_py_manager_args.ts";
import { PyException, PySlice } from "./_py_manager_codec.ts";
import { pyCompare, pyEquals, pyRepr, pyTypeName } from "./_py_values.ts";
import { PyGlobal, PyReduce, Tuple } from "./pickle_values.ts";

// ---------------------------------------------------------------------------
// list

/** Appends `source` to `target` (no argument spread: any length). */
function append(target: unknown[], source: readonly unknown[]): void {
  for (let i = 0; i < source.length; i++) target.push(source[i]);
}

/** Replaces the contents of `target` with `source`, in place. */
function replace(target: unknown[], source: readonly unknown[]): void {
  target.length = 0;
  append(target, source);
}

/** Python's `slice.indices(length)`. */
function sliceIndices(
  slice: PySlice,
  length: number,
): [number, number, number] {
  const step = slice.step === null || slice.step === undefined
    ? 1
    : toIndex(slice.step, "slice indices");
  if (step === 0) {
    throw new PyException("ValueError", ["slice step cannot be zero"]);
  }
  const clamp = (value: unknown, fallback: number): number => {
    if (value === null || value === undefined) return fallback;
    let i = toIndex(value, "slice indices");
    if (i < 0) i += length;
    if (step > 0) return Math.min(Math.max(i, 0), length);
    return Math.min(Math.max(i, -1), length - 1);
  };
  const start = clamp(slice.start, step > 0 ? 0 : length - 1);
  const stop = clamp(slice.stop, step > 0 ? length : -1);
  return [start, stop, step];
}

function slicePositions(slice: PySlice, length: number): number[] {
  const [start, stop, step] = sliceIndices(slice, length);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function listIndex(index: unknown, length: number, what: string): number {
  let i = toIndex(index, "list indices");
  if (i < 0) i += length;
  if (i < 0 || i >= length) {
    throw new PyException("IndexError", [`${what} index out of range`]);
  }
  return i;
}

function requireList(value: unknown, op: string): unknown[] {
  if (!Array.isArray(value) || value instanceof Tuple) {
    throw new PyException("TypeError", [
      `can only ${op} list (not "${pyTypeName(value)}") to list`,
    ]);
  }
  return value;
}

function repeat(items: unknown[], times: unknown): unknown[] {
  const n = toIndex(times, "can't multiply sequence by non-int");
  if (n * items.length > 16_000_000) {
    throw new PyException("MemoryError", []);
  }
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) append(out, items);
  return out;
}

/** `ListProxy` on a `ListObject`. */
export const LIST: PyAdapter = {
  exposed: [
    "__add__",
    "__contains__",
    "__delitem__",
    "__getitem__",
    "__len__",
    "__mul__",
    "__reversed__",
    "__rmul__",
    "__setitem__",
    "append",
    "count",
    "extend",
    "index",
    "insert",
    "pop",
    "remove",
    "reverse",
    "sort",
    "__imul__",
  ],
  call(object, method, args, kwds, ctx) {
    const list = object as ListObject;
    const items = list.toArray();
    const one = (names: [string, unknown][]) => bind(method, args, kwds, names);
    switch (method) {
      case "__getitem__": {
        const [index] = one([["index", REQUIRED]]);
        if (index instanceof PySlice) {
          return slicePositions(index, items.length).map((i) => items[i]);
        }
        return items[listIndex(index, items.length, "list")];
      }
      case "__setitem__": {
        const [index, value] = one([["index", REQUIRED], ["value", REQUIRED]]);
        if (!(index instanceof PySlice)) {
          items[listIndex(index, items.length, "list assignment")] = value;
          return null;
        }
        const values = [...iterate(value)];
        const [start, stop, step] = sliceIndices(index, items.length);
        if (step === 1) {
          const end = Math.max(start, stop);
          replace(items, [
            ...items.slice(0, start),
            ...values,
            ...items.slice(end),
          ]);
          return null;
        }
        const at = slicePositions(index, items.length);
        if (at.length !== values.length) {
          throw new PyException("ValueError", [
            `attempt to assign sequence of size ${values.length} to extended slice of size ${at.length}`,
          ]);
        }
        at.forEach((i, k) => items[i] = values[k]);
        return null;
      }
      case "__delitem__": {
        const [index] = one([["index", REQUIRED]]);
        if (!(index instanceof PySlice)) {
          items.splice(listIndex(index, items.length, "list assignment"), 1);
          return null;
        }
        const at = new Set(slicePositions(index, items.length));
        const kept = items.filter((_, i) => !at.has(i));
        items.length = 0;
        append(items, kept);
        return null;
      }
      case "__contains__": {
        const [value] = one([["value", REQUIRED]]);
        return items.some((item) => pyEquals(item, value));
      }
      case "__len__":
        one([]);
        return items.length;
      case "__add__":
        return [
          ...items,
          ...requireList(one([["other", REQUIRED]])[0], "concatenate"),
        ];
      case "__mul__":
      case "__rmul__":
        return repeat(items, one([["n", REQUIRED]])[0]);
      case "__imul__": {
        const copy = repeat(items, one([["n", REQUIRED]])[0]);
        items.length = 0;
        append(items, copy);
        return items;
      }
      case "__reversed__":
        one([]);
        return [...items].reverse();
      case "append":
        items.push(one([["item", REQUIRED]])[0]);
        return null;
      case "count": {
        const [value] = one([["value", REQUIRED]]);
        return items.filter((item) => pyEquals(item, value)).length;
      }
      case "extend":
        append(items, iterate(one([["iterable", REQUIRED]])[0]));
        return null;
      case "index": {
        const [value, start, stop] = one([
          ["value", REQUIRED],
          ["start", 0],
          ["stop", items.length],
        ]);
        const [from, to] = sliceIndices(
          new PySlice(start, stop, 1),
          items.length,
        );
        for (let i = from; i < to; i++) {
          if (pyEquals(items[i], value)) return i;
        }
        throw new PyException("ValueError", [
          `${pyRepr(value)} is not in list`,
        ]);
      }
      case "insert": {
        const [index, value] = one([["index", REQUIRED], ["item", REQUIRED]]);
        let i = toIndex(index);
        if (i < 0) i = Math.max(0, i + items.length);
        items.splice(Math.min(i, items.length), 0, value);
        return null;
      }
      case "pop": {
        const [index] = one([["index", -1]]);
        if (items.length === 0) {
          throw new PyException("IndexError", ["pop from empty list"]);
        }
        return items.splice(listIndex(index, items.length, "pop"), 1)[0];
      }
      case "remove": {
        const [value] = one([["value", REQUIRED]]);
        const at = items.findIndex((item) => pyEquals(item, value));
        if (at < 0) {
          throw new PyException("ValueError", [
            "list.remove(x): x not in list",
          ]);
        }
        items.splice(at, 1);
        return null;
      }
      case "reverse":
        one([]);
        items.reverse();
        return null;
      case "sort": {
        if (args.length > 0) {
          throw new PyException("TypeError", [
            "sort() takes no positional arguments",
          ]);
        }
        const [key, reverse] = bind(method, [], kwds, [["key", null], [
          "reverse",
          false,
        ]]);
        if (key !== null && key !== undefined) {
          throw new PyException("TypeError", [
            "Cannot sort a managed list with a key function: functions cannot cross to a weft manager",
          ]);
        }
        const sorted = [...items].sort((a, b) =>
          reverse ? pyCompare(b, a) : pyCompare(a, b)
        );
        replace(items, sorted);
        return null;
      }
    }
    void ctx;
    return unknownMethod(method, "list");
  },
  value: (object) => [...(object as ListObject).toArray()],
  repr: (object) => pyRepr((object as ListObject).toArray()),
};

// ---------------------------------------------------------------------------
// Python-only objects: array and iterator

const INT_RANGES: Record<string, [bigint, bigint]> = {
  b: [-128n, 127n],
  B: [0n, 255n],
  h: [-32768n, 32767n],
  H: [0n, 65535n],
  i: [-2147483648n, 2147483647n],
  I: [0n, 4294967295n],
  l: [-(2n ** 63n), 2n ** 63n - 1n],
  L: [0n, 2n ** 64n - 1n],
  q: [-(2n ** 63n), 2n ** 63n - 1n],
  Q: [0n, 2n ** 64n - 1n],
};

/** Python's `array.array(typecode, ...)` behind `SyncManager.Array`. */
export class ArrayObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set();
  readonly items: unknown[];
  constructor(readonly typecode: string, initial: unknown[]) {
    super();
    if (!(typecode in INT_RANGES) && !"fdu".includes(typecode)) {
      throw new PyException("ValueError", [
        "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)",
      ]);
    }
    this.items = initial.map((item) => this.check(item));
  }

  /** Checks an item against the typecode, as `array` does. */
  check(item: unknown): unknown {
    const range = INT_RANGES[this.typecode];
    if (range !== undefined) {
      if (typeof item === "boolean") item = item ? 1 : 0;
      if (
        !(typeof item === "bigint" ||
          (typeof item === "number" && Number.isInteger(item)))
      ) {
        throw new PyException("TypeError", [
          `'${pyTypeName(item)}' object cannot be interpreted as an integer`,
        ]);
      }
      const big = BigInt(item as number | bigint);
      if (big < range[0] || big > range[1]) {
        throw new PyException("OverflowError", [
          "array item out of range for its typecode",
        ]);
      }
      return item;
    }
    if (this.typecode === "u") {
      if (typeof item !== "string" || [...item].length !== 1) {
        throw new PyException("TypeError", [
          "array item must be a unicode character",
        ]);
      }
      return item;
    }
    if (typeof item !== "number" && typeof item !== "bigint") {
      throw new PyException("TypeError", [
        `must be real number, not ${pyTypeName(item)}`,
      ]);
    }
    return Number(item);
  }

  /** `array.array(typecode, items)` as a pickle reduce. */
  reduce(items: unknown[] = this.items): PyReduce {
    return new PyReduce(new PyGlobal("array", "array"), [
      this.typecode,
      [...items],
    ]);
  }
}

/** `ArrayProxy` on an `ArrayObject`. */
export const ARRAY: PyAdapter = {
  exposed: ["__len__", "__getitem__", "__setitem__"],
  call(object, method, args, kwds) {
    const array = object as ArrayObject;
    const items = array.items;
    switch (method) {
      case "__len__":
        bind(method, args, kwds, []);
        return items.length;
      case "__getitem__": {
        const [index] = bind(method, args, kwds, [["index", REQUIRED]]);
        if (index instanceof PySlice) {
          return array.reduce(
            slicePositions(index, items.length).map((i) => items[i]),
          );
        }
        return items[listIndex(index, items.length, "array")];
      }
      case "__setitem__": {
        const [index, value] = bind(method, args, kwds, [
          ["index", REQUIRED],
          ["value", REQUIRED],
        ]);
        if (index instanceof PySlice) {
          const at = slicePositions(index, items.length);
          const values = iterate(value).map((v) => array.check(v));
          if (at.length !== values.length) {
            throw new PyException("ValueError", [
              "array slice assignment must keep the length",
            ]);
          }
          at.forEach((i, k) => items[i] = values[k]);
          return null;
        }
        items[listIndex(index, items.length, "array assignment")] = array
          .check(value);
        return null;
      }
    }
    return unknownMethod(method, "array.array");
  },
  value: (object) => (object as ArrayObject).reduce(),
  repr: (object) => {
    const array = object as ArrayObject;
    return `array(${pyRepr(array.typecode)}, ${pyRepr(array.items)})`;
  },
};
