/**
 * weft: Python's network and concurrency toolbox (`socket`, `socketserver`,
 * `threading`, `queue`, `multiprocessing`, `hmac`) for Deno.
 *
 * Import a module (`@weft/weft/concurrency`, `@weft/weft/net`,
 * `@weft/weft/ipc`, `@weft/weft/auth`) or everything from here.
 *
 * @example
 * ```ts
 * import { revive, share } from "@weft/weft";
 *
 * console.log(revive<number[]>(structuredClone(share([1, 2]))).length); // 2
 * ```
 *
 * @module
 */
export * from "./concurrency/mod.ts";
export * from "./net/mod.ts";
export * from "./ipc/mod.ts";
export * from "./auth/mod.ts";
