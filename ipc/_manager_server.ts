/**
 * The manager server (private): an object store plus a request loop per
 * client connection.
 *
 * - Objects get increasing integer ids; id 0 is the server itself.
 * - Each connection is a {@linkcode Session}. Requests are handled
 *   concurrently (a parked `Queue.get` does not hold up anything else).
 * - When a connection ends, its pending calls abort and every lock or permit
 *   it held is given back.
 * - Objects live until `release(id)` or shutdown; objects created with a
 *   `name` are found again by that name (how separate programs meet).
 * - Unknown object id, unknown method, malformed or oversize request: an
 *   error reply, and the connection keeps serving.
 *
 * @module
 */

import {
  type CallMessage,
  DEFAULT_MAX_FRAME,
  errorInfo,
  type Frame,
  ROOT_ID,
} from "./_manager_protocol.ts";
import { decodeRequest, encodeErr, encodeOk } from "./_manager_codec.ts";
import {
  BUILTIN_TYPES,
  type CallContext,
  ServerObject,
  type Session,
} from "./_manager_objects.ts";
import type { Channel } from "./_manager_transport.ts";
import type { ManagerAddress } from "./_manager_net.ts";
import { isPythonFrame, PyRefs, servePython } from "./_py_manager_server.ts";
import { loadExport, resolveModule } from "../_internal/run_export.ts";

interface UserType {
  readonly ctor: new (...args: unknown[]) => object;
  readonly module: string;
  readonly exportName: string;
}

/** One object the server holds. */
export interface Entry {
  readonly typeid: string;
  readonly object: ServerObject | object;
  readonly methods: ReadonlySet<string>;
  readonly name?: string;
}

interface Pending {
  readonly controller: AbortController;
  readonly objectId: number;
}

/** A client connection being served. */
export interface LiveSession extends Session {
  readonly channel: Channel;
  readonly pending: Map<number, Pending>;
}

/** What `create` answers. */
export interface CreatedInfo {
  id: number;
  typeid: string;
}

const ROOT_METHODS: ReadonlySet<string> = new Set([
  "create",
  "release",
  "register",
  "describe",
  "ping",
  "shutdown",
]);

function abortError(message: string): DOMException {
  return new DOMException(message, "AbortError");
}

/** Public, callable method names of a user class (Python's "exposed"). */
function publicMethods(ctor: new (...args: unknown[]) => object): Set<string> {
  const names = new Set<string>();
  for (
    let proto = ctor.prototype;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === "constructor" || name.startsWith("_")) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof descriptor?.value === "function") names.add(name);
    }
  }
  return names;
}

/**
 * The context of one call. Its `signal` is made on first read: that
 * registers the call (under its call id) so a cancel, a dropped connection
 * or a release can abort it; {@linkcode LazyContext.done} unregisters it.
 */
class LazyContext implements CallContext {
  #controller: AbortController | undefined;
  constructor(
    readonly session: LiveSession,
    readonly id: number,
    readonly objectId: number,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      this.session.pending.set(this.id, {
        controller: this.#controller,
        objectId: this.objectId,
      });
    }
    return this.#controller.signal;
  }

  done(): void {
    const controller = this.#controller;
    if (
      controller !== undefined &&
      this.session.pending.get(this.id)?.controller === controller
    ) {
      this.session.pending.delete(this.id);
    }
  }
}

/** Options of {@linkcode ManagerServer}. */
export interface ServerOptions {
  /** Largest request frame accepted, in bytes. */
  maxFrame?: number;
  /** Called once a client asks for shutdown (after the reply is sent). */
  onShutdown?: () => void;
  /**
   * Send error stacks to clients (default false: a remote client gets the
   * error's name and message only, never the server's stack or paths).
   */
  debug?: boolean;
}

/** Holds the objects and serves any number of channels. */
export class ManagerServer {
  #objects = new Map<number, Entry>();
  #names = new Map<string, number>();
  #types = new Map<string, UserType>();
  #sessions = new Set<LiveSession>();
  #nextObject = 1;
  #nextSession = 1;
  #nextPythonCall = 1;
  #closed = false;
  #options: ServerOptions;
  /** Python clients' reference counts (`_py_manager_server.ts`). */
  readonly pyRefs: PyRefs = new PyRefs();
  /** Where the server listens (for Python `Token`s), once known. */
  address: ManagerAddress | undefined;

  /** Creates an empty server. */
  constructor(options: ServerOptions = {}) {
    this.#options = options;
  }

  /** Largest request frame accepted. */
  get maxFrame(): number {
    return this.#options.maxFrame ?? DEFAULT_MAX_FRAME;
  }

  /** True after {@linkcode ManagerServer.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of live objects (for tests and stats). */
  get objectCount(): number {
    return this.#objects.size;
  }

  /** True if error replies carry stacks (the `debug` option). */
  get debug(): boolean {
    return this.#options.debug ?? false;
  }

  /** The object with id `id`, if alive. */
  lookup(id: number): Entry | undefined {
    return this.#objects.get(id);
  }

  /** The id of the object created under `name`, if any. */
  idByName(name: string): number | undefined {
    return this.#names.get(name);
  }

  /** True if `typeid` is a registered (user) class. */
  hasUserType(typeid: string): boolean {
    return this.#types.has(typeid);
  }

  /** Stores an object built elsewhere (a Python client's); returns its id. */
  adopt(typeid: string, object: object, methods: ReadonlySet<string>): number {
    const id = this.#nextObject++;
    this.#objects.set(id, { typeid, object, methods });
    return id;
  }

  /**
   * A call context for a call of a Python client on object `objectId`:
   * its signal aborts when the connection drops or the object is released.
   * Call `done()` when the call ends.
   */
  pythonCall(
    session: LiveSession,
    objectId: number,
  ): { ctx: CallContext; done(): void } {
    const ctx = new LazyContext(session, this.#nextPythonCall++, objectId);
    return { ctx, done: () => ctx.done() };
  }

  /** Asks the owner to shut the server down (a client's `shutdown`). */
  requestShutdown(): boolean {
    if (this.#options.onShutdown === undefined) return false;
    setTimeout(this.#options.onShutdown, 0);
    return true;
  }

  /**
   * Serves one client channel until it ends. Never rejects: a broken
   * channel just ends the session.
   */
  async serve(channel: Channel): Promise<void> {
    if (this.#closed) {
      channel.close();
      return;
    }
    const session: LiveSession = {
      id: this.#nextSession++,
      holdings: new Set(),
      channel,
      pending: new Map(),
    };
    this.#sessions.add(session);
    try {
      let first: Frame | null;
      try {
        first = await channel.recv();
      } catch {
        first = null;
      }
      if (first === null) return;
      if (isPythonFrame(first)) {
        // A pickled Python request: this connection speaks Python's
        // managers protocol from here on.
        return await servePython(this, session, first);
      }
      this.#handle(session, first.id, first.body, first.oversize ?? 0);
      // Then every frame as it arrives (a view, decoded at once); frames
      // already buffered are handled in one go, so their replies leave
      // together.
      await channel.drain((id, body, oversize) =>
        this.#handle(session, id, body, oversize)
      ).catch(() => {});
    } finally {
      this.#endSession(session);
    }
  }

  #endSession(session: LiveSession): void {
    if (!this.#sessions.delete(session)) return;
    session.channel.close();
    for (const { controller } of session.pending.values()) {
      controller.abort(abortError("The client connection closed"));
    }
    session.pending.clear();
    for (const object of [...session.holdings]) object.dropSession(session);
    session.holdings.clear();
  }

  /** Ends every session and drops every object. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of [...this.#sessions]) this.#endSession(session);
    this.#objects.clear();
    this.#names.clear();
  }

  /** Sends an ok reply carrying `value` (or the error encoding it raised). */
  #ok(session: LiveSession, id: number, value: unknown): void {
    if (session.channel.closed) return;
    let body: Uint8Array;
    try {
      body = encodeOk(value);
    } catch (error) {
      return this.#fail(session, id, error);
    }
    if (body.length + 4 > DEFAULT_MAX_FRAME) {
      return this.#fail(
        session,
        id,
        new RangeError(
          `Cannot send reply: ${body.length} bytes exceeds the ${DEFAULT_MAX_FRAME}-byte cap`,
        ),
      );
    }
    this.#send(session, id, body);
  }

  /** Sends an error reply: name and message, the stack only in debug. */
  #fail(session: LiveSession, id: number, error: unknown): void {
    if (session.channel.closed) return;
    const info = errorInfo(error);
    if (!this.debug) delete info.stack;
    this.#send(session, id, encodeErr(info));
  }

  #send(session: LiveSession, id: number, body: Uint8Array): void {
    try {
      session.channel.send(id, body);
    } catch {
      // the client is gone; its session ends on the next recv
    }
  }

  /** One request frame (`body` is a view: decoded here, never kept). */
  #handle(
    session: LiveSession,
    id: number,
    body: Uint8Array | undefined,
    oversize: number,
  ): void {
    if (body === undefined) {
      return this.#fail(
        session,
        id,
        new RangeError(
          `Cannot accept request: ${oversize} bytes exceeds the ${this.maxFrame}-byte cap`,
        ),
      );
    }
    let request;
    try {
      request = decodeRequest(body);
    } catch (error) {
      return this.#fail(session, id, error);
    }
    if (request.t === "cancel") {
      session.pending.get(id)?.controller.abort(
        abortError("The call was cancelled by the client"),
      );
      return;
    }
    this.#call(session, id, request);
  }

  #call(session: LiveSession, id: number, request: CallMessage): void {
    // Most calls finish synchronously: no AbortController, no extra hops.
    // A waiting method reads `ctx.signal`, which registers the call so a
    // cancel, a dropped connection or a release can abort it.
    const ctx = new LazyContext(session, id, request.o);
    let result: unknown;
    try {
      result = this.#dispatch(ctx, request);
    } catch (error) {
      return this.#fail(session, id, error);
    }
    if (!(result instanceof Promise)) return this.#ok(session, id, result);
    result.then(
      (value) => this.#ok(session, id, value),
      (error) => this.#fail(session, id, error),
    ).finally(() => ctx.done());
  }

  #dispatch(ctx: CallContext, { o, m, a }: CallMessage): unknown {
    if (o === ROOT_ID) {
      if (!ROOT_METHODS.has(m)) {
        throw new TypeError(
          `Cannot call "${m}": the manager has no such method`,
        );
      }
      return this.#root(m, a);
    }
    const entry = this.#objects.get(o);
    if (entry === undefined) {
      throw new TypeError(
        `Cannot call "${m}": object ${o} does not exist (released or never created)`,
      );
    }
    if (!entry.methods.has(m)) {
      throw new TypeError(
        `Cannot call "${m}": a ${entry.typeid} has no such method`,
      );
    }
    const target = entry.object as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    if (entry.object instanceof ServerObject) return target[m](ctx, ...a);
    return target[m](...a);
  }

  #root(method: string, args: unknown[]): unknown {
    switch (method) {
      case "create":
        return this.create(
          args[0] as string,
          (args[1] ?? []) as unknown[],
          args[2] as string | undefined,
        );
      case "release":
        return this.release(args[0] as number);
      case "register":
        return this.register(
          args[0] as string,
          args[1] as string,
          args[2] as string,
        );
      case "describe": {
        const entry = this.#objects.get(args[0] as number);
        if (entry === undefined) {
          throw new TypeError(
            `Cannot describe object ${args[0]}: it does not exist`,
          );
        }
        return entry.typeid;
      }
      case "ping":
        return "pong";
      case "shutdown":
        this.requestShutdown();
        return true;
    }
  }

  /** Creates (or, by `name`, finds) an object. */
  create(typeid: string, args: unknown[], name?: string): CreatedInfo {
    if (typeof typeid !== "string") {
      throw new TypeError("Cannot create object: typeid must be a string");
    }
    if (!Array.isArray(args)) {
      throw new TypeError("Cannot create object: args must be an array");
    }
    if (name !== undefined && name !== null) {
      if (typeof name !== "string") {
        throw new TypeError("Cannot create object: name must be a string");
      }
      const existing = this.#names.get(name);
      if (existing !== undefined) {
        const entry = this.#objects.get(existing)!;
        if (entry.typeid !== typeid) {
          throw new TypeError(
            `Cannot create ${typeid} "${name}": that name holds a ${entry.typeid}`,
          );
        }
        return { id: existing, typeid };
      }
    }
    let object: ServerObject | object;
    let methods: ReadonlySet<string>;
    const builtin = BUILTIN_TYPES.get(typeid);
    if (builtin !== undefined) {
      if (typeid === "Condition" && typeof args[0] === "number") {
        // A Condition over an existing Lock/RLock, given by object id.
        const lock = this.#objects.get(args[0]);
        if (lock === undefined) {
          throw new TypeError(
            `Cannot create Condition: lock object ${args[0]} does not exist`,
          );
        }
        args = [lock.object];
      }
      object = new builtin(...args);
      methods = builtin.methods;
    } else {
      const user = this.#types.get(typeid);
      if (user === undefined) {
        throw new TypeError(
          `Cannot create "${typeid}": no such type is registered`,
        );
      }
      object = new user.ctor(...args);
      methods = publicMethods(user.ctor);
    }
    const id = this.#nextObject++;
    const entry: Entry = name == null
      ? { typeid, object, methods }
      : { typeid, object, methods, name };
    this.#objects.set(id, entry);
    if (name != null) this.#names.set(name, id);
    return { id, typeid };
  }

  /** Drops an object; calls waiting on it reject. True if it existed. */
  release(id: number): boolean {
    const entry = this.#objects.get(id);
    if (entry === undefined) return false;
    this.#objects.delete(id);
    this.pyRefs.forget(id);
    if (entry.name !== undefined) this.#names.delete(entry.name);
    for (const session of this.#sessions) {
      if (entry.object instanceof ServerObject) {
        entry.object.dropSession(session);
      }
      for (const pending of session.pending.values()) {
        if (pending.objectId === id) {
          pending.controller.abort(
            new TypeError(`Cannot finish call: object ${id} was released`),
          );
        }
      }
    }
    return true;
  }

  /**
   * Registers a user class: `module` is imported by the server and its
   * export `exportName` becomes constructible as `typeid`.
   */
  async register(
    typeid: string,
    module: string,
    exportName: string,
  ): Promise<boolean> {
    if (
      typeof typeid !== "string" || typeof module !== "string" ||
      typeof exportName !== "string"
    ) {
      throw new TypeError(
        "Cannot register type: typeid, module and exportName must be strings",
      );
    }
    if (BUILTIN_TYPES.has(typeid)) {
      throw new TypeError(`Cannot register "${typeid}": it is a built-in type`);
    }
    const known = this.#types.get(typeid);
    if (known !== undefined) {
      if (known.module === module && known.exportName === exportName) {
        return false;
      }
      throw new TypeError(
        `Cannot register "${typeid}": it is already registered from another module`,
      );
    }
    // The one module kernel: one way to name a module, one missing-export
    // error (as for Thread, Pool, Process and serveTcp).
    const url = resolveModule(module, `register "${typeid}"`);
    const ctor = await loadExport(url, exportName);
    if (ctor.prototype === undefined) {
      throw new TypeError(
        `Cannot register "${typeid}": export "${exportName}" of ${url} is not a class`,
      );
    }
    this.#types.set(typeid, {
      ctor: ctor as unknown as UserType["ctor"],
      module,
      exportName,
    });
    return true;
  }
}
