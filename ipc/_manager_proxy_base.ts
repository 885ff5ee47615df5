/**
 * The base of every manager proxy (private file; `BaseProxy` and
 * `ProxyWaitOptions` are public through `manager_proxy.ts`): the object id,
 * the link to the manager, `destroy()` and sharing with other processes.
 *
 * @module
 */

import {
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import { type Link, toHex } from "./_manager_net.ts";
import { ROOT_ID } from "./_manager_protocol.ts";

/**
 * Options of a proxied wait (`acquire`, `get`, `put`, `wait`, `join`): like
 * the waits of `concurrency`. The timeout runs inside the manager.
 *
 * @example A wait that gives up after 500 ms
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager, type ProxyWaitOptions } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const event = await manager.Event();
 * const options: ProxyWaitOptions = { timeout: 50 };
 * assert.equal(await event.wait(options), false); // nobody set it
 * ```
 */
export interface ProxyWaitOptions {
  /** Give up after this many milliseconds (resolve `false`). */
  timeout?: number;
  /**
   * `false` never waits (like Python's `blocking=False`).
   *
   * @default {true}
   */
  blocking?: boolean;
  /** Abort the wait; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

const HANDLE_KIND = "ManagerProxy";
const REVIVER_MODULE = new URL("./manager.ts", import.meta.url).href;

/** A proxied wait's options as call arguments. */
export function waitArgs(options: ProxyWaitOptions | undefined): unknown[] {
  if (options === undefined) return [];
  const { timeout, blocking } = options;
  return [{ timeout, blocking }];
}

/**
 * What every manager proxy has: the object's `id` and `typeid`, `release()`
 * and sharing. Proxies are shareable: pass one as an argument to a
 * `Process` or `Thread` (or through `share`) and it arrives connected to the
 * same manager, authkey included (carried inside the handle, never on a
 * command line or in the environment).
 *
 * Proxies come from {@linkcode Manager} methods; do not construct them.
 *
 * @example Every proxy names its object
 * ```ts
 * import assert from "node:assert/strict";
 * import { Manager } from "@weft/weft/ipc";
 *
 * await using manager = await Manager.start();
 * const value = await manager.Value(1);
 * assert.equal(value.typeid, "Value");
 * assert.equal(typeof value.id, "number");
 * await value.destroy();
 * ```
 */
export class BaseProxy {
  #link: Link;
  /** The object's id inside its manager. */
  readonly id: number;
  /** The object's type id (`"dict"`, `"Lock"`, a registered class...). */
  readonly typeid: string;

  /** Binds a proxy to object `id` of the manager behind `link`. */
  constructor(link: Link, id: number, typeid: string) {
    this.#link = link;
    this.id = id;
    this.typeid = typeid;
  }

  /** Calls `method` on the remote object. */
  protected call(
    method: string,
    args: unknown[],
    options?: { signal?: AbortSignal; onLate?: (value: unknown) => void },
  ): Promise<unknown> {
    return this.#link.call(this.id, method, args, options);
  }

  /**
   * Removes the object from the manager (like `del` on its last
   * reference). Every proxy to it then fails with a `RemoteError`; waiting
   * calls on it reject. Resolves `false` if it was already gone.
   */
  destroy(): Promise<boolean> {
    return this.#link.call(ROOT_ID, "release", [this.id]) as Promise<boolean>;
  }

  /**
   * Returns the handle that rebuilds this proxy in another worker or process.
   *
   * @throws {TypeError} If the manager has no network address (never, for
   * managers made by `Manager.start`, `serve` or `connect`).
   */
  [TO_HANDLE](_target: ShareTarget): SharedHandle {
    const { address, authkey } = this.#link;
    if (address === undefined || authkey === undefined) {
      throw new TypeError(
        "Cannot share proxy: its manager has no address other processes can reach",
      );
    }
    return {
      "@@weft": HANDLE_KIND,
      // The module a receiving process imports to get this handle's reviver.
      "@@module": REVIVER_MODULE,
      address,
      authkey: toHex(authkey),
      id: this.id,
      typeid: this.typeid,
    };
  }
}
