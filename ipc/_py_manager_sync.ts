/**
 * Python's queue and synchronisation proxies served from weft objects
 * (private): what `AutoProxy[Queue]`, `AcquirerProxy`, `ConditionProxy`,
 * `EventProxy` and `BarrierProxy` call, on the same `QueueObject`,
 * `LockObject`... weft's own clients use, so a Python process and a Deno
 * process contend on one lock. Timeouts arrive in seconds; errors are
 * CPython's (`queue.Empty`, `RuntimeError('release unlocked lock')`,
 * `threading.BrokenBarrierError`...). Also the adapter of registered weft
 * classes (their public methods, positional arguments only).
 *
 * @module
 */

import { QueueObject } from "./_manager_queue.ts";
import {
  BarrierObject,
  ConditionObject,
  EventObject,
  LockObject,
  RLockObject,
  SemaphoreObject,
} from "./_manager_sync.ts";
import {
  adapterIn,
  type AdapterTable,
  bind,
  type Kwds,
  REQUIRED,
  toIndex,
  waitOptions,
} from "./_py_manager_args.ts";
import { ProxyRef, PyException } from "./_py_manager_codec.ts";
import type { PyAdapter, PyCreated } from "./_py_manager_containers.ts";
import { pyRepr } from "./_py_values.ts";

function unknownMethod(method: string, type: string): never {
  throw new PyException("AttributeError", [
    `'${type}' object has no attribute '${method}'`,
  ]);
}

/** Runs `work`, turning a weft TypeError into Python's `name(message)`. */
function asPython<T>(work: () => T, name: string, message: string): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof TypeError) throw new PyException(name, [message]);
    throw error;
  }
}

function acquireArgs(method: string, args: unknown[], kwds: Kwds) {
  const [blocking, timeout] = bind(method, args, kwds, [
    ["blocking", true],
    ["timeout", null],
  ]);
  return waitOptions(blocking, timeout);
}

// ---------------------------------------------------------------------------
// Queue

const QUEUE: PyAdapter = {
  exposed: [
    "empty",
    "full",
    "get",
    "get_nowait",
    "join",
    "put",
    "put_nowait",
    "qsize",
    "task_done",
  ],
  async call(object, method, args, kwds, ctx) {
    const queue = object as QueueObject;
    switch (method) {
      case "put": {
        const [item, block, timeout] = bind(method, args, kwds, [
          ["item", REQUIRED],
          ["block", true],
          ["timeout", null],
        ]);
        const options = waitOptions(block, timeout);
        if (options.blocking === false) return void queue.putNowait(ctx, item);
        return void await queue.put(ctx, item, options);
      }
      case "put_nowait":
        return void queue.putNowait(
          ctx,
          bind(method, args, kwds, [["item", REQUIRED]])[0],
        );
      case "get": {
        const [block, timeout] = bind(method, args, kwds, [
          ["block", true],
          ["timeout", null],
        ]);
        const options = waitOptions(block, timeout);
        if (options.blocking === false) return queue.getNowait();
        return await queue.get(ctx, options);
      }
      case "get_nowait":
        bind(method, args, kwds, []);
        return queue.getNowait();
      case "qsize":
        bind(method, args, kwds, []);
        return queue.qsize();
      case "empty":
        bind(method, args, kwds, []);
        return queue.empty();
      case "full":
        bind(method, args, kwds, []);
        return queue.full();
      case "task_done":
        bind(method, args, kwds, []);
        return asPython(
          () => void queue.taskDone(),
          "ValueError",
          "task_done() called too many times",
        );
      case "join":
        bind(method, args, kwds, []);
        await queue.join(ctx);
        return null;
    }
    return unknownMethod(method, "Queue");
  },
  value: () => null,
  repr: () => "<queue.Queue object>",
};

// ---------------------------------------------------------------------------
// Locks and semaphores

/** Lock and RLock as Python sees them: `typeName` in reprs and errors. */
function lockAdapter(typeName: string, notHeld: string): PyAdapter {
  return {
    exposed: ["acquire", "release"],
    call(object, method, args, kwds, ctx) {
      const lock = object as LockObject | RLockObject;
      if (method === "acquire") {
        return lock.acquire(ctx, acquireArgs(method, args, kwds));
      }
      if (method === "release") {
        bind(method, args, kwds, []);
        return asPython(() => void lock.release(ctx), "RuntimeError", notHeld);
      }
      return unknownMethod(method, typeName);
    },
    value: () => null,
    repr: (object) =>
      `<${
        (object as LockObject | RLockObject).locked() ? "locked" : "unlocked"
      } ${typeName} object>`,
  };
}

const LOCK = lockAdapter("_thread.lock", "release unlocked lock");
const RLOCK = lockAdapter("_thread.RLock", "cannot release un-acquired lock");

const SEMAPHORE: PyAdapter = {
  exposed: ["acquire", "release"],
  call(object, method, args, kwds, ctx) {
    const semaphore = object as SemaphoreObject;
    if (method === "acquire") {
      return semaphore.acquire(ctx, acquireArgs(method, args, kwds));
    }
    if (method === "release") {
      const [n] = bind(method, args, kwds, [["n", 1]]);
      const count = toIndex(n, "n");
      if (count < 1) {
        throw new PyException("ValueError", ["n must be one or more"]);
      }
      return asPython(
        () => void semaphore.release(ctx, count),
        "ValueError",
        "Semaphore released too many times",
      );
    }
    return unknownMethod(method, "Semaphore");
  },
  value: () => null,
  repr: (object) =>
    `<threading.Semaphore value=${(object as SemaphoreObject).value()}>`,
};

// ---------------------------------------------------------------------------
// Event, Condition, Barrier

const EVENT: PyAdapter = {
  exposed: ["is_set", "set", "clear", "wait"],
  call(object, method, args, kwds, ctx) {
    const event = object as EventObject;
    switch (method) {
      case "is_set":
        bind(method, args, kwds, []);
        return event.isSet();
      case "set":
        bind(method, args, kwds, []);
        return void event.set();
      case "clear":
        bind(method, args, kwds, []);
        return void event.clear();
      case "wait": {
        const [timeout] = bind(method, args, kwds, [["timeout", null]]);
        return event.wait(ctx, waitOptions(true, timeout));
      }
    }
    return unknownMethod(method, "Event");
  },
  value: () => null,
  repr: (object) =>
    `<threading.Event: ${(object as EventObject).isSet() ? "set" : "unset"}>`,
};

const CONDITION: PyAdapter = {
  exposed: ["acquire", "release", "wait", "notify", "notify_all"],
  async call(object, method, args, kwds, ctx) {
    const condition = object as ConditionObject;
    switch (method) {
      case "acquire":
        return await condition.acquire(ctx, acquireArgs(method, args, kwds));
      case "release":
        bind(method, args, kwds, []);
        return asPython(
          () => void condition.release(ctx),
          "RuntimeError",
          "cannot release un-acquired lock",
        );
      case "wait": {
        const [timeout] = bind(method, args, kwds, [["timeout", null]]);
        const options = waitOptions(true, timeout);
        const waiting = asPython(
          () => condition.wait(ctx, options),
          "RuntimeError",
          "cannot wait on un-acquired lock",
        );
        return await waiting.catch((error) => {
          if (error instanceof TypeError) {
            throw new PyException("RuntimeError", [
              "cannot wait on un-acquired lock",
            ]);
          }
          throw error;
        });
      }
      case "notify":
      case "notify_all": {
        const [n] = method === "notify"
          ? bind(method, args, kwds, [["n", 1]])
          : [bind(method, args, kwds, []).length];
        return asPython(
          () =>
            void (method === "notify"
              ? condition.notify(ctx, toIndex(n, "n"))
              : condition.notifyAll(ctx)),
          "RuntimeError",
          "cannot notify on un-acquired lock",
        );
      }
    }
    return unknownMethod(method, "Condition");
  },
  value: () => null,
  repr: () => "<Condition object>",
};

/** Default wait timeouts of Barriers created by Python clients (seconds). */
const barrierTimeouts = new WeakMap<object, unknown>();

const BARRIER: PyAdapter = {
  exposed: ["__getattribute__", "wait", "abort", "reset"],
  call(object, method, args, kwds, ctx) {
    const barrier = object as BarrierObject;
    switch (method) {
      case "wait": {
        const [timeout] = bind(method, args, kwds, [["timeout", null]]);
        const seconds = timeout ?? barrierTimeouts.get(object) ?? null;
        return barrier.wait(ctx, waitOptions(true, seconds));
      }
      case "abort":
        bind(method, args, kwds, []);
        return void barrier.abort();
      case "reset":
        bind(method, args, kwds, []);
        return void barrier.reset();
      case "__getattribute__": {
        const [name] = bind(method, args, kwds, [["name", REQUIRED]]);
        if (name === "parties") return barrier.parties();
        if (name === "n_waiting") return barrier.nWaiting();
        if (name === "broken") return barrier.broken();
        throw new PyException("AttributeError", [
          `'Barrier' object has no attribute ${pyRepr(name)}`,
        ]);
      }
    }
    return unknownMethod(method, "Barrier");
  },
  value: () => null,
  repr: (object) =>
    `<threading.Barrier parties=${(object as BarrierObject).parties()}>`,
};

/** The adapter for a queue or synchronisation object, or undefined. */
export function syncAdapter(object: object): PyAdapter | undefined {
  return adapterIn(SYNC, object);
}

const SYNC: AdapterTable = [
  [QueueObject, QUEUE],
  [LockObject, LOCK],
  [RLockObject, RLOCK],
  [SemaphoreObject, SEMAPHORE],
  [EventObject, EVENT],
  [ConditionObject, CONDITION],
  [BarrierObject, BARRIER],
];

/**
 * The adapter of an instance of a registered weft class: its public
 * methods, positional arguments only.
 */
export function userAdapter(methods: ReadonlySet<string>): PyAdapter {
  return {
    exposed: [...methods],
    call(object, method, args, kwds) {
      if (kwds.size > 0) {
        throw new PyException("TypeError", [
          `${method}() takes no keyword arguments (a weft class)`,
        ]);
      }
      const target = object as Record<string, (...a: unknown[]) => unknown>;
      return target[method](...args);
    },
    value: () => null,
    repr: (object) => `<${object.constructor?.name ?? "object"} object>`,
  };
}

/**
 * `create` for the queue and synchronisation typeids of `SyncManager`.
 * `resolve` finds the object a proxy argument points at (a Condition's
 * lock).
 */
export function createSync(
  typeid: string,
  args: unknown[],
  kwds: Kwds,
  resolve: (ref: ProxyRef) => object | undefined,
): PyCreated | undefined {
  switch (typeid) {
    case "Queue":
    case "JoinableQueue": {
      const [maxsize] = bind(typeid, args, kwds, [["maxsize", 0]]);
      const size = Math.max(0, toIndex(maxsize, "maxsize"));
      return {
        typeid: "Queue",
        object: new QueueObject({ maxsize: size }),
        methods: QueueObject.methods,
      };
    }
    case "Lock":
      bind(typeid, args, kwds, []);
      return { typeid, object: new LockObject(), methods: LockObject.methods };
    case "RLock":
      bind(typeid, args, kwds, []);
      return {
        typeid,
        object: new RLockObject(),
        methods: RLockObject.methods,
      };
    case "Semaphore":
    case "BoundedSemaphore": {
      const [value] = bind(typeid, args, kwds, [["value", 1]]);
      const count = toIndex(value, "value");
      if (count < 0) {
        throw new PyException("ValueError", [
          "semaphore initial value must be >= 0",
        ]);
      }
      return {
        typeid: "Semaphore",
        object: new SemaphoreObject(count, typeid === "BoundedSemaphore"),
        methods: SemaphoreObject.methods,
      };
    }
    case "Event":
      bind(typeid, args, kwds, []);
      return {
        typeid,
        object: new EventObject(),
        methods: EventObject.methods,
      };
    case "Condition": {
      const [lock] = bind(typeid, args, kwds, [["lock", null]]);
      let target: object | undefined;
      if (lock !== null) {
        target = lock instanceof ProxyRef ? resolve(lock) : undefined;
        if (!(target instanceof LockObject || target instanceof RLockObject)) {
          throw new PyException("TypeError", [
            "Condition() lock must be a Lock or RLock proxy of this manager",
          ]);
        }
      }
      return {
        typeid,
        object: new ConditionObject(target),
        methods: ConditionObject.methods,
      };
    }
    case "Barrier": {
      const [parties, action, timeout] = bind(typeid, args, kwds, [
        ["parties", REQUIRED],
        ["action", null],
        ["timeout", null],
      ]);
      if (action !== null) {
        throw new PyException("TypeError", [
          "Barrier() action cannot cross to a weft manager (functions are not sent)",
        ]);
      }
      const count = toIndex(parties, "parties");
      if (count < 1) {
        throw new PyException("ValueError", ["parties must be >= 1"]);
      }
      const object = new BarrierObject(count);
      if (timeout !== null) barrierTimeouts.set(object, timeout);
      return { typeid, object, methods: BarrierObject.methods };
    }
  }
  return undefined;
}
