/**
 * Python's `threading` and `queue`, and `multiprocessing.Pool`, for Deno:
 * primitives that live in a `SharedArrayBuffer` and work across Web Workers.
 *
 * @example Sharing values with a worker
 * ```ts
 * import { revive, share } from "@weft/weft/concurrency";
 *
 * const message = share({ job: 1 });
 * console.log(revive<{ job: number }>(structuredClone(message)).job); // 1
 * ```
 *
 * @module
 */
export * from "./share.ts";
