/**
 * `Listener` and `Client`: authenticated connections over TCP or Unix
 * sockets, wire-compatible with Python's `multiprocessing.connection`.
 *
 * @module
 */
import { AuthenticationError } from "../auth/authentication_error.ts";
import {
  type AuthKey,
  authKeyBytes,
  clientHandshake,
  serverHandshake,
} from "../auth/handshake.ts";
import { Connection } from "./connection.ts";
import { _codecFor } from "./_pickle_serializer.ts";

/**
 * A TCP address (`port: 0` picks a free port) or a Unix socket path.
 *
 * @example Port 0 picks a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Address, Listener } from "@weft/weft/ipc";
 *
 * const address: Address = { hostname: "127.0.0.1", port: 0 };
 * using listener = new Listener({ address });
 * assert.ok("port" in listener.address && listener.address.port > 0);
 * ```
 */
export type Address = { hostname: string; port: number } | { path: string };

/**
 * Options shared by {@linkcode Listener} and {@linkcode Client}.
 *
 * @example An authenticated connection that speaks pickle
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AuthOptions, Client, Listener } from "@weft/weft/ipc";
 *
 * const auth: AuthOptions = { authkey: "k", handshakeTimeout: 5000, serializer: "pickle" };
 * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 }, ...auth });
 * const accepted = listener.accept();
 * using client = await Client(listener.address, auth);
 * using server = await accepted;
 * await client.send({ job: [1, 2] });
 * assert.deepEqual(await server.recv(), { job: [1, 2] });
 * assert.equal(server.serializer, "pickle");
 * ```
 */
export interface AuthOptions {
  /**
   * Shared secret for the handshake (bytes, or a string as UTF-8). Without
   * it no handshake runs, as in Python.
   */
  authkey?: AuthKey;
  /**
   * Deadline for the whole handshake, in ms (20 s by default, as Python's).
   *
   * @default {20000}
   */
  handshakeTimeout?: number;
  /**
   * Accept/answer Python ≤ 3.11's HMAC-MD5.
   *
   * @default {true}
   */
  allowLegacyMd5?: boolean;
  /**
   * Largest message accepted after the handshake, in bytes (64 MiB by
   * default).
   *
   * @default {64 * 1024 * 1024}
   */
  maxMessageSize?: number;
  /**
   * What `send`/`recv` speak on the connections: `"v8"` (weft peers) or
   * `"pickle"` (Python's `Connection.send`/`recv`).
   *
   * @default {"v8"}
   */
  serializer?: "v8" | "pickle";
}

/**
 * Options of {@linkcode Listener}.
 *
 * @example Seeing the handshakes that failed
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError } from "@weft/weft/auth";
 * import { Client, Listener, type ListenerOptions } from "@weft/weft/ipc";
 *
 * const { promise: failed, resolve } = Promise.withResolvers<Error>();
 * const options: ListenerOptions = {
 *   address: { hostname: "127.0.0.1", port: 0 },
 *   authkey: "right",
 *   backlog: 16,
 *   onHandshakeError: resolve,
 * };
 * using listener = new Listener(options);
 * await assert.rejects(Client(listener.address, { authkey: "wrong" }), AuthenticationError);
 * assert.ok(await failed instanceof AuthenticationError);
 * ```
 */
export interface ListenerOptions extends AuthOptions {
  /** Where to listen. */
  address: Address;
  /**
   * Most connections in the handshake at once, and most authenticated
   * connections waiting for `accept()` (64 each by default). When `backlog`
   * handshakes are pending, a new connection drops the oldest pending one
   * (reported to `onHandshakeError`), so silent peers cannot lock anyone
   * out; when `backlog` connections wait for `accept()`, the listener stops
   * accepting and new clients wait in the kernel's queue.
   *
   * @default {64}
   */
  backlog?: number;
  /** Called with each failed handshake's error (the connection is closed). */
  onHandshakeError?: (error: Error) => void;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 20_000;

function validateAuth(options: AuthOptions, where: string): void {
  if (options.authkey !== undefined) authKeyBytes(options.authkey);
  _codecFor(options.serializer); // TypeError for an unknown serializer
  const t = options.handshakeTimeout;
  if (t !== undefined && !(t > 0)) {
    throw new TypeError(
      `Invalid ${where} handshakeTimeout: expected a positive number of ms`,
    );
  }
}

/**
 * Accepts authenticated connections, like Python's
 * `multiprocessing.connection.Listener`. With an `authkey`, every incoming
 * connection runs the handshake (this side challenges first, then answers
 * the client's challenge; see `deliverChallenge` for the step table) before
 * `accept()` returns it; a client that fails, stalls past
 * `handshakeTimeout` or disconnects is closed and never returned, and its
 * slot is freed. Connections are accepted from construction on.
 * Handshakes run concurrently, each with its own deadline, at most
 * `backlog` at once: a new connection arriving when all are taken drops
 * the oldest pending handshake whose peer has not answered the challenge
 * yet, so a crowd of silent sockets never delays a client that answers. At most `backlog` authenticated connections wait
 * for `accept()`; beyond that the kernel queues new clients.
 *
 * Python peers can connect with `multiprocessing.connection.Client`
 * (3.11's HMAC-MD5 and 3.12+'s HMAC-SHA256 are both accepted unless
 * `allowLegacyMd5: false`), then use `send_bytes`/`recv_bytes`.
 *
 * ## Platform
 *
 * Needs `--allow-net` for the TCP host; a Unix socket path needs
 * `--allow-read --allow-write` and, since Deno checks it as the net
 * descriptor `unix:<path>`, an `--allow-net` that covers it (a plain
 * `--allow-net`). The socket file is removed on `close()`.
 *
 * @example Python's `Listener(address, authkey=b"secret")`
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, Listener } from "@weft/weft/ipc";
 *
 * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 }, authkey: "secret" });
 * const accepted = listener.accept();
 * using client = await Client(listener.address, { authkey: "secret" });
 * using server = await accepted;
 * await client.send({ hello: "world" });
 * assert.deepEqual(await server.recv(), { hello: "world" });
 * ```
 */
export class Listener implements Disposable, AsyncIterable<Connection> {
  #listener: Deno.Listener;
  #address: Address;
  #options: ListenerOptions;
  #key: Uint8Array | undefined;
  #backlog: number;
  #timeout: number;
  #closed = false;
  #running = false;
  #ready: Connection[] = [];
  #handshaking = new Set<Connection>();
  #evicted = new WeakSet<Connection>();
  #answered = new WeakSet<Connection>();
  #waiters: {
    resolve: (c: Connection) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #slotFreed: (() => void) | undefined;

  /** Binds the address at once (`listener.address` has the real port). */
  constructor(options: ListenerOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid options: expected an object");
    }
    validateAuth(options, "Listener");
    const backlog = options.backlog ?? 64;
    if (!Number.isInteger(backlog) || backlog < 1) {
      throw new RangeError(
        `Invalid backlog: expected a positive integer, got ${backlog}`,
      );
    }
    const address = options.address;
    if (address && "path" in address && typeof address.path === "string") {
      this.#listener = Deno.listen({ transport: "unix", path: address.path });
      this.#address = { path: address.path };
    } else if (
      address && "port" in address && typeof address.port === "number"
    ) {
      this.#listener = Deno.listen({
        hostname: address.hostname ?? "127.0.0.1",
        port: address.port,
      });
      const bound = this.#listener.addr as Deno.NetAddr;
      this.#address = { hostname: bound.hostname, port: bound.port };
    } else {
      throw new TypeError(
        "Invalid address: expected { hostname, port } or { path }",
      );
    }
    this.#options = options;
    this.#key = options.authkey === undefined
      ? undefined
      : authKeyBytes(options.authkey);
    this.#backlog = backlog;
    this.#timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.#start();
  }

  /** The bound address (with the real port when port 0 was asked). */
  get address(): Address {
    return { ...this.#address };
  }

  /** True once {@linkcode Listener.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Connections currently in the handshake (for monitoring and tests). */
  get pendingHandshakes(): number {
    return this.#handshaking.size;
  }

  /**
   * Resolves with the next authenticated connection.
   *
   * @throws {TypeError} (rejection) If the listener is or gets closed.
   *
   * @example Accepting one client (no authkey)
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client, Listener } from "@weft/weft/ipc";
   *
   * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 } });
   * const [server, client] = await Promise.all([listener.accept(), Client(listener.address)]);
   * await server.sendBytes(new Uint8Array([1]));
   * assert.deepEqual(await client.recvBytes(), new Uint8Array([1]));
   * server.close();
   * client.close();
   * ```
   */
  accept(options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ready = this.#ready.shift();
    if (ready) {
      this.#freeSlot();
      return Promise.resolve(ready);
    }
    if (this.#closed) {
      return Promise.reject(
        new TypeError("Cannot accept: the listener is closed"),
      );
    }
    return new Promise<Connection>((resolve, reject) => {
      const waiter = {
        resolve: (c: Connection) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Drops the oldest pending handshake that has not answered yet. */
  #evictOne(): void {
    let victim: Connection | undefined;
    for (const c of this.#handshaking) {
      if (!this.#answered.has(c)) {
        victim = c;
        break;
      }
    }
    victim ??= this.#handshaking.values().next().value!;
    this.#handshaking.delete(victim);
    this.#evicted.add(victim);
    victim.close();
  }

  #freeSlot(): void {
    const wake = this.#slotFreed;
    this.#slotFreed = undefined;
    wake?.();
  }

  #start(): void {
    if (this.#running) return;
    this.#running = true;
    (async () => {
      while (!this.#closed) {
        while (!this.#closed && this.#ready.length >= this.#backlog) {
          await new Promise<void>((resolve) => this.#slotFreed = resolve);
        }
        if (this.#closed) break;
        let conn: Deno.Conn;
        try {
          conn = await this.#listener.accept();
        } catch (error) {
          if (this.#closed) break;
          if (error instanceof Deno.errors.BadResource) break;
          continue; // e.g. a connection reset before accept
        }
        this.#admit(conn);
      }
    })();
  }

  async #admit(socket: Deno.Conn): Promise<void> {
    const conn = Connection.fromConn(socket, {
      maxMessageSize: this.#options.maxMessageSize,
      serializer: this.#options.serializer,
    });
    if (this.#key !== undefined) {
      if (this.#handshaking.size >= this.#backlog) this.#evictOne();
      this.#handshaking.add(conn);
      // A peer that answered the challenge with a whole message is kept
      // (without the key that answer fails at once, so only real clients
      // get this far): a flood of new sockets then cannot push out a
      // client that is already answering.
      const watched = {
        sendBytes: (bytes: Uint8Array) => conn.sendBytes(bytes),
        recvBytes: async (max?: number) => {
          const bytes = await conn.recvBytes(max);
          this.#answered.add(conn);
          return bytes;
        },
        close: () => conn.close(),
      };
      try {
        await serverHandshake(watched, this.#key, {
          allowLegacyMd5: this.#options.allowLegacyMd5,
          timeout: this.#timeout,
        });
      } catch (cause) {
        conn.close();
        this.#handshaking.delete(conn);
        const error = this.#evicted.has(conn)
          ? new AuthenticationError(
            `Cannot authenticate: dropped while pending, to make room for a new connection (backlog ${this.#backlog})`,
            { cause },
          )
          : cause;
        try {
          this.#options.onHandshakeError?.(error as Error);
        } catch {
          // a throwing observer must not stop the listener
        }
        return;
      }
      this.#handshaking.delete(conn);
      if (this.#evicted.has(conn)) return; // closed under the handshake
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(conn);
      this.#freeSlot();
    } else this.#ready.push(conn);
  }

  /**
   * Stops listening, closes connections not yet returned by `accept()`,
   * rejects pending `accept()` calls and removes a Unix socket file.
   * Connections already accepted stay open. Idempotent.
   *
   * @example Closing stops `accept()`
   * ```ts
   * import assert from "node:assert/strict";
   * import { Listener } from "@weft/weft/ipc";
   *
   * const listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 } });
   * listener.close();
   * assert.equal(listener.closed, true);
   * await assert.rejects(listener.accept(), TypeError);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of this.#handshaking) c.close();
    for (const c of this.#ready) c.close();
    this.#ready = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      w.reject(new TypeError("Cannot accept: the listener is closed"));
    }
    this.#freeSlot();
    if ("path" in this.#address) {
      try {
        Deno.removeSync(this.#address.path);
      } catch {
        // already gone
      }
    }
  }

  /** Same as {@linkcode Listener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Yields authenticated connections until the listener is closed.
   *
   * @example Serving connections in a loop
   * ```ts
   * import assert from "node:assert/strict";
   * import { Client, Listener } from "@weft/weft/ipc";
   *
   * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 }, authkey: "k" });
   * using client = await Client(listener.address, { authkey: "k" });
   * await client.send("first");
   * for await (const conn of listener) {
   *   assert.equal(await conn.recv(), "first");
   *   conn.close();
   *   break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Connection, void, undefined> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }
}

/**
 * Connects to a `Listener` (weft's or Python's) and, with an `authkey`,
 * runs the handshake (answers the server's challenge, then challenges it),
 * like Python's `multiprocessing.connection.Client`. Works against Python
 * 3.11 (HMAC-MD5) and 3.12+ (HMAC-SHA256) listeners.
 *
 * @throws {AuthenticationError} (rejection) If the handshake fails or
 * passes `handshakeTimeout`.
 *
 * @example A client with the wrong authkey is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError } from "@weft/weft/auth";
 * import { Client, Listener } from "@weft/weft/ipc";
 *
 * using listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 }, authkey: "right" });
 * listener.accept().catch(() => {});
 * await assert.rejects(Client(listener.address, { authkey: "wrong" }), AuthenticationError);
 * ```
 */
export async function Client(
  address: Address,
  options: AuthOptions = {},
): Promise<Connection> {
  validateAuth(options, "Client");
  let socket: Deno.Conn;
  if (address && "path" in address && typeof address.path === "string") {
    socket = await Deno.connect({ transport: "unix", path: address.path });
  } else if (address && "port" in address && typeof address.port === "number") {
    socket = await Deno.connect({
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port,
    });
  } else {
    throw new TypeError(
      "Invalid address: expected { hostname, port } or { path }",
    );
  }
  const conn = Connection.fromConn(socket, {
    maxMessageSize: options.maxMessageSize,
    serializer: options.serializer,
  });
  if (options.authkey !== undefined) {
    await clientHandshake(conn, options.authkey, {
      allowLegacyMd5: options.allowLegacyMd5,
      timeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    });
  }
  return conn;
}
