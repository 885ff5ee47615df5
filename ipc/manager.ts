/**
 * `Manager`: Python's `multiprocessing.Manager` / `BaseManager` for Deno.
 *
 * @module
 */

import { ManagerClient } from "./_manager_client.ts";
import {
  checkAddress,
  checkAuthkey,
  type Link,
  listenManager,
  type ManagerAddress,
  openClient,
  shareClient,
  toHex,
  unshareClient,
} from "./_manager_net.ts";
import { ROOT_ID } from "./_manager_protocol.ts";
import { makeProxy } from "./_manager_revive.ts";
import { ManagerServer } from "./_manager_server.ts";
import { memoryChannelPair } from "./_manager_transport.ts";
import { PythonClient } from "./_py_manager_client.ts";
import { inheritedConfigFlags } from "../_internal/child_config.ts";
import { resolveModule } from "../_internal/run_export.ts";
import * as proxies from "./manager_proxy.ts";

import type {
  CreateOptions,
  ManagerConnectOptions,
  ManagerServeOptions,
  ManagerStartOptions,
} from "./manager_options.ts";
import { type Owned, readAddress, stopChild } from "./_manager_spawn.ts";

export type { ManagerAddress } from "./_manager_net.ts";
export type {
  CreateOptions,
  ManagerConnectOptions,
  ManagerServeOptions,
  ManagerStartOptions,
} from "./manager_options.ts";

/** What a `Manager` needs from its connection. */
interface CallClient {
  call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: { signal?: AbortSignal; onLate?: (value: unknown) => void },
  ): Promise<unknown>;
  close(): void;
  readonly finished: Promise<void>;
  readonly closed: boolean;
}

class ClientLink implements Link {
  constructor(
    readonly client: CallClient,
    readonly address: ManagerAddress | undefined,
    readonly authkey: Uint8Array | undefined,
  ) {}
  call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: { signal?: AbortSignal; onLate?: (value: unknown) => void },
  ): Promise<unknown> {
    return this.client.call(objectId, method, args, options);
  }
}

/**
 * A server holding shared objects — dict, list, Namespace, Value, Queue,
 * Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier and
 * registered classes — and the proxies to
 * reach them from any process, worker or machine. Like Python's
 * `multiprocessing.Manager()`, except that every proxy method is async, and
 * locks held by a process that dies are released.
 *
 * Three ways to get one:
 * - {@linkcode Manager.start}: the server runs in its own Deno process (the
 *   default, as in Python), on 127.0.0.1 with a random authkey;
 *   `await using` or {@linkcode Manager.shutdown} stops it.
 * - {@linkcode Manager.serve}: this process is the server, on a TCP
 *   address (or Unix socket) other machines reach with the authkey.
 * - {@linkcode Manager.connect}: attach to a running one.
 *
 * Proxies pass as arguments to `Process` and `Thread` (or through `share`)
 * and work there with no setup: the handle carries the address and the
 * authkey (only over the private argument channel, never argv or env).
 * Each process (or worker) keeps one connection per manager, shared by all
 * its proxies; calls on it run concurrently.
 *
 * ## Atomicity
 * Every call runs alone inside the server, so one call is atomic:
 * `Value.increment`, `dict.increment`, `dict.update`, `dict.setdefault`,
 * `list.extend` need no lock. A read followed by a write is two calls: guard
 * it with a proxied `Lock`.
 *
 * ## Faults
 * If the manager process dies, every pending and later call rejects at once
 * with an `EOFError` ("Cannot call manager: the connection to the manager
 * was lost"), as in Python. A wrong
 * authkey is refused during the handshake (`AuthenticationError`). Unknown
 * object ids, unknown methods and oversize requests (over 16 MiB) get an
 * error reply (`RemoteError`) and the connection keeps working. Error
 * replies carry the name and message only; the server's stack (and its
 * file paths) only with `debug: true`.
 *
 * ## Python clients
 * A served or started manager also speaks CPython's
 * `multiprocessing.managers` protocol (3.11+, legacy HMAC-MD5 and
 * `{sha256}` handshakes) on the same port: a `BaseManager`/`SyncManager`
 * client `connect()`s with the authkey, creates `dict`, `list`, `Queue`,
 * `Lock`... (the objects weft uses, with Python's methods and exceptions),
 * and reaches an object created here with `name: "x"` through a typeid
 * `"x"` it registers (`register("x", proxytype=DictProxy)`), so Python and
 * Deno processes share it. Registered weft classes are creatable by their
 * typeid. After the handshake, the first message tells the protocols
 * apart: a pickle (first byte `0x80`) or a weft frame.
 * `Manager.connect({ ..., protocol: "python" })` goes the other way, onto a
 * CPython `SyncManager` server.
 *
 * ## Lifetime
 * Objects live until `proxy.destroy()` or shutdown. Objects a Python client
 * created are freed when Python's reference count for them drops to zero,
 * as in Python.
 *
 * ## Platform
 * `start` runs `deno` (`--allow-run`), and talks over 127.0.0.1
 * (`--allow-net=127.0.0.1`). The server process gets `--allow-net` for its
 * hostname and `--allow-read` unless `permissions` says otherwise.
 *
 * @example The shared dict and list tutorial, in one process
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const dict = await manager.dict<number, string>();
 * const list = await manager.list<number>([0, 1, 2, 3, 4]);
 * await Promise.all(
 *   Array.from({ length: 10 }, async (_, i) => {
 *     await dict.set(i, "1");
 *     await list.push(i);
 *   }),
 * );
 * assert.equal(await dict.size(), 10);
 * assert.equal(await list.length(), 15);
 * ```
 */
export class Manager implements AsyncDisposable {
  #client: CallClient;
  #link: ClientLink;
  #owned: Owned;
  #address: ManagerAddress | undefined;
  #authkey: Uint8Array;
  #closing: Promise<void> | undefined;

  private constructor(
    client: CallClient,
    address: ManagerAddress | undefined,
    authkey: Uint8Array,
    owned: Owned,
  ) {
    this.#client = client;
    this.#address = address;
    this.#authkey = authkey;
    this.#owned = owned;
    if (client instanceof ManagerClient) {
      this.#link = new ClientLink(client, address, authkey);
      if (address !== undefined) shareClient(address, authkey, client);
    } else {
      // A Python manager: its proxies cannot be revived elsewhere.
      this.#link = new ClientLink(client, undefined, undefined);
    }
  }

  /**
   * Starts a manager server in a new Deno process and connects to it.
   *
   * @example Starting a server process and shutting it down
   * ```ts
   * import assert from "node:assert/strict";
   * import { Manager } from "@weft/weft/ipc";
   *
   * const manager = await Manager.start();
   * try {
   *   const ns = await manager.Namespace();
   *   await ns.set("answer", 42);
   *   assert.equal(await ns.get("answer"), 42);
   * } finally {
   *   await manager.shutdown();
   * }
   * ```
   *
   * @throws {Error} If the server process fails to come up in time.
   */
  static async start(options: ManagerStartOptions = {}): Promise<Manager> {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = options.port ?? 0;
    if (typeof hostname !== "string") {
      throw new TypeError('Cannot start manager: "hostname" must be a string');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Cannot start manager: "port" must be an integer in [0, 65535], got ${port}`,
      );
    }
    const authkey = options.authkey === undefined
      ? crypto.getRandomValues(new Uint8Array(32))
      : checkAuthkey(options.authkey, "start manager");
    const permissions = options.permissions ??
      [`--allow-net=${hostname}`, "--allow-read"];
    const main = new URL("./_manager_main.ts", import.meta.url).href;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...inheritedConfigFlags(),
        ...permissions,
        main,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const stdin = child.stdin.getWriter();
    const owned: Owned = { child, stdin };
    try {
      await stdin.write(
        new TextEncoder().encode(
          JSON.stringify({
            authkey: toHex(authkey),
            hostname,
            port,
            debug: options.debug === true,
          }) + "\n",
        ),
      );
      const address = await readAddress(
        child,
        options.startTimeout ?? 30_000,
      );
      const manager = new Manager(
        await openClient(address, authkey),
        address,
        authkey,
        owned,
      );
      return manager;
    } catch (error) {
      await stopChild(owned);
      throw new Error("Cannot start manager: the server process failed", {
        cause: error,
      });
    }
  }

  /**
   * Serves a manager from this process on a TCP address (or Unix socket),
   * for other processes and machines that know the authkey. This process
   * uses it through the returned `Manager` without a socket. Proxies shared
   * from here carry the bound address: listen on a concrete interface
   * address (not `0.0.0.0`) if they travel to other machines.
   *
   * @example A named dict that a second client finds
   * ```ts
   * import assert from "node:assert/strict";
   * import { Manager } from "@weft/weft/ipc";
   *
   * await using server = await Manager.serve({ port: 0, authkey: "secret" });
   * await server.dict({ greeting: "hi" }, { name: "shared" });
   * await using client = await Manager.connect({
   *   address: server.address,
   *   authkey: "secret",
   * });
   * const shared = await client.dict<string, string>({}, { name: "shared" });
   * assert.equal(await shared.get("greeting"), "hi");
   * ```
   */
  static serve(options: ManagerServeOptions): Promise<Manager> {
    const authkey = checkAuthkey(options?.authkey, "serve manager");
    const address: ManagerAddress = options.path !== undefined
      ? checkAddress({ path: options.path }, "serve manager")
      : checkAddress(
        { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0 },
        "serve manager",
      );
    const server = new ManagerServer({ debug: options.debug === true });
    const listener = listenManager(server, address, authkey);
    const [mine, theirs] = memoryChannelPair();
    server.serve(theirs);
    return Promise.resolve(
      new Manager(new ManagerClient(mine), listener.address, authkey, {
        server,
        listener,
      }),
    );
  }

  /**
   * Connects to a manager started or served elsewhere: a weft manager, or
   * with `protocol: "python"` a CPython `multiprocessing.managers` server.
   *
   * @throws {Error} Named `AuthenticationError` if the authkey is wrong.
   */
  static async connect(options: ManagerConnectOptions): Promise<Manager> {
    const address = checkAddress(options?.address, "connect to manager");
    const authkey = checkAuthkey(options.authkey, "connect to manager");
    const protocol = options.protocol ?? "weft";
    if (protocol === "python") {
      return new Manager(
        await PythonClient.connect(address, authkey),
        address,
        authkey,
        {},
      );
    }
    if (protocol !== "weft") {
      throw new TypeError(
        `Cannot connect to manager: "protocol" must be "weft" or "python", got ${
          String(protocol)
        }`,
      );
    }
    return new Manager(
      await openClient(address, authkey),
      address,
      authkey,
      {},
    );
  }

  /** Where the manager listens (what {@linkcode Manager.connect} takes). */
  get address(): ManagerAddress {
    if (this.#address === undefined) {
      throw new TypeError("Cannot read address: this manager has none");
    }
    return this.#address;
  }

  /** A copy of the authkey (keep it secret). */
  get authkey(): Uint8Array {
    return this.#authkey.slice();
  }

  /** Process id of the server process ({@linkcode Manager.start} only). */
  get pid(): number | undefined {
    return this.#owned.child?.pid;
  }

  /** True once shut down, or once a call found the connection lost. */
  get closed(): boolean {
    return this.#closing !== undefined || this.#client.closed;
  }

  /**
   * Creates (or finds by name) an object and makes its proxy (the class
   * for its typeid, or the generic one for a registered class).
   */
  async #proxy<P>(
    typeid: string,
    args: unknown[],
    options?: CreateOptions,
  ): Promise<P> {
    const name = options?.name;
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(`Cannot create ${typeid}: "name" must be a string`);
    }
    const { id } = await this.#client.call(ROOT_ID, "create", [
      typeid,
      args,
      name,
    ]) as { id: number };
    return makeProxy(this.#link, id, typeid) as P;
  }

  /** A shared `dict` (Map semantics, primitive keys), optionally pre-filled. */
  async dict<K = unknown, V = unknown>(
    initial?: Map<K, V> | [K, V][] | Record<string, V>,
    options?: CreateOptions,
  ): Promise<proxies.DictProxy<K, V>> {
    return await this.#proxy<proxies.DictProxy<K, V>>(
      "dict",
      [initial],
      options,
    );
  }

  /** A shared `list`, optionally pre-filled. */
  async list<T = unknown>(
    initial?: T[],
    options?: CreateOptions,
  ): Promise<proxies.ListProxy<T>> {
    return await this.#proxy<proxies.ListProxy<T>>("list", [initial], options);
  }

  /** A shared `Namespace` (named attributes). */
  async Namespace<T extends Record<string, unknown> = Record<string, unknown>>(
    initial?: Partial<NoInfer<T>>,
    options?: CreateOptions,
  ): Promise<proxies.NamespaceProxy<T>> {
    return await this.#proxy<proxies.NamespaceProxy<T>>(
      "Namespace",
      [initial],
      options,
    );
  }

  /** A shared `Value` holding `initial`. */
  async Value<T = unknown>(
    initial: T,
    options?: CreateOptions,
  ): Promise<proxies.ValueProxy<T>> {
    return await this.#proxy<proxies.ValueProxy<T>>(
      "Value",
      [initial],
      options,
    );
  }

  /** A shared FIFO `Queue` (`maxsize` 0 = unbounded). */
  async Queue<T = unknown>(
    options?: CreateOptions & { maxsize?: number },
  ): Promise<proxies.QueueProxy<T>> {
    return await this.#proxy<proxies.QueueProxy<T>>("Queue", [{
      maxsize: options?.maxsize ?? 0,
    }], options);
  }

  /** A shared `Lock`. */
  async Lock(options?: CreateOptions): Promise<proxies.LockProxy> {
    return await this.#proxy<proxies.LockProxy>("Lock", [], options);
  }

  /** A shared `RLock` (re-entrant per connection). */
  async RLock(options?: CreateOptions): Promise<proxies.RLockProxy> {
    return await this.#proxy<proxies.RLockProxy>("RLock", [], options);
  }

  /** A shared `Semaphore` with `value` permits (default 1). */
  async Semaphore(
    value: number = 1,
    options?: CreateOptions,
  ): Promise<proxies.SemaphoreProxy> {
    return await this.#proxy<proxies.SemaphoreProxy>("Semaphore", [
      value,
      false,
    ], options);
  }

  /** A shared `BoundedSemaphore`: releasing above `value` rejects. */
  async BoundedSemaphore(
    value: number = 1,
    options?: CreateOptions,
  ): Promise<proxies.SemaphoreProxy> {
    return await this.#proxy<proxies.SemaphoreProxy>(
      "Semaphore",
      [value, true],
      options,
    );
  }

  /** A shared `Event`. */
  async Event(options?: CreateOptions): Promise<proxies.EventProxy> {
    return await this.#proxy<proxies.EventProxy>("Event", [], options);
  }

  /**
   * A shared `Condition` over `lock` (a `Lock` or `RLock` proxy of this
   * manager), or over a fresh `RLock`.
   */
  async Condition(
    lock?: proxies.LockProxy | proxies.RLockProxy,
    options?: CreateOptions,
  ): Promise<proxies.ConditionProxy> {
    if (
      lock !== undefined && !(lock instanceof proxies.LockProxy) &&
      !(lock instanceof proxies.RLockProxy)
    ) {
      throw new TypeError(
        "Cannot create Condition: lock must be a Lock or RLock proxy",
      );
    }
    return await this.#proxy<proxies.ConditionProxy>(
      "Condition",
      lock === undefined ? [] : [lock.id],
      options,
    );
  }

  /** A shared `Barrier` for `parties` callers. */
  async Barrier(
    parties: number,
    options?: CreateOptions,
  ): Promise<proxies.BarrierProxy> {
    return await this.#proxy<proxies.BarrierProxy>(
      "Barrier",
      [parties],
      options,
    );
  }

  /**
   * Python's `BaseManager.register`: the server imports `module` and makes
   * its export `exportName` (a class) constructible as `typeid` with
   * {@linkcode Manager.create}. Public methods (names not starting with `_`)
   * become callable through the proxy. Registering the same triple again is
   * a no-op. `module` is named as for `Thread` and `Process`: a `URL`, an
   * absolute URL string, or a path relative to this process's current
   * directory (resolved here, before it is sent).
   *
   * @throws {TypeError} If `module` is not a URL or a non-empty string, or
   * (from the server, as `RemoteError`) if it has no such export or the
   * export is not a class.
   *
   * @example Registering a class of your own
   * ```ts
   * import assert from "node:assert/strict";
   * import { Manager } from "@weft/weft/ipc";
   *
   * const source = "export class Counter { n = 0; add(k) { return this.n += k; } }";
   * const module = "data:text/javascript," + encodeURIComponent(source);
   *
   * await using manager = await Manager.start();
   * await manager.register("Counter", module, "Counter");
   * const counter = await manager.create<{ add(k: number): number }>("Counter");
   * assert.equal(await counter.add(2), 2);
   * assert.equal(await counter.add(3), 5);
   * ```
   */
  async register(
    typeid: string,
    module: string | URL,
    exportName: string,
  ): Promise<void> {
    if (this.#client instanceof PythonClient) {
      throw new TypeError(
        "Cannot register type: a Python manager's types are registered in Python",
      );
    }
    // A relative path names a file from this process's directory, as for
    // Thread, Pool and Process (the server may run elsewhere).
    const specifier = resolveModule(module, `register "${typeid}"`);
    await this.#client.call(ROOT_ID, "register", [
      typeid,
      specifier,
      exportName,
    ]);
  }

  /**
   * Creates an instance of a registered class (see
   * {@linkcode Manager.register}) with `args`; every method of the proxy is
   * the async twin of the class's method.
   */
  async create<T = Record<string, unknown>>(
    typeid: string,
    args: unknown[] = [],
    options?: CreateOptions,
  ): Promise<proxies.ObjectProxy<T>> {
    return await this.#proxy<proxies.ObjectProxy<T>>(typeid, args, options);
  }

  /**
   * Stops the manager if this process owns it ({@linkcode Manager.start}:
   * the server process exits; {@linkcode Manager.serve}: stops listening and
   * drops every connection), then closes this connection. For a
   * {@linkcode Manager.connect}ed one, only the connection closes.
   * Idempotent.
   */
  shutdown(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const { child, server, listener } = this.#owned;
    if (child !== undefined && !this.#client.closed) {
      await this.#client.call(ROOT_ID, "shutdown", []).catch(() => {});
    }
    this.#client.close();
    await this.#client.finished;
    if (this.#address !== undefined && this.#client instanceof ManagerClient) {
      unshareClient(this.#address, this.#authkey, this.#client);
    }
    listener?.close();
    server?.close();
    if (listener !== undefined) await listener.finished;
    await stopChild(this.#owned);
  }

  /** Same as {@linkcode Manager.shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
