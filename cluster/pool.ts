/**
 * {@linkcode Pool}: Python's `multiprocessing.Pool` across machines — the
 * client side; {@linkcode serveWorkers} runs on each worker machine.
 *
 * @module
 */

import { streamWindow } from "../_internal/stream_window.ts";
import { _Connection } from "./_connection.ts";
import { _PoolCalls } from "./_pool_calls.ts";
import { _moduleId, _poolKeys, _TaskQueue } from "./_pool_wire.ts";
import type {
  ClusterApplyAsyncOptions,
  ClusterMapOptions,
  ClusterPoolOptions,
  ClusterTaskOptions,
} from "./pool_options.ts";

/**
 * A pool whose workers are on other machines: like weft's local `Pool`
 * (same methods: `apply`, `applyAsync`, `map`, `starmap`, `imap`,
 * `imapUnordered`, `close`, `join`, `terminate`), except that tasks travel
 * through Redis to whichever machine runs `serveWorkers()` with the same
 * `cluster.name` — each running a local weft `Pool` of Web Workers.
 *
 * ## At-least-once
 * A task whose worker machine dies (or freezes past its lease) runs again
 * elsewhere, so **tasks must be idempotent**. A task that kills
 * `maxDeliveries` workers fails with a clear error instead of looping.
 * Errors thrown by a task come back with their name and message (no stack).
 *
 * @example Square numbers on a worker fleet
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export const square = (x) => x * x;");
 * const stop = new AbortController();
 * const workers = serveWorkers({ module, url: server.url, name: "squares", size: 2, signal: stop.signal });
 * await using pool = new Pool({ module, cluster: { url: server.url, name: "squares" } });
 * assert.deepEqual(await pool.map("square", [1, 2, 3]), [1, 4, 9]);
 * assert.deepEqual(await pool.apply("square", [12]), 144);
 * stop.abort();
 * await workers;
 * ```
 */
export class Pool implements AsyncDisposable {
  #calls: _PoolCalls;
  #ready: Promise<{ conn: _Connection; queue: _TaskQueue }>;
  #closed = false;
  #terminated = false;

  /**
   * Connects (in the background) to the fleet named `cluster.name`.
   *
   * @throws {TypeError} If an option is invalid.
   */
  constructor(options: ClusterPoolOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        'Cannot create Pool: options must have "module" and "cluster"',
      );
    }
    const module = _moduleId(options.module);
    const target = options.cluster;
    if (typeof target !== "object" || target === null) {
      throw new TypeError(
        'Cannot create Pool: "cluster" must be { url, name }',
      );
    }
    if (
      typeof target.name !== "string" || target.name === "" ||
      /[{}\s]/.test(target.name)
    ) {
      throw new TypeError(
        'Cannot create Pool: "cluster.name" must be a non-empty string without braces or spaces',
      );
    }
    const t = options.taskTimeout;
    if (t !== undefined && (typeof t !== "number" || !(t > 0))) {
      throw new TypeError(
        `Cannot create Pool: "taskTimeout" must be a number of milliseconds > 0, got ${t}`,
      );
    }
    const keys = _poolKeys(target.prefix ?? "weft", target.name);
    this.#ready = (async () => {
      const conn = await _Connection.open(target.url, "create Pool");
      const queue = _TaskQueue.attach(conn.ref(), {
        name: keys.queue,
        prefix: target.prefix,
        visibilityTimeout: target.visibilityTimeout,
        maxDeliveries: target.maxDeliveries ?? 3,
      });
      return { conn, queue };
    })();
    this.#ready.catch(() => {});
    this.#calls = new _PoolCalls(
      module,
      keys,
      t,
      target.maxDeliveries ?? 3,
      this.#ready,
    );
  }

  /** True once `close()` or `terminate()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #submit(
    fn: string,
    args: unknown[],
    mode: 0 | 1 | 2,
    options: ClusterTaskOptions = {},
  ): Promise<unknown> {
    if (typeof fn !== "string" || fn === "") {
      return Promise.reject(
        new TypeError(
          `Cannot run task: "fn" must be a non-empty string, got ${String(fn)}`,
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new TypeError("Cannot run task: the pool is closed"),
      );
    }
    return this.#calls.submit(fn, args, mode, options.signal);
  }

  /**
   * Runs `fn(...args)` on some worker machine; resolves with its result.
   *
   * @throws {TypeError} (rejection) If the pool is closed.
   *
   * @example Run one task
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * assert.equal(await pool.apply("inc", [1]), 2);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  apply<R = unknown>(
    fn: string,
    args: unknown[] = [],
    options?: ClusterTaskOptions,
  ): Promise<R> {
    return this.#submit(fn, args, 0, options) as Promise<R>;
  }

  /**
   * Like `apply`, with Python's `callback` / `errorCallback`.
   *
   * @example Get the result through a callback
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * let got = 0;
   * await pool.applyAsync<number>("inc", [1], { callback: (r) => got = r });
   * assert.equal(got, 2);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  applyAsync<R = unknown>(
    fn: string,
    args: unknown[] = [],
    options: ClusterApplyAsyncOptions<R> = {},
  ): Promise<R> {
    const promise = this.#submit(fn, args, 0, options) as Promise<R>;
    const { callback, errorCallback } = options;
    promise.then(
      (v) => {
        try {
          callback?.(v);
        } catch (error) {
          reportError(error);
        }
      },
      (e) => {
        try {
          errorCallback?.(e);
        } catch (error) {
          reportError(error);
        }
      },
    );
    if (errorCallback) promise.catch(() => {});
    return promise;
  }

  async #mapMode<R>(
    fn: string,
    items: Iterable<unknown>,
    mode: 1 | 2,
    options: ClusterMapOptions = {},
  ): Promise<R[]> {
    const all = Array.from(items);
    let size = options.chunksize;
    if (size === undefined) size = Math.max(1, Math.ceil(all.length / 16));
    if (!Number.isInteger(size) || size < 1) {
      throw new TypeError(
        `Cannot map: "chunksize" must be an integer >= 1, got ${size}`,
      );
    }
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < all.length; i += size) {
      pending.push(this.#submit(fn, all.slice(i, i + size), mode, options));
    }
    for (const p of pending) p.catch(() => {});
    return ((await Promise.all(pending)) as R[][]).flat(1) as R[];
  }

  /**
   * Applies `fn` to every item across the fleet; results in order.
   *
   * @example Map over items, results in order
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * assert.deepEqual(await pool.map("inc", [1, 2, 3]), [2, 3, 4]);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  map<R = unknown>(
    fn: string,
    items: Iterable<unknown>,
    options?: ClusterMapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, items, 1, options);
  }

  /**
   * Like `map`, each item being an argument list.
   *
   * @example Map over argument lists
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * assert.deepEqual(await pool.starmap("add", [[1, 2], [3, 4]]), [3, 7]);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  starmap<R = unknown>(
    fn: string,
    argsList: Iterable<unknown[]>,
    options?: ClusterMapOptions,
  ): Promise<R[]> {
    return this.#mapMode<R>(fn, argsList, 2, options);
  }

  #stream<R>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options?: ClusterTaskOptions,
  ): AsyncGenerator<R, void, undefined> {
    // One item per task, at most 64 in flight, refilled as results come.
    return streamWindow<R>(
      async (chunk, signal) => [await this.apply<R>(fn, chunk, { signal })],
      items,
      ordered,
      { limit: 64, refillAt: 63, signal: options?.signal },
    );
  }

  /**
   * Results of `fn` over a (possibly async) iterable, in order, at most 64 in flight.
   *
   * @example Stream results in order
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * const out: number[] = [];
   * for await (const n of pool.imap<number>("inc", [1, 2])) out.push(n);
   * assert.deepEqual(out, [2, 3]);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  imap<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: ClusterTaskOptions,
  ): AsyncGenerator<R, void, undefined> {
    return this.#stream<R>(fn, items, true, options);
  }

  /**
   * Like `imap`, in completion order.
   *
   * @example Stream results as they finish
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * const out: number[] = [];
   * for await (const n of pool.imapUnordered<number>("inc", [1, 2])) out.push(n);
   * assert.deepEqual(out.sort(), [2, 3]);
   * pool.close();
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  imapUnordered<R = unknown>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options?: ClusterTaskOptions,
  ): AsyncGenerator<R, void, undefined> {
    return this.#stream<R>(fn, items, false, options);
  }

  /** Number of tasks submitted by this client and not settled. */
  get pending(): number {
    return this.#calls.size;
  }

  /**
   * Stops accepting tasks; pending ones still complete. Idempotent.
   *
   * @example Refuse new tasks, finish pending ones
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * const done = pool.apply("inc", [1]);
   * pool.close();
   * await assert.rejects(pool.apply("inc", [2]), TypeError);
   * assert.equal(await done, 2);
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  close(): void {
    this.#closed = true;
  }

  /**
   * Waits until every task of this client settled, then closes the
   * connection (after `close()`).
   *
   * @throws {TypeError} (rejection) If the pool is still open.
   *
   * @example Wait for pending tasks after close
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * const done = pool.apply("inc", [41]);
   * pool.close();
   * await pool.join();
   * assert.equal(await done, 42);
   * stop.abort();
   * await served;
   * ```
   */
  async join(): Promise<void> {
    if (!this.#closed) {
      throw new TypeError(
        "Cannot join pool: call close() or terminate() first",
      );
    }
    if (!this.#terminated) await this.#calls.idle();
    this.#terminated = true;
    await this.#calls.stop();
    const ready = await this.#ready.catch(() => undefined);
    if (ready) {
      await ready.queue.close();
      await ready.conn.close();
    }
  }

  /**
   * Rejects every pending task of this client now (asking workers to
   * cancel them) and closes. Idempotent.
   *
   * @example Stop at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start();
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export const inc = (x) => x + 1; export const add = (a, b) => a + b;");
   * const stop = new AbortController();
   * const served = serveWorkers({ module, url: server.url, name: "p", size: 1, signal: stop.signal });
   * const pool = new Pool({ module, cluster: { url: server.url, name: "p" } });
   * pool.terminate();
   * assert.equal(pool.closed, true);
   * await pool.join();
   * stop.abort();
   * await served;
   * ```
   */
  terminate(): void {
    if (this.#terminated) return;
    this.#closed = true;
    this.#terminated = true;
    this.#calls.cancelAll(
      new Error("Cannot finish task: the pool was terminated"),
    );
    void this.#calls.stop();
  }

  /** Terminates and closes (like Python's `with Pool() as pool:`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }
}
