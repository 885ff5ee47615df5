/**
 * {@linkcode RedisSemaphore}: a counting semaphore of leases in Redis.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { _randomId, _waitFor } from "./_wait.ts";
import type { RedisAcquireOptions } from "./redis_lock.ts";
import { LeaseLost } from "./lease_lost.ts";

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
// KEYS: holders zset, max. ARGV: holder, lease -> {1} or {0, ms until the first lease ends}
const ACQUIRE = _script(
  NOW + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local max = tonumber(redis.call('GET', KEYS[2]) or '1')
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}`,
);
// KEYS: holders. ARGV: holder, channel -> 1, or 0 (lease lost)
const RELEASE = _script(`
local r = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'released')
return r`);
const RENEW = _script(
  NOW + `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1`,
);
const VALUE = _script(
  NOW + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return tonumber(redis.call('GET', KEYS[2]) or '1') - redis.call('ZCARD', KEYS[1])`,
);

/**
 * A semaphore held in Redis — the Manager's `Semaphore(value)` across
 * machines: at most `value` holders at once, each holding a lease renewed
 * while held (a dead holder's slot frees itself after its lease). The
 * first handle to create the name fixes `value`.
 *
 * @example At most two holders
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const s = await m.Semaphore(2, { name: "slots" });
 * assert.deepEqual([await s.acquire(), await s.acquire(), await s.acquire({ blocking: false })], [true, true, false]);
 * await s.release();
 * assert.deepEqual(await s.value(), 1);
 * await s.release();
 * ```
 */
export class RedisSemaphore implements AsyncDisposable {
  #conn: _Connection;
  #keys: [string, string];
  #channel: string;
  #lease: number;
  #held: string[] = [];
  #renewer: ReturnType<typeof setInterval> | undefined;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Semaphore()`. */
  constructor(conn: _Connection, key: string, name: string, lease: number) {
    this.#conn = conn;
    this.#keys = [key, key + ":max"];
    this.#channel = key + ":released";
    this.#lease = lease;
    this.name = name;
  }

  /**
   * Takes one slot; `false` on timeout (or at once with `blocking: false`).
   *
   * @example Take a slot
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const s = await m.Semaphore(2, { name: "s" });
   * assert.equal(await s.acquire(), true);
   * await s.release();
   * ```
   */
  async acquire(options: RedisAcquireOptions = {}): Promise<boolean> {
    const holder = _randomId();
    const attempt = async () => {
      const [ok, ms] = await this.#conn.script(ACQUIRE, this.#keys, [
        holder,
        String(this.#lease),
      ]) as [number, number];
      return ok === 1
        ? { done: true }
        : { done: false, retryIn: Math.max(1, ms + 1) };
    };
    const r = options.blocking === false
      ? await attempt()
      : await _waitFor(this.#conn, this.#channel, attempt, options);
    if (!r.done) return false;
    this.#held.push(holder);
    this.#renewer ??= setInterval(() => {
      for (const h of this.#held) {
        this.#conn.script(RENEW, [this.#keys[0]], [h, String(this.#lease)])
          .catch(() => {});
      }
    }, Math.max(10, Math.floor(this.#lease / 3)));
    return true;
  }

  /**
   * Frees the oldest slot this handle holds.
   *
   * @throws {TypeError} (rejection) If this handle holds none.
   * @throws {LeaseLost} (rejection) If that slot's lease had expired.
   *
   * @example Give a slot back
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const s = await m.Semaphore(2, { name: "s" });
   * await s.acquire();
   * await s.release();
   * assert.equal(await s.value(), 2);
   * ```
   */
  async release(): Promise<void> {
    const holder = this.#held.shift();
    if (holder === undefined) {
      throw new TypeError("Cannot release semaphore: this handle holds none");
    }
    if (this.#held.length === 0) this.#stop();
    const r = await this.#conn.script(RELEASE, [this.#keys[0]], [
      holder,
      this.#channel,
    ]);
    if (Number(r) !== 1) {
      throw new LeaseLost(
        "Cannot release semaphore: the slot's lease expired while held",
      );
    }
  }

  /**
   * Free slots now.
   *
   * @example Count free slots
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const s = await m.Semaphore(2, { name: "s" });
   * assert.equal(await s.value(), 2);
   * ```
   */
  async value(): Promise<number> {
    return Number(await this.#conn.script(VALUE, this.#keys, []));
  }

  #stop(): void {
    if (this.#renewer !== undefined) clearInterval(this.#renewer);
    this.#renewer = undefined;
  }

  /** Frees every slot this handle holds (if any) and stops renewing. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop();
    while (this.#held.length > 0) {
      try {
        await this.release();
      } catch {
        // lease already lost, or Redis unreachable: the slot lapses by itself
      }
    }
  }
}
