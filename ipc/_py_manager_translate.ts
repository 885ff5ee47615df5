/**
 * weft's proxy methods as the calls CPython's proxies make (private): for a
 * Python manager's `dict`, `list`, `Queue`, `Lock`, `Semaphore`, `Value`,
 * `Event`, `Namespace` and `Barrier`, each weft method becomes the Python
 * method (`dict.set` → `__setitem__`, `queue.get({ timeout })` →
 * `get(True, seconds)`...). Methods Python has no atomic equivalent for
 * reject with a TypeError; a registered Python type's methods pass
 * through by name.
 *
 * @module
 */

import { PySlice } from "./_py_manager_codec.ts";
import { RemoteError } from "./manager_error.ts";

/** A `get`/`pop` default no real value equals (tells "missing" apart). */
export const MISSING = "\u0000weft:missing\u0000";

/** One Python call: method, positional args, keyword args. */
export type Step = [
  method: string,
  args: unknown[],
  kwds?: Record<string, unknown>,
];

/** The TypeError for what a Python manager cannot do. */
export function unsupported(
  typeid: string,
  method: string,
  why: string,
): never {
  throw new TypeError(
    `Cannot call ${method} on a Python manager's ${typeid}: ${why}`,
  );
}

function seconds(ms: unknown): number | null {
  return typeof ms === "number" ? ms / 1000 : null;
}

function waitArgs(options: unknown): [boolean, number | null] {
  const { timeout, blocking } = (options ?? {}) as {
    timeout?: number;
    blocking?: boolean;
  };
  return [blocking !== false, blocking === false ? null : seconds(timeout)];
}

export function toDict(source: unknown): unknown {
  if (Array.isArray(source)) return new Map(source as [unknown, unknown][]);
  return source ?? {};
}

/** One weft method as the Python calls the CPython proxy makes. */
export async function translate(
  typeid: string,
  method: string,
  args: unknown[],
  run: (step: Step) => Promise<unknown>,
): Promise<unknown> {
  const [a, b] = args;
  switch (`${typeid}.${method}`) {
    // dict
    case "dict.get": {
      const v = await run(["get", [a, MISSING]]);
      return v === MISSING ? b : v;
    }
    case "dict.set":
      return void await run(["__setitem__", [a, b]]);
    case "dict.delete":
      return await run(["pop", [a, MISSING]]) !== MISSING;
    case "dict.has":
      return await run(["__contains__", [a]]);
    case "dict.keys":
      return await run(["keys", []]);
    case "dict.values":
      return await run(["values", []]);
    case "dict.entries":
      return await run(["items", []]);
    case "dict.size":
      return await run(["__len__", []]);
    case "dict.clear":
      return void await run(["clear", []]);
    case "dict.update":
      return void await run(["update", [toDict(a)]]);
    case "dict.setdefault":
      return await run(["setdefault", [a, b]]);
    case "dict.pop": {
      const v = await run(["pop", [a, MISSING]]);
      return v === MISSING ? b : v;
    }
    // list
    case "list.push":
      await run(["extend", [args]]);
      return await run(["__len__", []]);
    case "list.extend":
      await run(["extend", [a]]);
      return await run(["__len__", []]);
    case "list.pop":
      return await run(["pop", a === undefined ? [] : [a]]);
    case "list.insert":
      await run(["insert", [a, b]]);
      return await run(["__len__", []]);
    case "list.at":
      try {
        return await run(["__getitem__", [a]]);
      } catch (error) {
        if (
          error instanceof RemoteError && error.remoteName === "IndexError"
        ) {
          return undefined;
        }
        throw error;
      }
    case "list.set":
      return void await run(["__setitem__", [a, b]]);
    case "list.slice":
      return await run(["__getitem__", [
        new PySlice(a ?? null, b ?? null, null),
      ]]);
    case "list.length":
      return await run(["__len__", []]);
    case "list.toArray":
      return await run(["__getitem__", [new PySlice(null, null, null)]]);
    case "list.clear":
      return void await run(["__delitem__", [new PySlice(null, null, null)]]);
    case "list.indexOf":
      try {
        return await run(["index", [a]]);
      } catch (error) {
        if (
          error instanceof RemoteError && error.remoteName === "ValueError"
        ) {
          return -1;
        }
        throw error;
      }
    // Queue
    case "Queue.put":
      return void await run(["put", [a, ...waitArgs(b)]]);
    case "Queue.get":
      return await run(["get", waitArgs(a)]);
    case "Queue.putNowait":
      return void await run(["put_nowait", [a]]);
    case "Queue.getNowait":
      return await run(["get_nowait", []]);
    case "Queue.qsize":
    case "Queue.empty":
    case "Queue.full":
      return await run([method, []]);
    case "Queue.taskDone":
      return void await run(["task_done", []]);
    case "Queue.join":
      if ((a as { timeout?: number } | undefined)?.timeout !== undefined) {
        unsupported(typeid, method, "Python's Queue.join has no timeout");
      }
      await run(["join", []]);
      return true;
    // Lock and Semaphore
    case "Lock.acquire":
    case "Semaphore.acquire": {
      const [blocking, timeout] = waitArgs(a);
      return await run([
        "acquire",
        timeout === null ? [blocking] : [blocking, timeout],
      ]);
    }
    case "Lock.release":
    case "Semaphore.release":
      return void await run(["release", []]);
    case "Lock.locked": {
      // AcquirerProxy exposes no `locked`: probe without waiting.
      if (await run(["acquire", [false]])) {
        await run(["release", []]);
        return false;
      }
      return true;
    }
    // Value
    case "Value.get":
      return await run(["get", []]);
    case "Value.set":
      return void await run(["set", [a]]);
    // Event
    case "Event.set":
      return void await run(["set", []]);
    case "Event.clear":
      return void await run(["clear", []]);
    case "Event.isSet":
      return await run(["is_set", []]);
    case "Event.wait":
      return await run(["wait", [waitArgs(a)[1]]]);
    // Namespace
    case "Namespace.get":
    case "Namespace.has":
      try {
        const v = await run(["__getattribute__", [a]]);
        return method === "has" ? true : v;
      } catch (error) {
        if (
          error instanceof RemoteError &&
          error.remoteName === "AttributeError"
        ) {
          return method === "has" ? false : undefined;
        }
        throw error;
      }
    case "Namespace.set":
      return void await run(["__setattr__", [a, b]]);
    case "Namespace.delete":
      try {
        await run(["__delattr__", [a]]);
        return true;
      } catch (error) {
        if (
          error instanceof RemoteError &&
          error.remoteName === "AttributeError"
        ) {
          return false;
        }
        throw error;
      }
    case "Namespace.toObject":
      return await run(["#GETVALUE", []]);
    case "Namespace.update":
      for (const [k, v] of Object.entries(a as object)) {
        await run(["__setattr__", [k, v]]);
      }
      return;
    // Barrier
    case "Barrier.wait":
      return await run(["wait", [waitArgs(a)[1]]]);
    case "Barrier.reset":
    case "Barrier.abort":
      return void await run([method, []]);
    case "Barrier.broken":
    case "Barrier.parties":
      return await run(["__getattribute__", [method]]);
    case "Barrier.nWaiting":
      return await run(["__getattribute__", ["n_waiting"]]);
  }
  const builtin = [
    "dict",
    "list",
    "Queue",
    "Lock",
    "Semaphore",
    "Value",
    "Event",
    "Namespace",
    "Barrier",
  ];
  if (builtin.includes(typeid)) {
    unsupported(
      typeid,
      method,
      "Python's proxy has no atomic equivalent (guard a get and a set with a Lock)",
    );
  }
  // A registered Python type: the method as named, positional arguments.
  return await run([method, args]);
}
