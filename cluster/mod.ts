/**
 * weft past one machine, on Redis: queues, a Pool and shared state that
 * every process on every machine connected to the same Redis shares.
 *
 * **Contract: at-least-once.** An item (or Pool task) whose consumer dies
 * or stalls past its lease is delivered again; a late acknowledgement from
 * the stale lease is refused ({@linkcode LeaseLost}); after
 * `maxDeliveries` it goes to the dead letters instead of looping. Nothing
 * is lost while Redis keeps its data. So tasks must be idempotent (or key
 * their results by item id). Locks are leases: they protect efficiency,
 * and correctness only where the protected resource checks the fencing
 * token.
 *
 * Redis restarts: clients reconnect by themselves and resend the commands
 * a dropped connection cut (puts, gets and acks are retry-safe in Lua: a
 * resend neither stores an item twice nor leases one to nobody). Pub/sub
 * is at-most-once — messages published while a subscriber is disconnected
 * are lost — so weft uses it only as a wake-up hint: every wait re-checks
 * in Redis and polls (at most ~1 s), and loses nothing.
 *
 * This entry point is not re-exported by `@weft/weft`: it is the only one
 * with a dependency (the node-redis client `npm:@redis/client`, pinned).
 * Needs a Redis 7 (or Valkey) server; run with `--allow-net=<redis host>`
 * and `--allow-env=REDIS_DEBUG_MAINTENANCE`.
 *
 * @example A joinable queue shared by two handles
 * ```ts
 * import assert from "node:assert/strict";
 * import { JoinableQueue, RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start(); // or your redis://host:6379
 * await using q = await JoinableQueue.connect<string>(server.url, { name: "jobs" });
 * await using worker = await JoinableQueue.connect<string>(server.url, { name: "jobs" });
 * await q.put("resize 1.png");
 * assert.deepEqual(await worker.get(), "resize 1.png");
 * await worker.taskDone();
 * assert.deepEqual(await q.join({ timeout: 1000 }), true);
 *
 * await using m = await RedisManager.connect(server.url, { prefix: "app" });
 * const hits = await m.Value<number>(0, { name: "hits" });
 * assert.deepEqual(await hits.increment(), 1);
 * ```
 *
 * @module
 */
export * from "./redis_client.ts";
export * from "./redis_server.ts";
export * from "./lease_lost.ts";
export { QueueEmpty, QueueFull } from "../concurrency/queue_errors.ts";
export * from "./queue_options.ts";
export * from "./queue.ts";
export * from "./lifo_queue.ts";
export * from "./priority_queue.ts";
export * from "./joinable_queue.ts";
export * from "./redis_manager.ts";
export * from "./redis_dict.ts";
export * from "./redis_list.ts";
export * from "./redis_value.ts";
export * from "./redis_lock.ts";
export * from "./redis_semaphore.ts";
export * from "./redis_event.ts";
export * from "./redis_barrier.ts";
export * from "./pool_options.ts";
export * from "./pool.ts";
export * from "./serve_workers.ts";
export * from "./redis_adapter.ts";
export * from "./redis_emitter.ts";
// The Socket.IO adapter types the Redis adapters extend and take (they live
// in @weft/weft/net; re-exported as types so this entry point documents whole).
export type {
  AdapterHost,
  AdapterPacket,
  AdapterTarget,
  EventAdapter,
  InMemoryAdapter,
  SocketInfo,
} from "../net/mod.ts";
