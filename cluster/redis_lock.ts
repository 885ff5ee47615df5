/**
 * {@linkcode RedisLock} and {@linkcode RedisRLock}: leased locks with
 * fencing tokens, held in Redis, shared across machines.
 *
 * @module
 */

import { type _Connection, _script } from "./_connection.ts";
import { _randomId, _waitFor } from "./_wait.ts";
import { LeaseLost } from "./lease_lost.ts";

// KEYS: lock hash, fence counter. ARGV: me, lease ms, reentrant ('1'/'0')
// -> {1, fence} acquired; {0, pttl} held by someone else
const ACQUIRE = _script(`
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', 1, 'fence', fence)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, fence}
end
if owner == ARGV[1] and ARGV[3] == '1' then
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('HGET', KEYS[1], 'fence'))}
end
return {0, redis.call('PTTL', KEYS[1])}`);
// KEYS: lock hash. ARGV: me, channel -> remaining count, or -1 (not ours)
const RELEASE = _script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'count', -1)
if n <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 0
end
return n`);
// KEYS: lock hash. ARGV: me, lease ms -> 1, or 0 (lost)
const RENEW = _script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`);

/** Options of `RedisManager.Lock()` / `RLock()`. */
export interface RedisLockOptions {
  /** The lock's name: every handle with this name shares the lock. */
  name?: string;
  /**
   * Milliseconds of the lease (default 10000). While held, the handle
   * renews it every `lease / 3`; if the holder dies (or freezes), the lock
   * is free again at most `lease` ms later.
   *
   * @default {10000}
   */
  lease?: number;
}

/** Options of an acquire. */
export interface RedisAcquireOptions {
  /** Milliseconds to wait; then resolves `false`. */
  timeout?: number;
  /** Cancels the wait (rejects with `signal.reason`). */
  signal?: AbortSignal;
  /**
   * `false`: try once and resolve at once.
   *
   * @default {true}
   */
  blocking?: boolean;
}

/**
 * A mutual-exclusion lock held in Redis: the Manager's `Lock()` across
 * machines. Holding it is a **lease** (renewed automatically every
 * `lease / 3` while held), so a holder that dies frees it after about one
 * lease. Each acquisition gets a **fencing token** (`token`), increasing
 * across all holders: pass it to the resource you protect
 * (`RedisValue.set(v, { fence: lock.token })`) so that a holder whose lease
 * expired while it was paused cannot overwrite its successor's work. A lease
 * lock alone protects efficiency; with fencing, correctness.
 *
 * The holder is this handle object: two handles of the same name (in one
 * process or many) exclude each other.
 *
 * @example Two handles, one lock
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const a = await m.Lock({ name: "office", lease: 2000 });
 * const b = await m.Lock({ name: "office", lease: 2000 });
 * assert.deepEqual([await a.acquire(), await b.acquire({ blocking: false })], [true, false]);
 * const first = a.token!;
 * await a.release();
 * assert.deepEqual([await b.acquire(), b.token! > first], [true, true]);
 * await b.release();
 * ```
 */
export class RedisLock implements AsyncDisposable {
  #conn: _Connection;
  #key: string;
  #fence: string;
  #channel: string;
  #lease: number;
  #reentrant: boolean;
  #me = _randomId();
  #token: number | undefined;
  #held = 0;
  #renewer: ReturnType<typeof setInterval> | undefined;
  #lost = false;
  /** The name it was opened by. */
  readonly name: string;

  /** @internal Use `RedisManager.Lock()`. */
  constructor(
    conn: _Connection,
    key: string,
    name: string,
    options: RedisLockOptions,
    reentrant = false,
  ) {
    const lease = options.lease ?? 10_000;
    if (!Number.isInteger(lease) || lease < 30) {
      throw new RangeError(
        `Cannot create lock: "lease" must be an integer >= 30 ms, got ${lease}`,
      );
    }
    this.#conn = conn;
    this.#key = key;
    this.#fence = key + ":fence";
    this.#channel = key + ":released";
    this.#lease = lease;
    this.#reentrant = reentrant;
    this.name = name;
  }

  /** The fencing token of the current hold (`undefined` when not held). */
  get token(): number | undefined {
    return this.#token;
  }

  /** The lease in milliseconds. */
  get lease(): number {
    return this.#lease;
  }

  /**
   * Waits for the lock; resolves `true` once held, `false` on timeout or
   * when `blocking: false` finds it held.
   *
   * @example Acquire with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.Lock({ name: "k", lease: 2000 });
   * assert.equal(await lock.acquire({ timeout: 1000 }), true);
   * assert.equal(typeof lock.token, "number");
   * await lock.release();
   * ```
   */
  async acquire(options: RedisAcquireOptions = {}): Promise<boolean> {
    const attempt = async () => {
      const [ok, n] = await this.#conn.script(
        ACQUIRE,
        [this.#key, this.#fence],
        [this.#me, String(this.#lease), this.#reentrant ? "1" : "0"],
      ) as [number, number];
      if (ok === 1) return { done: true, value: n };
      return { done: false, retryIn: n > 0 ? n + 1 : 10 };
    };
    const r = options.blocking === false
      ? await attempt()
      : await _waitFor(this.#conn, this.#channel, attempt, options);
    if (!r.done) return false;
    this.#token = r.value;
    this.#held++;
    this.#lost = false;
    this.#startRenewing();
    return true;
  }

  #startRenewing(): void {
    if (this.#renewer !== undefined) return;
    this.#renewer = setInterval(() => {
      this.#conn.script(RENEW, [this.#key], [this.#me, String(this.#lease)])
        .then((r) => {
          if (Number(r) !== 1) this.#markLost();
        }, () => {/* retried next tick; the lease covers the gap */});
    }, Math.max(10, Math.floor(this.#lease / 3)));
  }

  #markLost(): void {
    this.#lost = this.#held > 0;
    this.#stopRenewing();
  }

  #stopRenewing(): void {
    if (this.#renewer !== undefined) clearInterval(this.#renewer);
    this.#renewer = undefined;
  }

  /**
   * Releases one hold.
   *
   * @throws {TypeError} (rejection) If this handle does not hold it.
   * @throws {LeaseLost} (rejection) If the lease expired while held (another
   * holder may have run meanwhile).
   *
   * @example Release a held lock
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.Lock({ name: "k", lease: 2000 });
   * await lock.acquire();
   * await lock.release();
   * assert.equal(await lock.locked(), false);
   * ```
   */
  async release(): Promise<void> {
    if (this.#held === 0) {
      throw new TypeError("Cannot release lock: it is not held");
    }
    const r = Number(
      await this.#conn.script(RELEASE, [this.#key], [this.#me, this.#channel]),
    );
    this.#held = r < 0 ? 0 : this.#reentrant ? r : 0;
    if (this.#held === 0) {
      this.#stopRenewing();
      this.#token = undefined;
    }
    if (r < 0 || this.#lost) {
      this.#lost = false;
      throw new LeaseLost(
        "Cannot release lock: its lease expired while held (another holder may have run)",
      );
    }
  }

  /**
   * True while anyone holds the lock.
   *
   * @example A new lock is free
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.Lock({ name: "k", lease: 2000 });
   * assert.equal(await lock.locked(), false);
   * ```
   */
  async locked(): Promise<boolean> {
    return Number(await this.#conn.command(["EXISTS", this.#key])) === 1;
  }

  /**
   * Holds the lock for a block: `await using _ = await lock.guard();`.
   *
   * @example Hold the lock for a block
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisManager, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using m = await RedisManager.connect(server.url);
   * const lock = await m.Lock({ name: "k", lease: 2000 });
   * {
   *   await using _ = await lock.guard();
   *   assert.equal(await lock.locked(), true);
   * }
   * assert.equal(await lock.locked(), false);
   * ```
   */
  async guard(options: RedisAcquireOptions = {}): Promise<AsyncDisposable> {
    if (!(await this.acquire(options))) {
      throw new TypeError("Cannot acquire lock: timed out");
    }
    let done = false;
    return {
      [Symbol.asyncDispose]: async () => {
        if (done) return;
        done = true;
        await this.release();
      },
    };
  }

  /** Releases every hold of this handle (if any) and stops renewing. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopRenewing();
    while (this.#held > 0) {
      try {
        await this.release();
      } catch {
        break; // lease already lost, or Redis unreachable: it lapses by itself
      }
    }
  }
}

/**
 * A re-entrant {@linkcode RedisLock}: the handle that holds it may acquire
 * it again (each acquire needs a release) — the Manager's `RLock()`. The
 * fencing token stays the same across nested holds.
 *
 * @example Re-enter a lock this handle holds
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisManager, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using m = await RedisManager.connect(server.url);
 * const r = await m.RLock({ name: "tree" });
 * assert.deepEqual([await r.acquire(), await r.acquire()], [true, true]);
 * await r.release();
 * assert.deepEqual(await r.locked(), true);
 * await r.release();
 * assert.deepEqual(await r.locked(), false);
 * ```
 */
export class RedisRLock extends RedisLock {
  /** @internal Use `RedisManager.RLock()`. */
  constructor(
    conn: _Connection,
    key: string,
    name: string,
    options: RedisLockOptions,
  ) {
    super(conn, key, name, options, true);
  }
}
