/**
 * {@linkcode Pool}: Python's `multiprocessing.Pool` across machines — the
 * client side; {@linkcode serveWorkers} runs on each worker machine.
 *
 * @module
 */

import { _Connection, _sleep } from "./_connection.ts";
import { _decode } from "./_codec.ts";
import { _moduleId, _poolKeys, type _Reply, _TaskQueue } from "./_pool_wire.ts";
import { _randomId } from "./_wait.ts";
import type {
  ClusterApplyAsyncOptions,
  ClusterMapOptions,
  ClusterPoolOptions,
  ClusterTarget,
  ClusterTaskOptions,
} from "./pool_options.ts";

interface Pending {
  fn: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  cleanup?: () => void;
}

function remoteError(v: unknown): Error {
  const e = v as { name?: string; message?: string };
  const error = new Error(e?.message ?? "Cannot run task: it failed");
  error.name = e?.name ?? "Error";
  return error;
}

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
 * @example
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
  #module: string;
  #target: ClusterTarget;
  #taskTimeout: number | undefined;
  #client = _randomId();
  #keys: ReturnType<typeof _poolKeys>;
  #replyKey: string;
  #ready: Promise<{ conn: _Connection; queue: _TaskQueue }>;
  #pending = new Map<string, Pending>();
  #next = 0;
  #loop: Promise<void> | undefined;
  #closed = false;
  #terminated = false;
  #idle: (() => void) | undefined;
  #cancels = new Set<Promise<void>>();
  #queued = new Map<string, string>(); // task id -> queue item id

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
    this.#module = _moduleId(options.module);
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
    this.#taskTimeout = t;
    this.#target = target;
    const keys = _poolKeys(target.prefix ?? "weft", target.name);
    this.#keys = keys;
    this.#replyKey = keys.reply(this.#client);
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
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = `${this.#client}:${++this.#next}`;
    return new Promise((resolve, reject) => {
      const entry: Pending = { fn, resolve, reject };
      this.#pending.set(id, entry);
      const timers: (() => void)[] = [];
      if (signal) {
        const onAbort = () => this.#cancel(id, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        timers.push(() => signal.removeEventListener("abort", onAbort));
      }
      if (this.#taskTimeout !== undefined) {
        const ms = this.#taskTimeout;
        const timer = setTimeout(() =>
          this.#cancel(
            id,
            new DOMException(
              `Cannot finish task "${fn}": it took longer than ${ms} ms`,
              "TimeoutError",
            ),
          ), ms);
        timers.push(() => clearTimeout(timer));
      }
      entry.cleanup = () => timers.forEach((f) => f());
      this.#ready.then(({ queue }) =>
        queue.send({
          m: this.#module,
          f: fn,
          a: args,
          k: mode,
          r: this.#replyKey,
          t: id,
          d: this.#taskTimeout ? Date.now() + this.#taskTimeout : 0,
        })
      ).then((qid) => {
        if (this.#pending.has(id)) {
          this.#queued.set(id, qid);
          this.#startLoop();
        } else {
          // cancelled before the put was answered
          this.#ready.then(({ queue }) => queue.remove(qid)).catch(() => {});
        }
      }, (error) => this.#settle(id, false, error));
    });
  }

  #settle(id: string, ok: boolean, value: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    this.#queued.delete(id);
    entry.cleanup?.();
    if (ok) entry.resolve(value);
    else entry.reject(value);
    if (this.#pending.size === 0) this.#idle?.();
  }

  #cancel(id: string, reason: unknown): void {
    if (!this.#pending.has(id)) return;
    const qid = this.#queued.get(id);
    this.#settle(id, false, reason);
    const sent = this.#ready.then(async ({ conn, queue }) => {
      // still waiting: take it out; else tell the worker running it
      if (qid !== undefined && await queue.remove(qid)) return;
      await conn.command(["PUBLISH", this.#keys.cancel, id]);
    }).catch(() => {}).finally(() => this.#cancels.delete(sent));
    this.#cancels.add(sent);
  }

  #startLoop(): void {
    this.#loop ??= this.#receive().finally(() => {
      this.#loop = undefined;
      if (this.#pending.size > 0 && !this.#terminated) this.#startLoop();
    });
  }

  async #receive(): Promise<void> {
    const { conn, queue } = await this.#ready;
    let lastReap = Date.now();
    while (this.#pending.size > 0 && !this.#terminated) {
      let reply: unknown;
      try {
        reply = await conn.blocking(["BLPOP", this.#replyKey, "1"]);
      } catch {
        if (this.#terminated || conn.closed) return;
        await _sleep(50);
        continue;
      }
      let got = false;
      if (Array.isArray(reply)) {
        this.#onReply(reply[1] as string);
        got = true;
      } else if (reply && typeof reply === "object") {
        this.#onReply((reply as { element: string }).element);
        got = true;
      }
      if (got) {
        // drain what else arrived, up to 256 replies per round trip
        const more = await conn.command(["LPOP", this.#replyKey, "256"])
          .catch(() => null);
        if (Array.isArray(more)) {
          for (const text of more) this.#onReply(text);
        }
      }
      if (Date.now() - lastReap > 1000) {
        // Return expired leases (and bury poison tasks) even when every
        // worker is gone or busy.
        lastReap = Date.now();
        await queue.unfinishedTasks().catch(() => {});
      }
    }
  }

  #onReply(text: string): void {
    if (text.startsWith("D")) {
      const id = text.slice(1);
      const fn = this.#pending.get(id)?.fn ?? "?";
      this.#settle(
        id,
        false,
        new Error(
          `Cannot finish task "${fn}": it was delivered ${
            this.#target.maxDeliveries ?? 3
          } times (maxDeliveries) and no worker finished it`,
        ),
      );
      return;
    }
    let reply: _Reply;
    try {
      reply = _decode<_Reply>(text);
    } catch {
      return;
    }
    this.#settle(reply.t, reply.ok, reply.ok ? reply.v : remoteError(reply.v));
  }

  /**
   * Runs `fn(...args)` on some worker machine; resolves with its result.
   *
   * @throws {TypeError} (rejection) If the pool is closed.
   *
   * @example
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
   * @example
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
   * @example
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
   * @example
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

  async *#stream<R>(
    fn: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options: ClusterTaskOptions = {},
  ): AsyncGenerator<R, void, undefined> {
    const window = 64;
    const stop = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, stop.signal])
      : stop.signal;
    const inflight = new Map<number, Promise<[number, R]>>();
    const order: number[] = [];
    let n = 0;
    try {
      for await (const item of items as AsyncIterable<unknown>) {
        const i = n++;
        const p = this.apply<R>(fn, [item], { signal }).then((v) =>
          [i, v] as [number, R]
        );
        p.catch(() => {});
        inflight.set(i, p);
        order.push(i);
        if (inflight.size >= window) {
          const [j, v] = ordered
            ? await inflight.get(order.shift()!)!
            : await Promise.race(inflight.values());
          inflight.delete(j);
          if (!ordered) order.splice(order.indexOf(j), 1);
          yield v;
        }
      }
      while (inflight.size > 0) {
        const [j, v] = ordered
          ? await inflight.get(order.shift()!)!
          : await Promise.race(inflight.values());
        inflight.delete(j);
        if (!ordered) order.splice(order.indexOf(j), 1);
        yield v;
      }
    } finally {
      if (inflight.size > 0) {
        stop.abort(new Error("Cannot finish task: the iteration ended early"));
      }
    }
  }

  /**
   * Results of `fn` over a (possibly async) iterable, in order, at most 64 in flight.
   *
   * @example
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
   * @example
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
    return this.#pending.size;
  }

  /**
   * Stops accepting tasks; pending ones still complete. Idempotent.
   *
   * @example
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
   * @example
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
    if (this.#pending.size > 0 && !this.#terminated) {
      await new Promise<void>((resolve) => this.#idle = resolve);
    }
    this.#terminated = true;
    await Promise.all(this.#cancels); // workers hear of every cancellation
    await this.#loop?.catch(() => {});
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
   * @example
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
    const error = new Error("Cannot finish task: the pool was terminated");
    for (const id of [...this.#pending.keys()]) this.#cancel(id, error);
  }

  /** Terminates and closes (like Python's `with Pool() as pool:`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }
}
