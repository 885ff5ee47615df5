/**
 * {@linkcode RedisEvent}: Python's `threading.Event` across machines.
 *
 * @module
 */

import type { _Connection } from "./_connection.ts";
import { _waitFor } from "./_wait.ts";

/**
 * An event flag held in Redis — the Manager's `Event()` across machines:
 * `set()` wakes every `wait()` on every machine (by pub/sub, re-checked in
 * Redis, and polled so a wake-up lost while Redis restarts is caught).
 *
 * @example Wake a waiter on another handle
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const go = await m.Event({ name: "go" });
 * const waiting = go.wait({ timeout: 5000 });
 * await go.set();
 * assert.deepEqual([await waiting, await go.isSet()], [true, true]);
 * ```
 */
export class RedisEvent {
  #conn: _Connection;
  #key: string;
  #channel: string;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Event()`. */
  constructor(conn: _Connection, key: string, name: string) {
    this.#conn = conn;
    this.#key = key;
    this.#channel = key + ":set";
    this.name = name;
  }

  /**
   * Sets the flag and wakes every waiter.
   *
   * @example Set the flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const e = await m.Event({ name: "e" });
   * await e.set();
   * assert.equal(await e.isSet(), true);
   * ```
   */
  async set(): Promise<void> {
    await this.#conn.command(["SET", this.#key, "1"]);
    await this.#conn.command(["PUBLISH", this.#channel, "set"]);
  }
  /**
   * Clears the flag.
   *
   * @example Clear the flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const e = await m.Event({ name: "e" });
   * await e.set();
   * await e.clear();
   * assert.equal(await e.isSet(), false);
   * ```
   */
  async clear(): Promise<void> {
    await this.#conn.command(["DEL", this.#key]);
  }
  /**
   * True if set.
   *
   * @example A new event is not set
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const e = await m.Event({ name: "e" });
   * assert.equal(await e.isSet(), false);
   * ```
   */
  async isSet(): Promise<boolean> {
    return Number(await this.#conn.command(["EXISTS", this.#key])) === 1;
  }
  /**
   * Waits until set; `false` if `timeout` ms passed first.
   *
   * @example Wait with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const e = await m.Event({ name: "e" });
   * assert.equal(await e.wait({ timeout: 10 }), false);
   * ```
   */
  async wait(
    options: { timeout?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const r = await _waitFor(this.#conn, this.#channel, async () => ({
      done: await this.isSet(),
    }), options);
    return r.done;
  }
}
