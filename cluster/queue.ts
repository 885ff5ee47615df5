/**
 * {@linkcode Queue}: Python's `queue.Queue` shared by every process on every
 * machine that connects to the same Redis, with leases (at-least-once).
 *
 * @module
 */

import { QueueEmpty, QueueFull } from "../concurrency/queue_errors.ts";
import { _Connection } from "./_connection.ts";
import { _decode, _encode } from "./_codec.ts";
import {
  _DONE,
  _GET,
  _KEY_NAMES,
  _PUT,
  _REAP,
  _RELEASE,
  _REMOVE,
  _TOUCH,
  _UNGET,
} from "./_queue_scripts.ts";
import { LeaseLost } from "./lease_lost.ts";
import type { RedisClientLike } from "./redis_client.ts";
import type {
  ClusterTask,
  ClusterWaitOptions,
  DeadLetter,
  QueueConnectOptions,
  QueueOrder,
} from "./queue_options.ts";

/** A consumer loop of `tasks()`: the item its last ack took, if any. */
interface Stream {
  open: boolean;
  next?: [string, string, string, number];
}

interface Delivery {
  id: string;
  token: string;
}

function validName(what: string, name: unknown): string {
  if (typeof name !== "string" || name === "" || /[{}\s]/.test(name)) {
    throw new TypeError(
      `Cannot ${what}: "name" must be a non-empty string without braces or spaces, got ${
        String(name)
      }`,
    );
  }
  return name;
}

function count(
  what: string,
  field: string,
  value: unknown,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot ${what}: "${field}" must be an integer >= ${min}, got ${
        String(value)
      }`,
    );
  }
  return value;
}

let consumerSeq = 0;

/**
 * A FIFO queue in Redis with Python's method names, shared across
 * processes and machines — `multiprocessing.Queue` that outlives any one
 * machine. Open a handle with `await Queue.connect(url, { name })`.
 *
 * ## Contract: at-least-once
 * **Tasks must be idempotent** (or record their results keyed by item id).
 * `get()` takes a *lease* on the item for `visibilityTimeout` ms; the item
 * stays unfinished until `taskDone()` (or the `ack()` of
 * {@linkcode Queue.getTask}). If the consumer dies, freezes or stalls past
 * its lease, the item is delivered again (at its original place in the
 * order) to the next `get()`; a late `taskDone()` from the stale holder is
 * refused with {@linkcode LeaseLost}. After `maxDeliveries` deliveries an
 * item goes to {@linkcode Queue.deadLetters} instead of looping. Nothing is
 * lost while Redis keeps its data (run it with persistence, AOF, if a
 * Redis restart must not lose the queue).
 *
 * ## Differences from Python
 * Every method is async. Call `taskDone()` for every `get()` — as for
 * Python's `JoinableQueue` — otherwise the item comes back after its lease.
 * `taskDone()` acknowledges the oldest item *this handle* got. `maxsize`
 * bounds the waiting items (not the leased ones), checked atomically in
 * Redis, so it holds across every producer (an item coming back from an
 * expired lease returns even to a full queue: it was already counted). `join()` waits until no item is
 * waiting or leased, on every machine, and resolves `false` on timeout.
 * `close()` closes this handle's connection only (the queue lives on in
 * Redis).
 *
 * ## Platform
 * Needs `--allow-net` for the Redis host and
 * `--allow-env=REDIS_DEBUG_MAINTENANCE` (read by the node-redis client).
 *
 * @example Two handles, one queue
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * await using producer = await Queue.connect<string>(server.url, { name: "jobs" });
 * await using consumer = await Queue.connect<string>(server.url, { name: "jobs" });
 * await producer.put("a");
 * await producer.put("b");
 * assert.deepEqual(await consumer.get(), "a");
 * await consumer.taskDone();
 * assert.deepEqual([await consumer.get(), await producer.qsize()], ["b", 0]);
 * await consumer.taskDone();
 * assert.deepEqual(await producer.join({ timeout: 1000 }), true);
 * ```
 */
export class Queue<T = unknown> implements AsyncDisposable {
  #conn: _Connection;
  #keys: string[];
  #channel: string;
  #order: QueueOrder;
  #maxsize: number;
  #visibility: number;
  #maxDeliveries: number;
  #consumer: string;
  #ledger: Delivery[] = [];
  #streams = new WeakMap<ClusterTask<T>, Stream>();
  #name: string;

  /** Use `Queue.connect()` (or the subclass's `connect`). */
  protected constructor(
    conn: _Connection,
    options: QueueConnectOptions,
    order: QueueOrder,
  ) {
    const what = "connect queue";
    this.#conn = conn;
    this.#name = validName(what, options.name);
    const prefix = options.prefix ?? "weft";
    const base = `${prefix}:q:{${this.#name}}`;
    this.#keys = _KEY_NAMES.map((part) => `${base}:${part}`);
    this.#channel = `${base}:joined`;
    this.#order = order;
    this.#maxsize = count(what, "maxsize", options.maxsize, 0, 0);
    this.#visibility = count(
      what,
      "visibilityTimeout",
      options.visibilityTimeout,
      30_000,
      1,
    );
    this.#maxDeliveries = count(
      what,
      "maxDeliveries",
      options.maxDeliveries,
      5,
      0,
    );
    const rand = crypto.getRandomValues(new Uint8Array(6));
    this.#consumer = Array.from(rand, (b) => b.toString(16).padStart(2, "0"))
      .join("") + "-" + (++consumerSeq);
  }

  /** @internal Opens the connection and validates the options. */
  protected static async _open(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<_Connection> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError('Cannot connect queue: options must have a "name"');
    }
    validName("connect queue", options.name);
    return await _Connection.open(target, "connect queue", options);
  }

  /**
   * Connects to the queue `name` on the Redis at `target` (a `redis://`
   * URL or your own node-redis client).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<number>(server.url, { name: "n", maxsize: 2 });
   * assert.deepEqual(q.maxsize, 2);
   * ```
   *
   * @throws {TypeError} (rejection) If the URL is invalid or no server answers.
   * @throws {RangeError} (rejection) If a count option is out of range.
   */
  static async connect<T = unknown>(
    target: string | URL | RedisClientLike,
    options: QueueConnectOptions,
  ): Promise<Queue<T>> {
    const conn = await Queue._open(target, options);
    try {
      return new Queue<T>(conn, options, "fifo");
    } catch (error) {
      await conn.close();
      throw error;
    }
  }

  /** The queue's name. */
  get name(): string {
    return this.#name;
  }

  /** The bound on waiting items (0 = none). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#conn.closed;
  }

  /** @internal The score that orders `item` (overridden by PriorityQueue). */
  protected _score(_item: T): number {
    return 0;
  }

  async #tryPut(
    item: T,
    payload: string,
    meta: string,
  ): Promise<string | null> {
    const lifo = this.#order === "lifo";
    const reply = await this.#conn.script(_PUT, this.#keys, [
      payload,
      lifo ? "0" : String(this._score(item)),
      String(this.#maxsize),
      meta,
      lifo ? "lifo" : "",
    ]);
    return reply as string | null;
  }

  /** @internal put with an optional dead-letter notice: `"<list key>\n<message>"`. */
  protected async _put(
    item: T,
    options: ClusterWaitOptions & { block?: boolean; meta?: string } = {},
  ): Promise<string> {
    const payload = _encode(item);
    const meta = options.meta ?? "";
    const { signal } = options;
    signal?.throwIfAborted();
    const deadline = options.timeout === undefined
      ? Infinity
      : Date.now() + Math.max(0, options.timeout);
    for (;;) {
      const id = await this.#tryPut(item, payload, meta);
      if (id !== null) return id;
      const left = deadline - Date.now();
      if (options.block === false || left <= 0) {
        throw new QueueFull(
          `Cannot put item: the queue "${this.#name}" is full (maxsize ${this.#maxsize})`,
        );
      }
      await this.#conn.blocking(
        [
          "BZPOPMIN",
          this.#keys[8],
          String(Math.max(1, Math.min(left, 1000)) / 1000),
        ],
        signal,
      );
    }
  }

  /**
   * Puts `item` at the end, waiting while the queue is full (up to
   * `timeout` ms, then `QueueFull`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueFull, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "p", maxsize: 1 });
   * await q.put("x");
   * await assert.rejects(q.put("y", { timeout: 50 }), QueueFull);
   * ```
   *
   * @throws {QueueFull} (rejection) If the timeout passed with the queue full.
   */
  async put(item: T, options: ClusterWaitOptions = {}): Promise<void> {
    await this._put(item, options);
  }

  /**
   * Puts `item` only if there is room; else throws `QueueFull`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "pn" });
   * await q.putNowait(1);
   * assert.deepEqual(await q.qsize(), 1);
   * ```
   */
  async putNowait(item: T): Promise<void> {
    await this._put(item, { block: false });
  }

  async #take(
    options: ClusterWaitOptions & { block?: boolean },
  ): Promise<[string, string, string, number]> {
    const { signal } = options;
    signal?.throwIfAborted();
    const deadline = options.timeout === undefined
      ? Infinity
      : Date.now() + Math.max(0, options.timeout);
    for (;;) {
      const reply = await this.#conn.script(_GET, this.#keys, [
        String(this.#visibility),
        this.#consumer,
        String(this.#maxDeliveries),
        this.#channel,
      ]) as [string, string, string, number] | number;
      if (Array.isArray(reply)) return reply;
      const left = deadline - Date.now();
      if (options.block === false || left <= 0) {
        throw new QueueEmpty(
          `Cannot get item: the queue "${this.#name}" is empty`,
        );
      }
      await this.#conn.blocking(
        [
          "BZPOPMIN",
          this.#keys[7],
          String(
            Math.max(1, Math.min(left, reply > 0 ? reply : 1000, 1000)) / 1000,
          ),
        ],
        signal,
      );
    }
  }

  /**
   * Takes the next item, waiting while the queue is empty (up to `timeout`
   * ms, then `QueueEmpty`). The item is leased to this handle until
   * `taskDone()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, QueueEmpty, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "g" });
   * await assert.rejects(q.get({ timeout: 20 }), QueueEmpty);
   * ```
   *
   * @throws {QueueEmpty} (rejection) If the timeout passed with the queue empty.
   */
  async get(options: ClusterWaitOptions = {}): Promise<T> {
    const [id, payload, token] = await this.#take(options);
    this.#ledger.push({ id, token });
    return _decode<T>(payload);
  }

  /**
   * Takes an item only if one is waiting; else throws `QueueEmpty`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "gn" });
   * await q.put(7);
   * assert.deepEqual(await q.getNowait(), 7);
   * await q.taskDone();
   * ```
   */
  async getNowait(): Promise<T> {
    const [id, payload, token] = await this.#take({ block: false });
    this.#ledger.push({ id, token });
    return _decode<T>(payload);
  }

  /**
   * Takes the next item with explicit control of its lease: `ack()`,
   * `touch(ms)` (keep it while a long task runs) and `release()`. For a
   * consumer loop, {@linkcode Queue.tasks} is faster (an ack there also
   * takes the next item).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<string>(server.url, { name: "t" });
   * await q.put("job");
   * const task = await q.getTask();
   * await task.touch(60_000);
   * assert.deepEqual([task.value, task.deliveries], ["job", 1]);
   * await task.ack();
   * ```
   */
  async getTask(
    options: ClusterWaitOptions & { block?: boolean } = {},
  ): Promise<ClusterTask<T>> {
    return this.#task(await this.#take(options));
  }

  #task(
    raw: [string, string, string, number],
    stream?: Stream,
  ): ClusterTask<T> {
    const [id, payload, token, deliveries] = raw;
    const task: ClusterTask<T> = {
      id,
      value: _decode<T>(payload),
      token,
      deliveries: Number(deliveries),
      ack: () => this.#ack(id, token, undefined, stream),
      touch: (ms?: number) => this.#touch(id, token, ms ?? this.#visibility),
      release: () => this.#release(id, token),
    };
    if (stream) this.#streams.set(task, stream);
    return task;
  }

  /**
   * Takes items one after another, for a consumer loop:
   * `for await (const task of queue.tasks()) { ...; await task.ack(); }`.
   * Acknowledging a task inside the loop also takes the next item in the
   * same Redis step (one round trip per item instead of two). Leaving the
   * loop gives a so-taken item back at once, not counted as a delivery.
   * Waits like `getTask()` while the queue is empty; `signal` ends it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect<number>(server.url, { name: "loop" });
   * for (const n of [1, 2, 3]) await q.put(n);
   * const seen: number[] = [];
   * for await (const task of q.tasks()) {
   *   seen.push(task.value);
   *   await task.ack();
   *   if (seen.length === 2) break;
   * }
   * assert.deepEqual(seen, [1, 2]);
   * assert.equal(await q.qsize(), 1); // 3 was given back
   * ```
   */
  async *tasks(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<ClusterTask<T>, void, undefined> {
    const stream: Stream = { open: true };
    try {
      for (;;) {
        const raw = stream.next ?? await this.#take(options);
        stream.next = undefined;
        yield this.#task(raw, stream);
      }
    } finally {
      stream.open = false;
      const left = stream.next;
      stream.next = undefined;
      if (left && !this.#conn.closed) {
        await this.#conn.script(_UNGET, this.#keys, [left[0], left[2]])
          .catch(() => {});
      }
    }
  }

  async #ack(
    id: string,
    token: string,
    reply?: [string, string],
    stream?: Stream,
  ): Promise<void> {
    const prefetch = stream !== undefined && stream.open &&
      stream.next === undefined;
    const r = await this.#conn.script(
      _DONE,
      reply ? [...this.#keys, reply[0]] : this.#keys,
      [
        id,
        token,
        this.#channel,
        reply ? reply[1] : "",
        String(this.#visibility),
        this.#consumer,
        String(this.#maxDeliveries),
        prefetch ? "1" : "",
      ],
    ) as [number, string?, string?, string?, number?];
    const left = Number(r[0]);
    if (r.length > 1 && stream) {
      const next = r.slice(1) as [string, string, string, number];
      if (stream.open && stream.next === undefined) stream.next = next;
      else {
        await this.#conn.script(_UNGET, this.#keys, [next[0], next[2]])
          .catch(() => {});
      }
    }
    if (left === -1) throw new LeaseLost();
    if (left === -2) {
      throw new LeaseLost(
        "Cannot acknowledge item: it is no longer in the queue (its lease expired and another consumer finished it)",
      );
    }
  }

  /** @internal Removes a waiting item (not one already taken); true if it did. */
  protected async _remove(id: string): Promise<boolean> {
    return Number(
      await this.#conn.script(_REMOVE, this.#keys, [id, this.#channel]),
    ) === 1;
  }

  /** @internal Acknowledges and, in the same step, pushes `reply[1]` to the list `reply[0]`. */
  protected _ackWithReply(
    task: ClusterTask<T>,
    reply: [string, string],
  ): Promise<void> {
    return this.#ack(task.id, task.token, reply, this.#streams.get(task));
  }

  async #touch(id: string, token: string, ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 1) {
      throw new RangeError(
        `Cannot renew lease: "ms" must be >= 1, got ${ms}`,
      );
    }
    const r = await this.#conn.script(_TOUCH, this.#keys, [
      id,
      token,
      String(Math.round(ms)),
    ]);
    if (r === -1) {
      throw new LeaseLost(
        "Cannot renew lease: it expired and the item was delivered again",
      );
    }
  }

  async #release(id: string, token: string): Promise<void> {
    const r = await this.#conn.script(_RELEASE, this.#keys, [
      id,
      token,
      String(this.#maxDeliveries),
      this.#channel,
    ]);
    if (r === -1) {
      throw new LeaseLost(
        "Cannot release item: its lease expired and it was delivered again",
      );
    }
  }

  /**
   * Marks the oldest item this handle got (and has not marked) as done —
   * Python's `task_done()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "td" });
   * await q.put(1);
   * await q.get();
   * await q.taskDone();
   * assert.deepEqual(await q.unfinishedTasks(), 0);
   * ```
   *
   * @throws {RangeError} (rejection) If called more times than this handle got items.
   * @throws {LeaseLost} (rejection) If the item's lease expired (it was delivered again).
   */
  async taskDone(): Promise<void> {
    const delivery = this.#ledger.shift();
    if (!delivery) {
      throw new RangeError(
        "Cannot mark task done: called more times than this handle got items",
      );
    }
    await this.#ack(delivery.id, delivery.token);
  }

  /**
   * Waits until every item put by anyone has been marked done (or sent to
   * the dead letters); resolves `false` if `timeout` passed first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "j" });
   * await q.put(1);
   * assert.deepEqual(await q.join({ timeout: 30 }), false);
   * await q.get();
   * await q.taskDone();
   * assert.deepEqual(await q.join(), true);
   * ```
   */
  async join(options: ClusterWaitOptions = {}): Promise<boolean> {
    const { signal } = options;
    signal?.throwIfAborted();
    const deadline = options.timeout === undefined
      ? Infinity
      : Date.now() + Math.max(0, options.timeout);
    let wake: (() => void) | undefined;
    const unsubscribe = await this.#conn.subscribe(
      this.#channel,
      () => wake?.(),
    );
    try {
      for (;;) {
        const [unfinished] = await this.#conn.script(_REAP, this.#keys, [
          String(this.#maxDeliveries),
          this.#channel,
        ]) as [number, number];
        if (unfinished === 0) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        signal?.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(done, Math.min(left, 500));
          const onAbort = () => {
            done();
            reject(signal!.reason);
          };
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      }
    } finally {
      await unsubscribe();
    }
  }

  /**
   * Number of waiting (not leased) items — Python's `qsize()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "s" });
   * await q.put("a");
   * assert.deepEqual(await q.qsize(), 1);
   * ```
   */
  async qsize(): Promise<number> {
    return Number(await this.#conn.command(["ZCARD", this.#keys[0]]));
  }

  /**
   * True when no item is waiting.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "e" });
   * assert.deepEqual(await q.empty(), true);
   * ```
   */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /**
   * True when `maxsize` items are waiting.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "f", maxsize: 1 });
   * await q.put(0);
   * assert.deepEqual(await q.full(), true);
   * ```
   */
  async full(): Promise<boolean> {
    return this.#maxsize > 0 && (await this.qsize()) >= this.#maxsize;
  }

  /**
   * Items put and not yet done (waiting + leased), across every client;
   * expired leases are returned to the queue first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "u" });
   * await q.put(1);
   * await q.get();
   * assert.deepEqual([await q.unfinishedTasks(), await q.qsize()], [1, 0]);
   * ```
   */
  async unfinishedTasks(): Promise<number> {
    const [unfinished] = await this.#conn.script(_REAP, this.#keys, [
      String(this.#maxDeliveries),
      this.#channel,
    ]) as [number, number];
    return Number(unfinished);
  }

  /**
   * Items that were delivered `maxDeliveries` times without being done,
   * oldest first (they count as finished for `join()`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "d", maxDeliveries: 1 });
   * await q.put("poison");
   * const task = await q.getTask();
   * await task.release();
   * assert.deepEqual(await q.deadLetters(), [{ id: "0000000000000001", value: "poison", deliveries: 1 }]);
   * ```
   */
  async deadLetters(): Promise<DeadLetter<T>[]> {
    const raw = await this.#conn.command([
      "LRANGE",
      this.#keys[9],
      "0",
      "-1",
    ]) as string[];
    return raw.map((text) => {
      const entry = JSON.parse(text) as {
        id: string;
        item: string;
        deliveries: number;
      };
      return {
        id: entry.id,
        value: _decode<T>(entry.item),
        deliveries: entry.deliveries,
      };
    });
  }

  /**
   * Deletes every key of this queue (items, leases, dead letters) — for
   * tests and resets; handles stay usable.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * await using q = await Queue.connect(server.url, { name: "c" });
   * await q.put(1);
   * await q.clear();
   * assert.deepEqual(await q.qsize(), 0);
   * ```
   */
  async clear(): Promise<void> {
    await this.#conn.command(["DEL", ...this.#keys]);
    this.#ledger = [];
  }

  /**
   * Closes this handle's connection (the queue stays in Redis). Items it
   * got and did not mark done come back after their lease. Idempotent.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Queue, RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const q = await Queue.connect(server.url, { name: "x" });
   * await q.close();
   * assert.deepEqual(q.closed, true);
   * ```
   */
  async close(): Promise<void> {
    await this.#conn.close();
  }

  /** Closes the handle. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
