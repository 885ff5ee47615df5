/**
 * {@linkcode RedisClientLike}: the part of a node-redis client that
 * `@weft/weft/cluster` uses, so that you may pass your own client (with
 * your TLS, auth, Sentinel... settings) instead of a URL.
 *
 * @module
 */

/**
 * What weft needs from a Redis client: the shape of a node-redis
 * (`npm:redis` / `npm:@redis/client`, 5.x or 6.x) client. weft sends raw
 * commands with `sendCommand` and opens its blocking and subscriber
 * connections with `duplicate()`. A client you pass is never closed by
 * weft (the duplicates it opened are).
 *
 * @example The shape a client must have
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RedisClientLike } from "@weft/weft/cluster";
 *
 * const fake: Pick<RedisClientLike, "isOpen"> = { isOpen: false };
 * assert.deepEqual(fake.isOpen, false);
 * ```
 */
export interface RedisClientLike {
  /** True while connected (or connecting). */
  readonly isOpen: boolean;
  /** Sends one command; resolves with its reply. */
  sendCommand(args: string[]): Promise<unknown>;
  /** A new, unconnected client with the same options. */
  duplicate(): RedisClientLike;
  /** Connects. */
  connect(): Promise<unknown>;
  /** Closes after the pending replies. */
  close(): Promise<unknown>;
  /** Closes at once, failing pending commands. */
  destroy(): unknown;
  /** Registers a listener (weft listens to `"error"`). */
  on(event: "error", listener: (error: unknown) => void): unknown;
  /** Subscribes to a channel (pub/sub mode). */
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => void,
  ): Promise<unknown>;
  /** Unsubscribes from a channel. */
  unsubscribe(channel: string): Promise<unknown>;
}
