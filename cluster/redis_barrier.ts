/**
 * {@linkcode RedisBarrier}: Python's `threading.Barrier` across machines.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { BrokenBarrierError } from "../concurrency/barrier.ts";
import { _waitFor } from "./_wait.ts";

// KEYS: hash. ARGV: parties, channel -> {index, generation} or {-1} if broken
const ARRIVE = _script(`
if redis.call('HGET', KEYS[1], 'broken') == '1' then return {-1, 0} end
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local n = redis.call('HINCRBY', KEYS[1], 'count', 1)
local parties = tonumber(ARGV[1])
if n >= parties then
  redis.call('HSET', KEYS[1], 'count', 0, 'gen', gen + 1)
  redis.call('PUBLISH', ARGV[2], 'tripped')
end
return {parties - n, gen}`);
// KEYS: hash. ARGV: generation -> 1 passed, 0 waiting, -1 broken
const STATE = _script(`
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '-1')
if tonumber(ARGV[1]) == reset then return -1 end
if redis.call('HGET', KEYS[1], 'broken') == '1' then return -1 end
if gen > tonumber(ARGV[1]) then return 1 end
return 0`);
const ABORT = _script(`
redis.call('HSET', KEYS[1], 'broken', 1)
redis.call('PUBLISH', ARGV[1], 'broken')
return 1`);
const RESET = _script(`
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if tonumber(redis.call('HGET', KEYS[1], 'count') or '0') > 0 then
  redis.call('HSET', KEYS[1], 'reset', gen)
end
redis.call('HSET', KEYS[1], 'count', 0, 'gen', gen + 1, 'broken', 0)
redis.call('PUBLISH', ARGV[1], 'reset')
return 1`);

/**
 * A barrier held in Redis — the Manager's `Barrier(parties)` across
 * machines: `wait()` returns once `parties` callers (anywhere) arrived,
 * with Python's arrival index (`parties - 1` for the first, 0 for the
 * last). `abort()` or a `wait` timeout breaks it (`BrokenBarrierError`
 * for every waiter); `reset()` mends it. The first handle to create the
 * name fixes `parties`.
 *
 * @example Two parties meet
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const a = await m.Barrier(2, { name: "start" });
 * const b = await m.Barrier(2, { name: "start" });
 * const got = await Promise.all([a.wait(), b.wait()]);
 * assert.deepEqual(got.sort(), [0, 1]);
 * ```
 */
export class RedisBarrier {
  #conn: _Connection;
  #key: string;
  #channel: string;
  #parties: number;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Barrier()`. */
  constructor(conn: _Connection, key: string, name: string, parties: number) {
    this.#conn = conn;
    this.#key = key;
    this.#channel = key + ":events";
    this.#parties = parties;
    this.name = name;
  }

  /** Number of parties. */
  get parties(): number {
    return this.#parties;
  }

  /**
   * Arrives and waits for the others; resolves with the arrival index.
   *
   * @throws {BrokenBarrierError} (rejection) If the barrier is or gets
   * broken (abort, reset, or this wait's `timeout`).
   *
   * @example A one-party barrier passes at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(1, { name: "b" });
   * assert.equal(await b.wait(), 0); // one party: passes at once
   * ```
   */
  async wait(
    options: { timeout?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    options.signal?.throwIfAborted();
    const [index, gen] = await this.#conn.script(ARRIVE, [this.#key], [
      String(this.#parties),
      this.#channel,
    ]) as [number, number];
    if (index < 0) throw new BrokenBarrierError();
    const r = await _waitFor(this.#conn, this.#channel, async () => {
      const s = Number(
        await this.#conn.script(STATE, [this.#key], [String(gen)]),
      );
      return { done: s !== 0, value: s };
    }, options);
    if (!r.done) {
      await this.abort();
      throw new BrokenBarrierError();
    }
    if (r.value === -1) throw new BrokenBarrierError();
    return index;
  }

  /**
   * Breaks the barrier: current and future waiters throw.
   *
   * @example Break the barrier
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(1, { name: "b" });
   * await b.abort();
   * assert.equal(await b.broken(), true);
   * ```
   */
  async abort(): Promise<void> {
    await this.#conn.script(ABORT, [this.#key], [this.#channel]);
  }

  /**
   * Mends the barrier; waiters of the current round throw.
   *
   * @example Repair a broken barrier
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(1, { name: "b" });
   * await b.abort();
   * await b.reset();
   * assert.equal(await b.broken(), false);
   * ```
   */
  async reset(): Promise<void> {
    await this.#conn.script(RESET, [this.#key], [this.#channel]);
  }

  /**
   * True if broken.
   *
   * @example A new barrier is not broken
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(1, { name: "b" });
   * assert.equal(await b.broken(), false);
   * ```
   */
  async broken(): Promise<boolean> {
    return (await this.#conn.command(["HGET", this.#key, "broken"])) === "1";
  }

  /**
   * Callers waiting in the current round.
   *
   * @example Count parties waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const b = await m.Barrier(1, { name: "b" });
   * assert.equal(await b.nWaiting(), 0);
   * ```
   */
  async nWaiting(): Promise<number> {
    return Number(
      await this.#conn.command(["HGET", this.#key, "count"]) ?? 0,
    );
  }
}
