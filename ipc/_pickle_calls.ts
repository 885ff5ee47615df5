// The unpickler's calls: how REDUCE, INST, OBJ, NEWOBJ(_EX), BUILD and
// BYTEARRAY8 run the handler the allow-list gives a global (never anything
// imported or called by name). The stack machine (_pickle_reader.ts) pops
// the operands and pushes what these return.

import { PyGlobal, PyReduce } from "./pickle_values.ts";
import {
  type _Context,
  type _Handler,
  type _ReadOptions,
  describe,
  fail,
  isPlainObject,
  shown,
} from "./_pickle_common.ts";
import { UnpicklingError } from "./pickle_error.ts";

/** One unpickling's calls (it remembers which results take BUILD state). */
export class _Calls {
  #options: _ReadOptions;
  #built: Map<object, _Handler> | null = null; // BUILD handler of each result

  constructor(options: _ReadOptions) {
    this.#options = options;
  }

  /** REDUCE, INST and OBJ: `callable(*args)`, the value to push. */
  call(callable: unknown, args: unknown, what: string, ctx: _Context): unknown {
    const [g, handler] = this.#handler(callable, what);
    if (!Array.isArray(args)) fail(`${what} arguments must be a tuple`);
    let value: unknown;
    if (handler.inert) value = new PyReduce(g, args);
    else if (handler.reduce) {
      value = this.#run(g, () => handler.reduce!(args, ctx));
    } else fail(`global ${shown(String(g))} cannot be called`);
    return this.#result(value, handler);
  }

  /** NEWOBJ and NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
  newobj(cls: unknown, args: unknown, kwargs: unknown): unknown {
    const [g, handler] = this.#handler(cls, "NEWOBJ");
    if (!Array.isArray(args)) fail("NEWOBJ arguments must be a tuple");
    let kw: Map<string, unknown> | null = null;
    if (kwargs !== null && kwargs !== undefined) {
      kw = kwargs instanceof Map
        ? kwargs
        : isPlainObject(kwargs)
        ? new Map(Object.entries(kwargs))
        : fail("NEWOBJ_EX keyword arguments must be a dict");
      if (kw.size === 0) kw = null;
    }
    let value: unknown;
    if (handler.inert) {
      value = new PyReduce(g, args, { newobj: true, kwargs: kw });
    } else if (handler.newobj) {
      value = this.#run(g, () => handler.newobj!(args, kw));
    } else fail(`global ${shown(String(g))} cannot be created with __new__`);
    return this.#result(value, handler);
  }

  /** BUILD: `state` applied to `target`; returns what replaces `target`. */
  build(target: unknown, state: unknown): unknown {
    if (target instanceof PyReduce) {
      if (target.state !== undefined) fail("BUILD applied twice to one object");
      target.state = state;
      return target;
    }
    const handler = typeof target === "object" && target !== null
      ? this.#built?.get(target)
      : undefined;
    if (!handler?.build) {
      fail(`BUILD on ${describe(target)}, which takes no state`);
    }
    const value = handler.build(target, state);
    return value === undefined ? null : value;
  }

  /** Runs the allow-listed handler `key` on one argument (BYTEARRAY8). */
  call0(key: string, arg: unknown, ctx: _Context): unknown {
    const handler = this.#options.lookup(key);
    if (!handler?.reduce) {
      fail(`global ${shown(key.replace(" ", "."))} is not allowed`);
    }
    return handler.reduce([arg], ctx);
  }

  #handler(callable: unknown, what: string): [PyGlobal, _Handler] {
    if (!(callable instanceof PyGlobal)) {
      fail(
        `${what} needs an allowed global to call, got ${describe(callable)}`,
      );
    }
    // A PyGlobal on the stack came from resolve() — unless a handler returned
    // one: check again.
    const handler = this.#options.lookup(callable.key);
    if (handler === undefined) {
      fail(`global ${shown(String(callable))} is not allowed`);
    }
    return [callable, handler];
  }

  #run(g: PyGlobal, fn: () => unknown): unknown {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UnpicklingError) throw error;
      fail(
        `${shown(String(g))} rejected its arguments: ${
          (error as Error)?.message ?? error
        }`,
        error,
      );
    }
  }

  #result(value: unknown, handler: _Handler): unknown {
    if (value === undefined) value = null;
    if (typeof value === "object" && value !== null && handler.build) {
      (this.#built ??= new Map()).set(value, handler);
    }
    return value;
  }
}
