/**
 * {@linkcode LifoQueue}: Python's `queue.LifoQueue` in Redis, shared across
 * machines.
 *
 * @module
 */

import { Queue } from "./queue.ts";
import type { QueueConnectOptions } from "./queue_options.ts";
import type { RedisClientLike } from "./redis_client.ts";

/**
 * A last-in first-out {@linkcode Queue} in Redis: the newest waiting item
 * comes out first. Everything else (leases, `taskDone`/`join`, dead
 * letters, `maxsize`) is as in `Queue`. An item whose lease expired goes
 * back to its own place in the stack, not to the top.
 *
 * @example Last in, first out across handles
 * ```ts
 * import assert from "node:assert/strict";
 * import { LifoQueue, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using stack = await LifoQueue.connect<number>(server.url, { name: "stack" });
 * for (const n of [1, 2, 3]) await stack.put(n);
 * assert.deepEqual([await stack.get(), await stack.get(), await stack.get()], [3, 2, 1]);
 * ```
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  /**
   * Connects to the LIFO queue `name` on the Redis at `target`.
   *
   * @example Connect to a named stack
   * ```ts
   * import assert from "node:assert/strict";
   * import { LifoQueue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await LifoQueue.connect(server.url, { name: "l" });
   * assert.deepEqual(q.name, "l");
   * ```
   */
  static override async connect<T = unknown>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<LifoQueue<T>> {
    return await Queue._connectWith(
      target,
      options,
      (conn) => new LifoQueue<T>(conn, options, "lifo"),
    );
  }
}
