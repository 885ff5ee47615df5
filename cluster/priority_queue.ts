/**
 * {@linkcode PriorityQueue}: Python's `queue.PriorityQueue` in Redis, shared
 * across machines.
 *
 * @module
 */

import { Queue } from "./queue.ts";
import type { QueueConnectOptions } from "./queue_options.ts";
import type { RedisClientLike } from "./redis_client.ts";

/** What a cluster {@linkcode PriorityQueue} accepts: a number, or a tuple
 * whose first element is the priority (checked at `put`). */
export type ClusterPriorityItem = number | readonly [number, ...unknown[]];

/**
 * A {@linkcode Queue} in Redis that hands out the lowest priority first, as
 * Python's `queue.PriorityQueue`: put a `[priority, ...rest]` tuple (or a
 * bare number); equal priorities come out in put order. Priorities are
 * finite numbers (Redis orders them as doubles). An item whose lease
 * expired goes back at its own priority.
 *
 * @example Lowest priority first across handles
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriorityQueue, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using jobs = await PriorityQueue.connect<[number, string]>(server.url, { name: "jobs" });
 * await jobs.put([2, "later"]);
 * await jobs.put([1, "first"]);
 * await jobs.put([2, "last"]);
 * assert.deepEqual([(await jobs.get())[1], (await jobs.get())[1], (await jobs.get())[1]], ["first", "later", "last"]);
 * ```
 */
export class PriorityQueue<T = ClusterPriorityItem> extends Queue<T> {
  /**
   * Connects to the priority queue `name` on the Redis at `target`.
   *
   * @example Numbers as their own priority
   * ```ts
   * import assert from "node:assert/strict";
   * import { PriorityQueue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await PriorityQueue.connect<number>(server.url, { name: "pq" });
   * await q.put(5);
   * await q.put(-1);
   * assert.deepEqual(await q.get(), -1);
   * ```
   */
  static override async connect<T = ClusterPriorityItem>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<PriorityQueue<T>> {
    return await Queue._connectWith(
      target,
      options,
      (conn) => new PriorityQueue<T>(conn, options, "priority"),
    );
  }

  /** @internal The item's priority. */
  protected override _score(item: T): number {
    const p: unknown = Array.isArray(item) ? item[0] : item;
    if (typeof p !== "number" || !Number.isFinite(p)) {
      throw new TypeError(
        "Cannot put item in PriorityQueue: give a [priority, ...] tuple or a finite number",
      );
    }
    return p;
  }
}
