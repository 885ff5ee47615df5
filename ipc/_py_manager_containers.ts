/**
 * Python's container proxies served from weft objects (private): what
 * `DictProxy`, `NamespaceProxy`, `ValueProxy` and `IteratorProxy` call
 * (`__getitem__`, `__getattribute__`...) on the `DictObject`,
 * `NamespaceObject` and `ValueObject` weft's own clients use, plus a
 * snapshot iterator; lists and arrays are in `_py_manager_sequences.ts`.
 * `create` for all of them. Errors are the ones CPython raises
 * (`KeyError(key)`, `AttributeError`...).
 *
 * @module
 */

import { ServerObject } from "./_manager_object_base.ts";
import {
  DictObject,
  ListObject,
  NamespaceObject,
  ValueObject,
} from "./_manager_containers.ts";
import {
  adapterIn,
  type AdapterTable,
  bind,
  iterate,
  type Kwds,
  NO_KWDS,
  type PyAdapter,
  type PyCreated,
  REQUIRED,
  unknownMethod,
} from "./_py_manager_args.ts";
import { MAX_RANGE, PyException } from "./_py_manager_codec.ts";
import { ARRAY, ArrayObject, LIST } from "./_py_manager_sequences.ts";
import { pyRepr } from "./_py_values.ts";
import { tuple } from "./pickle_values.ts";

export type { PyAdapter, PyCreated } from "./_py_manager_args.ts";
export { ArrayObject } from "./_py_manager_sequences.ts";

// ---------------------------------------------------------------------------
// dict

function dictCopy(dict: DictObject): Map<unknown, unknown> {
  return new Map(dict.entries());
}

/** Pairs of `dict.update(other)`: a mapping or an iterable of pairs. */
function updatePairs(other: unknown): [unknown, unknown][] {
  if (other instanceof Map) return [...other];
  if (typeof other === "object" && other !== null && !Array.isArray(other)) {
    const proto = Object.getPrototypeOf(other);
    if (proto === Object.prototype || proto === null) {
      return Object.entries(other);
    }
  }
  return iterate(other).map((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new PyException("ValueError", [
        `dictionary update sequence element #${i} has the wrong length`,
      ]);
    }
    return [pair[0], pair[1]];
  });
}

const DICT: PyAdapter = {
  exposed: [
    "__contains__",
    "__delitem__",
    "__getitem__",
    "__iter__",
    "__len__",
    "__setitem__",
    "clear",
    "copy",
    "get",
    "items",
    "keys",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "values",
  ],
  methodToTypeid: { __iter__: "Iterator" },
  call(object, method, args, kwds, ctx) {
    const dict = object as DictObject;
    const one = (names: [string, unknown][]) => bind(method, args, kwds, names);
    switch (method) {
      case "__getitem__": {
        const [key] = one([["key", REQUIRED]]);
        if (!dict.has(ctx, key)) throw new PyException("KeyError", [key]);
        return dict.get(ctx, key);
      }
      case "__setitem__": {
        const [key, value] = one([["key", REQUIRED], ["value", REQUIRED]]);
        return void dict.set(ctx, key, value);
      }
      case "__delitem__": {
        const [key] = one([["key", REQUIRED]]);
        if (!dict.delete(ctx, key)) throw new PyException("KeyError", [key]);
        return null;
      }
      case "__contains__":
        return dict.has(ctx, one([["key", REQUIRED]])[0]);
      case "__len__":
        one([]);
        return dict.size();
      case "__iter__":
        one([]);
        return new IteratorObject(dict.keys());
      case "clear":
        one([]);
        return void dict.clear();
      case "copy":
        one([]);
        return dictCopy(dict);
      case "get": {
        const [key, fallback] = one([["key", REQUIRED], ["default", null]]);
        return dict.get(ctx, key, fallback);
      }
      case "items":
        one([]);
        return dict.entries().map(([k, v]) => tuple(k, v));
      case "keys":
        one([]);
        return dict.keys();
      case "values":
        one([]);
        return dict.values();
      case "pop": {
        if (args.length < 1 || args.length > 2 || kwds.size > 0) {
          throw new PyException("TypeError", ["pop expected 1 or 2 arguments"]);
        }
        const key = args[0];
        if (dict.has(ctx, key)) return dict.pop(ctx, key);
        if (args.length === 2) return args[1];
        throw new PyException("KeyError", [key]);
      }
      case "popitem": {
        one([]);
        const last = dict.entries().at(-1);
        if (last === undefined) {
          throw new PyException("KeyError", ["popitem(): dictionary is empty"]);
        }
        dict.delete(ctx, last[0]);
        return tuple(last[0], last[1]);
      }
      case "setdefault": {
        const [key, fallback] = one([["key", REQUIRED], ["default", null]]);
        return dict.setdefault(ctx, key, fallback);
      }
      case "update": {
        if (args.length > 1) {
          throw new PyException("TypeError", [
            `update expected at most 1 argument, got ${args.length}`,
          ]);
        }
        const pairs = args.length === 1 ? updatePairs(args[0]) : [];
        for (const pair of kwds) pairs.push(pair);
        dict.update(ctx, pairs);
        return null;
      }
    }
    return unknownMethod(method, "dict");
  },
  value: (object) => dictCopy(object as DictObject),
  repr: (object) => pyRepr(dictCopy(object as DictObject)),
};

// ---------------------------------------------------------------------------
// Namespace and Value

function namespaceRepr(ns: NamespaceObject): string {
  const fields = Object.entries(ns.toObject())
    .filter(([name]) => !name.startsWith("_"))
    .map(([name, value]) => `${name}=${pyRepr(value)}`)
    .sort();
  return `Namespace(${fields.join(", ")})`;
}

const NAMESPACE: PyAdapter = {
  exposed: ["__getattribute__", "__setattr__", "__delattr__"],
  call(object, method, args, kwds, ctx) {
    const ns = object as NamespaceObject;
    const name =
      bind(method, args.slice(0, 1), NO_KWDS, [["name", REQUIRED]])[0];
    if (typeof name !== "string") {
      throw new PyException("TypeError", ["attribute name must be string"]);
    }
    if (kwds.size > 0) {
      throw new PyException("TypeError", [
        `${method}() takes no keyword arguments`,
      ]);
    }
    switch (method) {
      case "__getattribute__":
        if (!ns.has(ctx, name)) {
          throw new PyException("AttributeError", [
            `'Namespace' object has no attribute '${name}'`,
          ]);
        }
        return ns.get(ctx, name);
      case "__setattr__":
        if (args.length !== 2) {
          throw new PyException("TypeError", ["expected 2 arguments"]);
        }
        return void ns.set(ctx, name, args[1]);
      case "__delattr__":
        if (!ns.delete(ctx, name)) {
          throw new PyException("AttributeError", [name]);
        }
        return null;
    }
    return unknownMethod(method, "Namespace");
  },
  value: (object) => (object as NamespaceObject).toObject(),
  repr: (object) => namespaceRepr(object as NamespaceObject),
};

/** Typecodes of Values created by Python clients (for their repr). */
const typecodes = new WeakMap<object, unknown>();

const VALUE: PyAdapter = {
  exposed: ["get", "set"],
  call(object, method, args, kwds, ctx) {
    const value = object as ValueObject;
    if (method === "get") {
      bind(method, args, kwds, []);
      return value.get();
    }
    if (method === "set") {
      return void value.set(
        ctx,
        bind(method, args, kwds, [["value", REQUIRED]])[0],
      );
    }
    return unknownMethod(method, "Value");
  },
  value: (object) => (object as ValueObject).get(),
  repr: (object) =>
    `Value(${pyRepr(typecodes.get(object) ?? null)}, ${
      pyRepr((object as ValueObject).get())
    })`,
};

/** A snapshot iterator (what `iter(dict_proxy)` gets). */
export class IteratorObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set();
  #items: unknown[];
  #next = 0;
  constructor(items: unknown[]) {
    super();
    this.#items = items;
  }
  next(): unknown {
    if (this.#next >= this.#items.length) {
      throw new PyException("StopIteration", []);
    }
    return this.#items[this.#next++];
  }
  close(): void {
    this.#next = this.#items.length;
  }
}

const ITERATOR: PyAdapter = {
  exposed: ["__next__", "send", "throw", "close"],
  call(object, method) {
    const iterator = object as IteratorObject;
    switch (method) {
      case "__next__":
      case "send":
        return iterator.next();
      case "close":
        return void iterator.close();
      case "throw":
        iterator.close();
        throw new PyException("RuntimeError", ["iterator was thrown into"]);
    }
    return unknownMethod(method, "iterator");
  },
  value: () => null,
  repr: () => "<iterator object>",
};

/** The adapter for a container object, or undefined. */
export function containerAdapter(object: object): PyAdapter | undefined {
  return adapterIn(CONTAINERS, object);
}

const CONTAINERS: AdapterTable = [
  [DictObject, DICT],
  [ListObject, LIST],
  [NamespaceObject, NAMESPACE],
  [ValueObject, VALUE],
  [ArrayObject, ARRAY],
  [IteratorObject, ITERATOR],
];

/** `create` for the container typeids of `SyncManager`. */
export function createContainer(
  typeid: string,
  args: unknown[],
  kwds: Kwds,
): PyCreated | undefined {
  switch (typeid) {
    case "dict": {
      if (args.length > 1) {
        throw new PyException("TypeError", [
          `dict expected at most 1 argument, got ${args.length}`,
        ]);
      }
      const dict = new DictObject();
      const pairs = args.length === 1 ? updatePairs(args[0]) : [];
      for (const pair of kwds) pairs.push(pair);
      dict.update(undefined, pairs);
      return { typeid: "dict", object: dict, methods: DictObject.methods };
    }
    case "list": {
      const [iterable] = bind("list", args, kwds, [["iterable", []]]);
      return {
        typeid: "list",
        object: new ListObject([...iterate(iterable)]),
        methods: ListObject.methods,
      };
    }
    case "Namespace": {
      if (args.length > 0) {
        throw new PyException("TypeError", [
          "Namespace() takes no positional arguments",
        ]);
      }
      return {
        typeid: "Namespace",
        object: new NamespaceObject(Object.fromEntries(kwds)),
        methods: NamespaceObject.methods,
      };
    }
    case "Value": {
      const [typecode, value] = bind("Value", args, kwds, [
        ["typecode", REQUIRED],
        ["value", REQUIRED],
        ["lock", true],
      ]);
      const object = new ValueObject(value);
      typecodes.set(object, typecode);
      return { typeid: "Value", object, methods: ValueObject.methods };
    }
    case "Array": {
      const [typecode, sequence] = bind("Array", args, kwds, [
        ["typecode", REQUIRED],
        ["sequence", REQUIRED],
        ["lock", true],
      ]);
      if (typeof typecode !== "string") {
        throw new PyException("TypeError", ["typecode must be a str"]);
      }
      let items: unknown[];
      if (typeof sequence === "number") {
        if (!Number.isSafeInteger(sequence) || sequence < 0) {
          throw new PyException("ValueError", ["negative or bad array size"]);
        }
        if (sequence > MAX_RANGE) {
          throw new PyException("MemoryError", []);
        }
        items = new Array(sequence).fill(0);
      } else {
        items = iterate(sequence);
      }
      return {
        typeid: "Array",
        object: new ArrayObject(typecode, items),
        methods: ArrayObject.methods,
      };
    }
  }
  return undefined;
}
