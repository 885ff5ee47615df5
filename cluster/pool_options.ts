/**
 * Options of the cluster `Pool` and of `serveWorkers`.
 *
 * @module
 */

import type { RedisClientLike } from "./redis_client.ts";

/** Where a cluster `Pool` (and `serveWorkers`) meet. */
export interface ClusterTarget {
  /** The Redis: a `redis://` URL or your own node-redis client. */
  url: string | URL | RedisClientLike;
  /** The pool's name: clients and workers with the same name work together. */
  name: string;
  /**
   * Key prefix.
   *
   * @default {"weft"}
   */
  prefix?: string;
  /**
   * Milliseconds a worker's lease on a task lasts without renewal (default 30000; workers renew every third).
   *
   * @default {30000}
   */
  visibilityTimeout?: number;
  /**
   * Deliveries after which a task fails instead of running again.
   *
   * @default {3}
   */
  maxDeliveries?: number;
}

/** Options of the cluster `Pool`. */
export interface ClusterPoolOptions {
  /**
   * The task module, exactly as the workers were given it
   * (`serveWorkers({ module })`): a path relative to each worker's current
   * directory, or a URL every worker machine can load (https:, data:...).
   * Tasks name its exported functions.
   */
  module: string | URL;
  /** The fleet to send tasks to. */
  cluster: ClusterTarget;
  /** Milliseconds a task may take from submission; past it, it fails with a `TimeoutError`. */
  taskTimeout?: number;
}

/** Options of one cluster task. */
export interface ClusterTaskOptions {
  /** Cancels the task (queued: never runs; running: the worker's task signal aborts). */
  signal?: AbortSignal;
}

/** Options of `applyAsync`. */
export interface ClusterApplyAsyncOptions<R> extends ClusterTaskOptions {
  /** Called with the result once the task succeeds. */
  callback?: (result: R) => void;
  /** Called with the error once the task fails. */
  errorCallback?: (error: unknown) => void;
}

/** Options of `map` and friends. */
export interface ClusterMapOptions extends ClusterTaskOptions {
  /** Items per task (default: about `length / 16` for arrays, 1 otherwise). */
  chunksize?: number;
}
