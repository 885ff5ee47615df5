/**
 * weft's proxies on a CPython `SyncManager` server (private): the client
 * half of Python's `multiprocessing.managers` protocol, behind the same
 * proxy classes as weft's own manager (`Manager.connect({ ..., protocol:
 * "python" })`).
 *
 * Python's server answers one call at a time per connection and blocks
 * that connection while a call waits (a lock, a queue), so this client
 * keeps a pool of `accept_connection`ed connections: each call takes an
 * idle one (or opens one, up to {@linkcode MAX_CONNECTIONS}) and gives it
 * back when the reply arrives. Root calls (`create`, `decref`) use a fresh
 * connection each, as CPython's own client does.
 *
 * Each weft method becomes the Python method the matching CPython proxy
 * calls (`dict.set` → `__setitem__`, `queue.get({ timeout })` →
 * `get(True, seconds)`...). What a Python manager cannot do atomically
 * (`dict.increment`, `Value.increment`...) or at all (RLock and Condition
 * owned per connection) rejects with a TypeError naming the reason.
 *
 * @module
 */

import type { CallOptions } from "./_manager_client.ts";
import { ROOT_ID } from "./_manager_protocol.ts";
import type { ManagerAddress } from "./_manager_net.ts";
import {
  dumpMessage,
  fromPyException,
  loadMessage,
  PyException,
} from "./_py_manager_codec.ts";
import type { Connection } from "./connection.ts";
import { Client } from "./listener.ts";
import { EOFError } from "./_wire.ts";
import { RemoteError } from "./manager_error.ts";
import { Tuple, tuple } from "./pickle_values.ts";
import {
  MISSING,
  type Step,
  toDict,
  translate,
  unsupported,
} from "./_py_manager_translate.ts";

/** Most connections open to one Python manager at once. */
export const MAX_CONNECTIONS = 64;

interface Remote {
  ident: string;
  typeid: string;
  /** What the server exposes (an AutoProxy'd dict has no dunders). */
  exposed: ReadonlySet<string>;
}

/** Python tuples as plain arrays (what weft's proxies return), deeply. */
function plain(value: unknown, depth = 0): unknown {
  if (!Array.isArray(value) || depth > 200) return value;
  const out = value instanceof Tuple ? [...value] : value;
  for (let i = 0; i < out.length; i++) out[i] = plain(out[i], depth + 1);
  return out;
}

/** Connections, the object table and the call translation. */
export class PythonClient {
  readonly address: ManagerAddress;
  #authkey: Uint8Array;
  #idle: Connection[] = [];
  #open = 0;
  #waiting: ((conn: Connection | Error) => void)[] = [];
  #objects = new Map<number, Remote>();
  #nextId = 1;
  #lost: Error | undefined;
  #closing = new Set<Connection>();
  /** Settles once closed. */
  readonly finished: Promise<void>;
  #finish!: () => void;

  constructor(address: ManagerAddress, authkey: Uint8Array) {
    this.address = address;
    this.#authkey = authkey;
    this.finished = new Promise((resolve) => this.#finish = resolve);
  }

  /** Opens a connection, checks the server answers (`dummy`). */
  static async connect(
    address: ManagerAddress,
    authkey: Uint8Array,
  ): Promise<PythonClient> {
    const client = new PythonClient(address, authkey);
    await client.#root("dummy", []);
    return client;
  }

  get closed(): boolean {
    return this.#lost !== undefined;
  }

  #dial(): Promise<Connection> {
    return Client(this.address, { authkey: this.#authkey });
  }

  /** One request/reply on `conn`; Python errors become weft errors. */
  async #exchange(
    conn: Connection,
    ident: string | null,
    method: string,
    args: unknown[],
    kwds: Record<string, unknown> = {},
  ): Promise<unknown> {
    await conn.sendBytes(dumpMessage([ident, method, tuple(...args), kwds]));
    const reply = loadMessage(await conn.recvBytes());
    if (!(reply instanceof Tuple) || reply.length !== 2) {
      throw new TypeError(
        "Cannot read manager reply: not a (kind, result) pair",
      );
    }
    const [kind, result] = reply;
    switch (kind) {
      case "#RETURN":
        return plain(result);
      case "#ERROR":
        throw result instanceof PyException
          ? fromPyException(result)
          : new RemoteError({ name: "Error", message: String(result) });
      case "#TRACEBACK":
      case "#UNSERIALIZABLE":
        throw new RemoteError({
          name: kind === "#TRACEBACK" ? "RemoteError" : "Unserializable",
          message: String(result).trim(),
        });
      case "#PROXY":
        throw new TypeError(
          `Cannot call ${method}: it returns a proxy, which weft does not follow`,
        );
    }
    throw new TypeError(`Cannot read manager reply: unknown kind ${kind}`);
  }

  /** A root call on a fresh connection (as CPython's `dispatch`). */
  #root(
    method: string,
    args: unknown[],
    kwds?: Record<string, unknown>,
  ): Promise<unknown> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    return this.#rootAlways(method, args, kwds);
  }

  async #rootAlways(
    method: string,
    args: unknown[],
    kwds?: Record<string, unknown>,
  ): Promise<unknown> {
    const conn = await this.#dial();
    try {
      return await this.#exchange(conn, null, method, args, kwds);
    } finally {
      conn.close();
    }
  }

  async #take(): Promise<Connection> {
    if (this.#lost !== undefined) throw this.#lost;
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#open >= MAX_CONNECTIONS) {
      const got = await new Promise<Connection | Error>((resolve) =>
        this.#waiting.push(resolve)
      );
      if (got instanceof Error) throw got;
      return got;
    }
    this.#open++;
    try {
      const conn = await this.#dial();
      await this.#exchange(conn, null, "accept_connection", [
        `weft-${Deno.pid}`,
      ]);
      return conn;
    } catch (error) {
      this.#open--;
      throw error;
    }
  }

  #give(conn: Connection, healthy: boolean): void {
    if (!healthy || this.#lost !== undefined) {
      conn.close();
      this.#open--;
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(conn);
    else this.#idle.push(conn);
  }

  /** An object call on a pooled connection. */
  async #object(
    ident: string,
    [method, args, kwds]: Step,
    options: CallOptions = {},
  ): Promise<unknown> {
    const conn = await this.#take();
    this.#closing.add(conn);
    const running = this.#exchange(conn, ident, method, args, kwds).then(
      (value) => {
        this.#closing.delete(conn);
        this.#give(conn, true);
        return value;
      },
      (error) => {
        this.#closing.delete(conn);
        // A Python error leaves the connection usable; a broken one not.
        const healthy = error instanceof RemoteError ||
          (error instanceof Error && error.cause instanceof RemoteError);
        this.#give(conn, healthy);
        throw error;
      },
    );
    const { signal } = options;
    if (signal === undefined) return await running;
    if (signal.aborted) throw signal.reason;
    // Python cannot cancel a call: an aborted caller stops waiting, the
    // call finishes on its own and `onLate` gets what it returned.
    return await new Promise((resolve, reject) => {
      let done = false;
      const onAbort = () => {
        done = true;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      running.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          if (done) options.onLate?.(value);
          else resolve(value);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          if (!done) reject(error);
        },
      );
    });
  }

  /** weft's `call(objectId, method, args)` over Python's protocol. */
  async call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: CallOptions,
  ): Promise<unknown> {
    if (this.#lost !== undefined) throw this.#lost;
    if (objectId === ROOT_ID) return await this.#rootCall(method, args);
    const remote = this.#objects.get(objectId);
    if (remote === undefined) {
      throw new TypeError(
        `Cannot call "${method}": object ${objectId} does not exist (released or never created)`,
      );
    }
    const run = (step: Step) => this.#object(remote.ident, step, options);
    if (remote.typeid === "dict" && !remote.exposed.has("__setitem__")) {
      // An AutoProxy'd dict (a callable registered without DictProxy):
      // its public methods only.
      const [a, b] = args;
      switch (method) {
        case "set":
          return void await run(["update", [new Map([[a, b]])]]);
        case "has":
          return await run(["get", [a, MISSING]]) !== MISSING;
        case "size":
          return (await run(["keys", []]) as unknown[]).length;
      }
    }
    return await translate(remote.typeid, method, args, run);
  }

  async #rootCall(method: string, args: unknown[]): Promise<unknown> {
    switch (method) {
      case "create":
        return await this.#create(
          args[0] as string,
          (args[1] ?? []) as unknown[],
          args[2] as string | undefined,
        );
      case "release": {
        const remote = this.#objects.get(args[0] as number);
        if (remote === undefined) return false;
        this.#objects.delete(args[0] as number);
        await this.#root("decref", [remote.ident]);
        return true;
      }
      case "ping":
        await this.#root("dummy", []);
        return "pong";
      case "shutdown":
        return true;
    }
    throw new TypeError(
      `Cannot call "${method}" on a Python manager: weft does not support it there`,
    );
  }

  async #create(
    typeid: string,
    args: unknown[],
    name: string | undefined,
  ): Promise<{ id: number }> {
    let pyTypeid = typeid;
    let pyArgs: unknown[] = args;
    let kwds: Record<string, unknown> = {};
    if (name !== undefined && name !== null) {
      // A typeid the Python server registered with a callable returning a
      // shared object (`register("get_queue", callable=...)`).
      pyTypeid = name;
      pyArgs = [];
    } else {
      switch (typeid) {
        case "dict":
          pyArgs = args[0] === undefined ? [] : [toDict(args[0])];
          break;
        case "list":
          pyArgs = args[0] === undefined ? [] : [args[0]];
          break;
        case "Namespace":
          pyArgs = [];
          kwds = (args[0] ?? {}) as Record<string, unknown>;
          break;
        case "Value": {
          const v = args[0];
          const code = typeof v === "number"
            ? (Number.isInteger(v) ? "i" : "d")
            : typeof v === "bigint"
            ? "q"
            : "O";
          pyArgs = [code, v];
          break;
        }
        case "Queue":
          pyArgs = [
            (args[0] as { maxsize?: number } | undefined)?.maxsize ?? 0,
          ];
          break;
        case "Semaphore":
          pyTypeid = args[1] === true ? "BoundedSemaphore" : "Semaphore";
          pyArgs = [args[0]];
          break;
        case "RLock":
        case "Condition":
          unsupported(
            typeid,
            "create",
            "its owner is a server thread per connection, which weft's pooled connections cannot keep",
          );
      }
    }
    const reply = await this.#root("create", [pyTypeid, ...pyArgs], kwds);
    if (!Array.isArray(reply) || typeof reply[0] !== "string") {
      throw new TypeError(
        "Cannot create object: the manager's reply is malformed",
      );
    }
    const ident = reply[0];
    const exposed = new Set(
      Array.isArray(reply[1]) ? reply[1].map(String) : [],
    );
    // `create` counted one reference for us; `release` (destroy) gives it back.
    const id = this.#nextId++;
    this.#objects.set(id, { ident, typeid, exposed });
    return { id };
  }

  /** Gives back every reference this client holds and closes. Idempotent. */
  close(): void {
    if (this.#lost !== undefined) return;
    const idents = [...this.#objects.values()].map((r) => r.ident);
    this.#objects.clear();
    const release = Promise.all(
      idents.map((ident) =>
        this.#rootAlways("decref", [ident]).catch(() => {})
      ),
    );
    this.#lost = new EOFError("Cannot call manager: the connection is closed");
    for (const waiter of this.#waiting.splice(0)) waiter(this.#lost);
    for (const conn of this.#idle.splice(0)) conn.close();
    for (const conn of this.#closing) conn.close();
    release.finally(() => this.#finish());
  }
}
