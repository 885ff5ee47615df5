/**
 * {@linkcode JoinableQueue}: `multiprocessing.JoinableQueue` in Redis,
 * shared across machines.
 *
 * @module
 */

import { Queue } from "./queue.ts";
import type { QueueConnectOptions } from "./queue_options.ts";
import type { RedisClientLike } from "./redis_client.ts";

/**
 * The name `multiprocessing` users look for: a FIFO {@linkcode Queue}
 * (which, like Python's `queue.Queue`, already has `taskDone()` and
 * `join()` — across every process on every machine).
 *
 * @example A producer and a consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { JoinableQueue, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using q = await JoinableQueue.connect<number>(server.url, { name: "work" });
 * for (let i = 0; i < 3; i++) await q.put(i);
 * const consumer = (async () => {
 *   for (let i = 0; i < 3; i++) {
 *     await q.get();
 *     await q.taskDone();
 *   }
 * })();
 * assert.deepEqual(await q.join({ timeout: 5000 }), true);
 * await consumer;
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Connects to the queue `name` on the Redis at `target`.
   *
   * @example Connect and join an empty queue
   * ```ts
   * import assert from "node:assert/strict";
   * import { JoinableQueue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await JoinableQueue.connect(server.url, { name: "jq" });
   * assert.deepEqual(await q.join({ timeout: 10 }), true);
   * ```
   */
  static override async connect<T = unknown>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<JoinableQueue<T>> {
    return await Queue._connectWith(
      target,
      options,
      (conn) => new JoinableQueue<T>(conn, options, "fifo"),
    );
  }
}
