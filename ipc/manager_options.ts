/**
 * Options of {@linkcode Manager}'s `start`, `serve`, `connect` and
 * object-creating methods (re-exported by `manager.ts`).
 *
 * @module
 */

import type { ManagerAddress } from "./_manager_net.ts";

/**
 * Options of {@linkcode Manager.start}.
 *
 * @example A server process on loopback with a known authkey
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, type ManagerStartOptions } from "@weft/weft/ipc";
 *
 * const options: ManagerStartOptions = { hostname: "127.0.0.1", authkey: "k", startTimeout: 10_000 };
 * await using manager = await Manager.start(options);
 * assert.equal("hostname" in manager.address && manager.address.hostname, "127.0.0.1");
 * assert.deepEqual(manager.authkey, new TextEncoder().encode("k"));
 * ```
 */
export interface ManagerStartOptions {
  /**
   * Interface the server process listens on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port (default 0: any free port).
   *
   * @default {0}
   */
  port?: number;
  /** Authkey (default: 32 random bytes). Bytes or UTF-8 text. */
  authkey?: Uint8Array | string;
  /**
   * Permission flags of the server process. Default:
   * `["--allow-net=<hostname>", "--allow-read"]` (listen; import registered
   * classes' modules). Add what registered classes need.
   */
  permissions?: string[];
  /**
   * How long the server process may take to come up (ms).
   *
   * @default {30000}
   */
  startTimeout?: number;
  /**
   * Send error stacks to clients (default false: remote clients get an
   * error's name and message, never the server's stack or file paths).
   *
   * @default {false}
   */
  debug?: boolean;
}

/**
 * Options of {@linkcode Manager.serve}.
 *
 * @example Serving in this process on a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, type ManagerServeOptions } from "@weft/weft/ipc";
 *
 * // Other machines: hostname "0.0.0.0" and a fixed port, e.g. 50000.
 * const options: ManagerServeOptions = { hostname: "127.0.0.1", port: 0, authkey: "secret" };
 * await using server = await Manager.serve(options);
 * assert.ok("port" in server.address && server.address.port > 0);
 * ```
 */
export interface ManagerServeOptions {
  /**
   * Interface to listen on; ignored with `path`.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port (default 0: any free port).
   *
   * @default {0}
   */
  port?: number;
  /** A Unix socket path instead of TCP. */
  path?: string;
  /** Required: clients must know it. Bytes or UTF-8 text. */
  authkey: Uint8Array | string;
  /**
   * Send error stacks to clients (default false: remote clients get an
   * error's name and message, never the server's stack or file paths).
   *
   * @default {false}
   */
  debug?: boolean;
}

/**
 * Options of {@linkcode Manager.connect}.
 *
 * @example Connecting to a served manager
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, type ManagerConnectOptions } from "@weft/weft/ipc";
 *
 * await using server = await Manager.serve({ port: 0, authkey: "secret" });
 * const options: ManagerConnectOptions = { address: server.address, authkey: "secret" };
 * await using client = await Manager.connect(options);
 * assert.deepEqual(client.address, server.address);
 * ```
 */
export interface ManagerConnectOptions {
  /** Where the manager listens. */
  address: ManagerAddress;
  /** Its authkey. */
  authkey: Uint8Array | string;
  /**
   * `"weft"` (default): a weft manager. `"python"`: a CPython
   * `multiprocessing.managers` server (`SyncManager`/`BaseManager`, 3.11+):
   * `dict`, `list`, `Queue`, `Lock`, `Semaphore`, `Value`, `Event`,
   * `Namespace` and `Barrier` get the usual proxies; `name` calls a typeid
   * the Python server registered (`register("get_queue", callable=...)`).
   * Calls Python cannot do atomically (`increment`, `compareAndSet`...)
   * reject with a TypeError, and these proxies cannot be shared with other
   * processes.
   *
   * @default {"weft"}
   */
  protocol?: "weft" | "python";
}

/**
 * Options of every object-creating method of {@linkcode Manager}.
 *
 * @example Meeting at a named object
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const a = await manager.Queue({ name: "jobs" });
 * const b = await manager.Queue({ name: "jobs" });
 * assert.equal(a.id, b.id);
 * ```
 */
export interface CreateOptions {
  /**
   * Create-or-find by name: if the manager already holds an object of this
   * type under `name`, the proxy points at it (the initial value is then
   * ignored). How separate programs meet at a served manager.
   */
  name?: string;
}
