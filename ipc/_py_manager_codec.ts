/**
 * Pickles of Python's `multiprocessing.managers` protocol (private): the
 * allow-list of globals a manager request or reply may name, Python
 * exceptions both ways, `Token`, `slice`, `range` and proxies passed as
 * arguments.
 *
 * Nothing named on the wire is imported or called: each allowed global
 * decodes to an inert value of this file (`PyException`, `TokenValue`,
 * `PySlice`, `ProxyRef`) or to plain data; any other global rejects the
 * whole message (`UnpicklingError`).
 *
 * @module
 */

import { BrokenBarrierError } from "../concurrency/barrier.ts";
import { QueueEmpty, QueueFull } from "../concurrency/queue_errors.ts";
import { dumps, type GlobalHandler, loads } from "./pickle.ts";
import { PyGlobal, PyReduce, Tuple, tuple } from "./pickle_values.ts";
import { pyRepr } from "./_py_values.ts";
import { RemoteError } from "./manager_error.ts";

/** Largest `range(...)` a request may expand into a list. */
export const MAX_RANGE = 4_000_000;

const MANAGERS = "multiprocessing.managers";

/** The exceptions a manager may raise or receive, by pickle key. */
const EXCEPTIONS: readonly string[] = [
  "builtins KeyError",
  "builtins IndexError",
  "builtins ValueError",
  "builtins TypeError",
  "builtins AttributeError",
  "builtins RuntimeError",
  "builtins StopIteration",
  "builtins AssertionError",
  "builtins LookupError",
  "builtins ZeroDivisionError",
  "builtins OverflowError",
  "builtins NotImplementedError",
  "builtins TimeoutError",
  "builtins PermissionError",
  "builtins EOFError",
  "builtins Exception",
  "_queue Empty",
  "queue Empty",
  "queue Full",
  "threading BrokenBarrierError",
  `${MANAGERS} RemoteError`,
];

/** Proxy types a client may name when it passes a proxy as an argument. */
const PROXY_TYPES: readonly string[] = [
  "AutoProxy",
  "BaseProxy",
  "AcquirerProxy",
  "ConditionProxy",
  "EventProxy",
  "BarrierProxy",
  "NamespaceProxy",
  "ValueProxy",
  "ListProxy",
  "BaseListProxy",
  "DictProxy",
  "ArrayProxy",
  "IteratorProxy",
  "PoolProxy",
];

/** A Python exception: raised to a client (`#ERROR`) or received from a server. */
export class PyException extends Error {
  /** `module name` of its class, e.g. `"builtins KeyError"`. */
  readonly key: string;
  /** Its `args`. */
  readonly args: unknown[];

  /** `PyException("KeyError", ["x"])`: builtins unless `module` says. */
  constructor(name: string, args: unknown[] = [], module = "builtins") {
    super(
      args.length === 0
        ? name
        : args.length === 1 && typeof args[0] === "string"
        ? args[0]
        : args.map((a) => pyRepr(a)).join(", "),
    );
    this.name = name;
    this.key = `${module} ${name}`;
    this.args = args;
  }
}

/** A decoded `slice(start, stop, step)`. */
export class PySlice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}

/** A decoded `multiprocessing.managers.Token`. */
export class TokenValue {
  typeid: unknown;
  address: unknown;
  id: unknown;
  constructor(typeid?: unknown, address?: unknown, id?: unknown) {
    this.typeid = typeid;
    this.address = address;
    this.id = id;
  }
}

/** A proxy passed as an argument (`RebuildProxy(func, token, ...)`), kept inert. */
export class ProxyRef {
  constructor(
    readonly func: PyGlobal,
    readonly token: TokenValue,
    readonly serializer: unknown,
    readonly kwds: unknown,
  ) {}
}

function exceptionHandler(key: string): GlobalHandler {
  const [module, name] = key.split(" ");
  return {
    reduce: (args) => new PyException(name, [...args], module),
    build: (obj) => obj,
  };
}

const GLOBALS: Record<string, GlobalHandler> = {
  "builtins slice": (args) => new PySlice(args[0], args[1], args[2]),
  "builtins range": (args) => {
    const [a, b, c] = args.map((v) => (typeof v === "number" ? v : NaN));
    const [start, stop, step] = args.length === 1
      ? [0, a, 1]
      : [a, b, args.length > 2 ? c : 1];
    if (![start, stop, step].every(Number.isSafeInteger) || step === 0) {
      throw new TypeError("Cannot expand range: bad bounds");
    }
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count > MAX_RANGE) {
      throw new RangeError(
        `Cannot expand range: ${count} items exceeds ${MAX_RANGE}`,
      );
    }
    return Array.from({ length: count }, (_, i) => start + i * step);
  },
  // A dict view or a list rebuilt by `list(...)` (Python's manager sends views so).
  "builtins list": (args) => Array.from(args[0] as unknown[] ?? []),
  [`${MANAGERS} Token`]: {
    newobj: () => new TokenValue(),
    build: (obj, state) => {
      const token = obj as TokenValue;
      if (!Array.isArray(state) || state.length !== 3) {
        throw new TypeError("Cannot rebuild Token: bad state");
      }
      [token.typeid, token.address, token.id] = state;
      return token;
    },
  },
  // A Python manager's Namespace, as `_getvalue()` returns it: its fields.
  [`${MANAGERS} Namespace`]: {
    newobj: () => ({}),
    build: (obj, state) => {
      const fields = state instanceof Map ? Object.fromEntries(state) : state;
      if (typeof fields !== "object" || fields === null) {
        throw new TypeError("Cannot rebuild Namespace: bad state");
      }
      return Object.assign(obj as object, fields);
    },
  },
  [`${MANAGERS} RebuildProxy`]: (args) => {
    const [func, token, serializer, kwds] = args;
    if (!(func instanceof PyGlobal) || !(token instanceof TokenValue)) {
      throw new TypeError("Cannot rebuild proxy: bad arguments");
    }
    const ref = new ProxyRef(func, token, serializer, kwds);
    decodedRefs?.push(ref);
    return ref;
  },
};
for (const key of EXCEPTIONS) GLOBALS[key] = exceptionHandler(key);
for (const name of PROXY_TYPES) GLOBALS[`${MANAGERS} ${name}`] = true;

/** Proxies met while decoding the current message (see `loadMessage`). */
let decodedRefs: ProxyRef[] | undefined;

/**
 * Decodes one pickle of the protocol with its allow-list. `refs`, if
 * given, receives every proxy passed inside it (a managed object stored in
 * another one).
 */
export function loadMessage(
  bytes: Uint8Array,
  maxSize?: number,
  refs?: ProxyRef[],
): unknown {
  decodedRefs = refs;
  try {
    return loads(bytes, { globals: GLOBALS, maxSize });
  } finally {
    decodedRefs = undefined;
  }
}

/** `Token(typeid, address, id)` as Python pickles it. */
export function tokenReduce(token: TokenValue): PyReduce {
  return new PyReduce(new PyGlobal(MANAGERS, "Token"), [], {
    newobj: true,
    state: tuple(token.typeid, token.address, token.id),
  });
}

/** Turns inert decoded values back into what pickles them the same way. */
function prepare(value: unknown, depth = 0): unknown {
  if (depth > 200 || typeof value !== "object" || value === null) return value;
  if (value instanceof PyException) {
    const [module, name] = value.key.split(" ");
    return new PyReduce(new PyGlobal(module, name), value.args);
  }
  if (value instanceof TokenValue) return tokenReduce(value);
  if (value instanceof PySlice) {
    return new PyReduce(new PyGlobal("builtins", "slice"), [
      value.start,
      value.stop,
      value.step,
    ]);
  }
  if (value instanceof ProxyRef) {
    return new PyReduce(new PyGlobal(MANAGERS, "RebuildProxy"), [
      value.func,
      tokenReduce(value.token),
      value.serializer,
      value.kwds,
    ]);
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = prepare(value[i], depth + 1);
      if (item !== value[i]) (out ??= [...value])[i] = item;
    }
    if (out === undefined) return value;
    return value instanceof Tuple ? tuple(...out) : out;
  }
  if (value instanceof Map) {
    let changed = false;
    const pairs = [...value].map(([k, v]) => {
      const pk = prepare(k, depth + 1);
      const pv = prepare(v, depth + 1);
      if (pk !== k || pv !== v) changed = true;
      return [pk, pv] as [unknown, unknown];
    });
    return changed ? new Map(pairs) : value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const pv = prepare(v, depth + 1);
      if (pv !== v) (out ??= { ...value })[k] = pv;
    }
    return out ?? value;
  }
  return value;
}

/** Encodes one message (`tuple(kind, value)` or a request tuple). */
export function dumpMessage(message: unknown[]): Uint8Array {
  return dumps(prepare(tuple(...message)));
}

const PY_NAMES: ReadonlySet<string> = new Set(
  EXCEPTIONS.filter((k) => k.startsWith("builtins ")).map((k) => k.slice(9)),
);

/**
 * The Python exception a weft error stands for when sent to a Python
 * client: a `PyException` as is; weft's queue and barrier errors as
 * `queue.Empty`, `queue.Full`, `threading.BrokenBarrierError`; `TypeError`
 * as TypeError, `RangeError` as ValueError; an error named after a Python
 * built-in exception as that exception; anything else as RuntimeError.
 * Only the message crosses, never a stack.
 */
export function toPyException(error: unknown): PyException {
  if (error instanceof PyException) return error;
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof QueueEmpty || name === "QueueEmpty") {
    return new PyException("Empty", [], "_queue");
  }
  if (error instanceof QueueFull || name === "QueueFull") {
    return new PyException("Full", [], "queue");
  }
  if (error instanceof BrokenBarrierError || name === "BrokenBarrierError") {
    return new PyException("BrokenBarrierError", [], "threading");
  }
  if (name === "RangeError") return new PyException("ValueError", [message]);
  if (PY_NAMES.has(name)) return new PyException(name, [message]);
  return new PyException(
    name === "TypeError" ? "TypeError" : "RuntimeError",
    [message],
  );
}

/**
 * The weft error for a Python exception received from a Python manager:
 * `queue.Empty` / `queue.Full` / `BrokenBarrierError` become
 * `concurrency`'s classes, anything else a `RemoteError` named after the
 * Python class (`remoteName` `"KeyError"`...).
 */
export function fromPyException(error: PyException): Error {
  const cause = new RemoteError({ name: error.name, message: error.message });
  switch (error.key) {
    case "_queue Empty":
    case "queue Empty":
      return new QueueEmpty("Cannot get from queue: it is empty", { cause });
    case "queue Full":
      return new QueueFull("Cannot put into queue: it is full", { cause });
    case "threading BrokenBarrierError":
      return new BrokenBarrierError("Cannot pass barrier: it is broken", {
        cause,
      });
  }
  return cause;
}
