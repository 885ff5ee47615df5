/**
 * Python's `multiprocessing` plumbing for Deno: message connections that
 * speak `multiprocessing.connection`'s framing and authkey handshake
 * (`Listener`, `Client`), in-memory pipes (`Pipe`) and subprocesses running
 * an exported function (`Process`).
 *
 * @example A pipe, then an authenticated socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, Listener, Pipe } from "@weft/weft/ipc";
 *
 * // A pipe: two connected ends.
 * const [a, b] = Pipe();
 * await a.send(new Map([["answer", 42]]));
 * assert.deepEqual(await b.recv(), new Map([["answer", 42]]));
 * a.close();
 * b.close();
 *
 * // An authenticated socket, the same protocol Python's Listener speaks.
 * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 }, authkey: "secret" });
 * const accepted = listener.accept();
 * using client = await Client(listener.address, { authkey: "secret" });
 * using server = await accepted;
 * await client.sendBytes(new TextEncoder().encode("ping"));
 * assert.equal(new TextDecoder().decode(await server.recvBytes()), "ping");
 * ```
 *
 * @module
 */
export * from "./connection.ts";
export * from "./listener.ts";
export * from "./pipe.ts";
export * from "./process.ts";
export * from "./manager.ts";
export * from "./manager_proxy.ts";
export * from "./manager_error.ts";
export * from "./pickle.ts";
export * from "./pickle_values.ts";
export * from "./pickle_error.ts";
// types of the public API above that are defined elsewhere
export type { SharedHandle, ShareTarget } from "../concurrency/share.ts";
export type { AuthKey } from "../auth/handshake.ts";
