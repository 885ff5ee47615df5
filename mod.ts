/**
 * weft: Python's network and concurrency toolbox (`socket`, `socketserver`,
 * `threading`, `queue`, `multiprocessing`, `hmac`) for Deno.
 *
 * Import a module (`@weft/weft/concurrency`, `@weft/weft/net`,
 * `@weft/weft/ipc`, `@weft/weft/auth`) or everything from here.
 *
 * @example A TCP server whose handlers hand work to a Queue
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue, recv, sendall, serveTcp } from "@weft/weft";
 *
 * const jobs = new Queue<string>();
 * await using server = await serveTcp({
 *   port: 0,
 *   handler: async (conn) => {
 *     const data = await recv(conn, 1024);
 *     await jobs.put(new TextDecoder().decode(data));
 *     await sendall(conn, "queued");
 *   },
 * });
 * using client = await Deno.connect(server.addr);
 * await sendall(client, "job 1");
 * assert.equal(new TextDecoder().decode(await recv(client, 1024)), "queued");
 * assert.equal(await jobs.get(), "job 1");
 * ```
 *
 * @module
 */
export * from "./concurrency/mod.ts";
export * from "./net/mod.ts";
export * from "./ipc/mod.ts";
export * from "./auth/mod.ts";
