/**
 * {@linkcode serveWorkers}: the worker side of the cluster
 * {@linkcode Pool}, run on every worker machine.
 *
 * @module
 */

import { Pool as LocalPool } from "../concurrency/pool.ts";
import { _Connection, _sleep } from "./_connection.ts";
import { _encode } from "./_codec.ts";
import {
  _moduleId,
  _poolKeys,
  type _Reply,
  type _TaskMessage,
  _TaskQueue,
  _wireError,
} from "./_pool_wire.ts";
import type { ClusterTarget } from "./pool_options.ts";
import type { ClusterTask } from "./queue_options.ts";
import { LeaseLost } from "./lease_lost.ts";

/** What {@linkcode serveWorkers} reports through `onEvent`. */
export interface WorkerEvent {
  /** `"start"`, `"done"`, `"failed"` (the task threw), `"lease-lost"` (another worker got it meanwhile). */
  type: "start" | "done" | "failed" | "lease-lost";
  /** The exported function's name. */
  fn: string;
  /** The task's id (`"<client>:<n>"`). */
  task: string;
  /** Deliveries of this task, this one included. */
  deliveries: number;
}

/** Options of {@linkcode serveWorkers}. */
export interface ServeWorkersOptions extends ClusterTarget {
  /** The task module, exactly as clients give it; a relative path resolves against the current directory. */
  module: string | URL;
  /**
   * Local Web Workers (default: `navigator.hardwareConcurrency`).
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * Tasks taken ahead per local worker.
   *
   * @default {2}
   */
  prefetch?: number;
  /** Milliseconds one task may run on this machine (the local Pool's `taskTimeout`). */
  taskTimeout?: number;
  /** Stops taking tasks; running ones finish, then the promise resolves. */
  signal?: AbortSignal;
  /** Called on every task event (for logs). */
  onEvent?: (event: WorkerEvent) => void;
}

/** What {@linkcode serveWorkers} resolves with. */
export interface ServeWorkersStats {
  /** Tasks that ran and returned. */
  completed: number;
  /** Tasks that ran and threw (their error went back to the client). */
  failed: number;
  /** Tasks whose lease expired while they ran here (their result was refused). */
  leaseLost: number;
}

function localUrl(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  const cwd = Deno.cwd().replace(/\\/g, "/");
  return new URL(module, `file://${cwd.startsWith("/") ? "" : "/"}${cwd}/`)
    .href;
}

/**
 * Serves the cluster {@linkcode Pool} named `name` from this machine: takes
 * tasks from Redis, runs them on a local weft `Pool` of `size` Web Workers,
 * renews each task's lease from the main thread while it runs (so a
 * CPU-bound task never loses its lease), and sends the result back. Runs
 * until `signal` aborts; then finishes the tasks it holds and resolves.
 *
 * If this machine dies, its tasks are delivered to another after their
 * lease (`visibilityTimeout`). Run it as a small program on each worker
 * machine:
 *
 * ```sh
 * deno run --allow-net=redis.internal --allow-read --allow-env=REDIS_DEBUG_MAINTENANCE worker.ts
 * ```
 *
 * @example Serve a pool from this process
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pool, RedisServer, serveWorkers } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export const add = (a, b) => a + b;");
 * const stop = new AbortController();
 * const served = serveWorkers({ module, url: server.url, name: "adders", size: 1, signal: stop.signal });
 * await using pool = new Pool({ module, cluster: { url: server.url, name: "adders" } });
 * assert.deepEqual(await pool.starmap("add", [[1, 2], [3, 4]]), [3, 7]);
 * stop.abort();
 * assert.equal((await served).completed, 2); // two chunks of one pair
 * ```
 */
export async function serveWorkers(
  options: ServeWorkersOptions,
): Promise<ServeWorkersStats> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      'Cannot serve workers: options must have "module", "url" and "name"',
    );
  }
  const moduleId = _moduleId(options.module);
  if (
    typeof options.name !== "string" || options.name === "" ||
    /[{}\s]/.test(options.name)
  ) {
    throw new TypeError(
      'Cannot serve workers: "name" must be a non-empty string without braces or spaces',
    );
  }
  const size = options.size ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  const prefetch = options.prefetch ?? 2;
  if (!Number.isInteger(prefetch) || prefetch < 1) {
    throw new RangeError(
      `Cannot serve workers: "prefetch" must be an integer >= 1, got ${prefetch}`,
    );
  }
  const { signal, onEvent } = options;
  const stats: ServeWorkersStats = { completed: 0, failed: 0, leaseLost: 0 };
  if (signal?.aborted) return stats;
  const keys = _poolKeys(options.prefix ?? "weft", options.name);
  const visibility = options.visibilityTimeout ?? 30_000;
  const conn = await _Connection.open(options.url, "serve workers");
  const queue = _TaskQueue.attach(conn.ref(), {
    name: keys.queue,
    prefix: options.prefix,
    visibilityTimeout: visibility,
    maxDeliveries: options.maxDeliveries ?? 3,
  });
  const pool = new LocalPool({
    module: localUrl(moduleId),
    size,
    taskTimeout: options.taskTimeout,
  });
  interface Running {
    ac: AbortController;
    task: ClusterTask<_TaskMessage>;
    lost: boolean;
  }
  const running = new Map<string, Running>();
  const unsubscribe = await conn.subscribe(keys.cancel, (id) => {
    running.get(id)?.ac.abort(
      new Error("Cannot finish task: it was cancelled"),
    );
  });
  // One ticker renews the leases of every running task, from this (main)
  // thread, so a CPU-bound task in a Web Worker never loses its lease.
  const renewer = setInterval(() => {
    for (const r of running.values()) {
      r.task.touch().catch((error) => {
        if (error instanceof LeaseLost) r.lost = true;
      });
    }
  }, Math.max(10, Math.floor(visibility / 3)));

  const emit = (type: WorkerEvent["type"], msg: _TaskMessage, n: number) => {
    try {
      onEvent?.({ type, fn: msg.f, task: msg.t, deliveries: n });
    } catch (error) {
      reportError(error);
    }
  };

  const handle = async (task: ClusterTask<_TaskMessage>) => {
    const msg = task.value;
    if (msg.d > 0 && Date.now() > msg.d) {
      await task.ack().catch(() => {});
      return;
    }
    const ac = new AbortController();
    const entry: Running = { ac, task, lost: false };
    running.set(msg.t, entry);
    emit("start", msg, task.deliveries);
    let body: _Reply;
    try {
      if (msg.m !== moduleId) {
        throw new TypeError(
          `Cannot run task: it is for module "${msg.m}" but this worker serves "${moduleId}"`,
        );
      }
      const opts = { signal: ac.signal };
      const v = msg.k === 0
        ? await pool.apply(msg.f, msg.a, opts)
        : msg.k === 1
        ? await pool.map(msg.f, msg.a, { ...opts, chunksize: 1 })
        : await pool.starmap(msg.f, msg.a as unknown[][], {
          ...opts,
          chunksize: 1,
        });
      body = { t: msg.t, ok: true, v };
    } catch (error) {
      body = { t: msg.t, ok: false, v: _wireError(error) };
    } finally {
      running.delete(msg.t);
    }
    try {
      await queue.answer(task, _encode(body));
      if (entry.lost) throw new LeaseLost();
      if (body.ok) stats.completed++;
      else stats.failed++;
      emit(body.ok ? "done" : "failed", msg, task.deliveries);
    } catch (error) {
      if (!(error instanceof LeaseLost)) throw error;
      stats.leaseLost++;
      emit("lease-lost", msg, task.deliveries);
    }
  };

  const slot = async () => {
    while (!signal?.aborted) {
      try {
        // tasks(): each answer also takes the next task (one round trip)
        for await (const task of queue.tasks({ signal })) {
          try {
            await handle(task);
          } catch (error) {
            if (conn.closed) return;
            reportError(error);
          }
          if (signal?.aborted) break;
        }
      } catch (error) {
        if (signal?.aborted || conn.closed) return;
        reportError(error);
        await _sleep(100);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: size * prefetch }, slot));
  } finally {
    clearInterval(renewer);
    await unsubscribe().catch(() => {});
    pool.close();
    await pool.join();
    await queue.close();
    await conn.close();
  }
  return stats;
}
