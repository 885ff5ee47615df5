/**
 * Sockets to and from a manager (private): the listening side
 * ({@linkcode listenManager}), the connecting side ({@linkcode openClient})
 * and the per-process cache of connections that revived proxies share
 * ({@linkcode linkFor}).
 *
 * @module
 */

import { type CallOptions, ManagerClient } from "./_manager_client.ts";
import { DEFAULT_MAX_FRAME } from "./_manager_protocol.ts";
import type { ManagerServer } from "./_manager_server.ts";
import {
  acceptHandshake,
  offerHandshake,
  SocketChannel,
} from "./_manager_transport.ts";

/**
 * Where a manager listens: TCP `{ hostname, port }` or Unix `{ path }`.
 *
 * @example A TCP address, as Python's `("127.0.0.1", 50000)`
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ManagerAddress } from "@weft/weft/ipc";
 *
 * const address: ManagerAddress = { hostname: "127.0.0.1", port: 50000 };
 * assert.equal("port" in address && address.port, 50000);
 * ```
 */
export type ManagerAddress =
  | { hostname: string; port: number }
  | { path: string };

/** What a proxy needs to reach its manager. */
export interface Link {
  /** Calls a method of an object held by the manager. */
  call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: CallOptions,
  ): Promise<unknown>;
  /** Where the manager listens, if it can be reached from elsewhere. */
  readonly address: ManagerAddress | undefined;
  /** The manager's authkey, when {@linkcode Link.address} is set. */
  readonly authkey: Uint8Array | undefined;
}

/** Checks and copies an address given by a user. */
export function checkAddress(address: unknown, what: string): ManagerAddress {
  if (typeof address === "object" && address !== null) {
    const { hostname, port, path } = address as Record<string, unknown>;
    if (typeof path === "string") return { path };
    if (
      typeof hostname === "string" && Number.isInteger(port) &&
      (port as number) >= 0 && (port as number) <= 65535
    ) {
      return { hostname, port: port as number };
    }
  }
  throw new TypeError(
    `Cannot ${what}: "address" must be { hostname, port } or { path }`,
  );
}

/** Turns a user authkey (bytes or UTF-8 text) into bytes. */
export function checkAuthkey(authkey: unknown, what: string): Uint8Array {
  if (typeof authkey === "string") return new TextEncoder().encode(authkey);
  if (authkey instanceof Uint8Array) return authkey.slice();
  throw new TypeError(
    `Cannot ${what}: "authkey" must be a Uint8Array or a string`,
  );
}

/** A key for caches: address plus a digest-free authkey fingerprint. */
export function linkKey(address: ManagerAddress, authkey: Uint8Array): string {
  const where = "path" in address
    ? `unix:${address.path}`
    : `tcp:${address.hostname}:${address.port}`;
  return `${where}#${toHex(authkey)}`;
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of a lowercase hex string. */
export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new TypeError("Cannot decode authkey: it is not hex");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/**
 * Connects to a manager and authenticates. The connection does not keep
 * the process alive while no call is pending (see `ManagerClient`).
 */
export async function openClient(
  address: ManagerAddress,
  authkey: Uint8Array,
): Promise<ManagerClient> {
  const conn = "path" in address
    ? await Deno.connect({ transport: "unix", path: address.path })
    : await Deno.connect({
      hostname: address.hostname,
      port: address.port,
      transport: "tcp",
    });
  const channel = new SocketChannel(conn, DEFAULT_MAX_FRAME);
  await offerHandshake(channel, authkey);
  return new ManagerClient(channel);
}

/** A listening manager. */
export interface ManagerListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: ManagerAddress;
  /** Stops accepting and closes every accepted socket. */
  close(): void;
  /** Settles when the accept loop ends. */
  readonly finished: Promise<void>;
}

/**
 * Listens on `address`, authenticates every connection with `authkey` and
 * hands it to `server`. Connections failing the handshake are closed.
 */
export function listenManager(
  server: ManagerServer,
  address: ManagerAddress,
  authkey: Uint8Array,
): ManagerListener {
  const listener = "path" in address
    ? Deno.listen({ transport: "unix", path: address.path })
    : Deno.listen({
      hostname: address.hostname,
      port: address.port,
      transport: "tcp",
    });
  const bound: ManagerAddress = "path" in address ? { path: address.path } : {
    hostname: (listener.addr as Deno.NetAddr).hostname,
    port: (listener.addr as Deno.NetAddr).port,
  };
  server.address = bound;
  const channels = new Set<SocketChannel>();
  let closed = false;
  const serveOne = async (conn: Deno.Conn) => {
    const channel = new SocketChannel(conn, server.maxFrame);
    channels.add(channel);
    try {
      await acceptHandshake(channel, authkey);
      await server.serve(channel);
    } catch {
      // refused or broken: only this connection ends
    } finally {
      channel.close();
      channels.delete(channel);
    }
  };
  const finished = (async () => {
    try {
      for await (const conn of listener) {
        if (closed) {
          conn.close();
          break;
        }
        serveOne(conn);
      }
    } catch {
      // the listener was closed
    }
  })();
  return {
    address: bound,
    finished,
    close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      for (const channel of channels) channel.close();
      channels.clear();
    },
  };
}

// ---------------------------------------------------------------------------
// Per-process connection cache for revived proxies

/** A link that opens (once) a shared connection on its first call. */
class SharedLink implements Link {
  #client: ManagerClient | undefined;
  #ownClient = false;
  #connecting: Promise<ManagerClient> | undefined;
  readonly address: ManagerAddress;
  readonly authkey: Uint8Array;

  constructor(address: ManagerAddress, authkey: Uint8Array) {
    this.address = address;
    this.authkey = authkey;
  }

  adopt(client: ManagerClient): void {
    // A connection this link opened itself is no longer needed.
    if (this.#client !== undefined && this.#ownClient) this.#client.close();
    this.#client = client;
    this.#ownClient = false;
  }

  /** Stops using `client` (if in use); the next call connects afresh. */
  forget(client: ManagerClient): void {
    if (this.#client === client) this.#client = undefined;
  }

  #connect(): Promise<ManagerClient> {
    this.#connecting ??= openClient(this.address, this.authkey).then(
      (client) => {
        this.#client = client;
        this.#ownClient = true;
        this.#connecting = undefined;
        return client;
      },
      (error) => {
        this.#connecting = undefined;
        throw new Error("Cannot call manager: connecting to it failed", {
          cause: error,
        });
      },
    );
    return this.#connecting;
  }

  call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: CallOptions,
  ): Promise<unknown> {
    if (this.#client !== undefined) {
      return this.#client.call(objectId, method, args, options);
    }
    return this.#connect().then((client) =>
      client.call(objectId, method, args, options)
    );
  }
}

const links = new Map<string, SharedLink>();

/** The shared link of this process (or worker) for one manager. */
export function linkFor(address: ManagerAddress, authkey: Uint8Array): Link {
  const key = linkKey(address, authkey);
  let link = links.get(key);
  if (link === undefined) {
    link = new SharedLink(address, authkey);
    links.set(key, link);
  }
  return link;
}

/**
 * Lets revived proxies use `client` (a `Manager`'s own connection) for
 * this manager instead of opening another one.
 */
export function shareClient(
  address: ManagerAddress,
  authkey: Uint8Array,
  client: ManagerClient,
): void {
  const link = linkFor(address, authkey) as SharedLink;
  link.adopt(client);
}

/**
 * Stops revived proxies from using `client` (a `Manager`'s connection that
 * is closing); they connect on their own from then on.
 */
export function unshareClient(
  address: ManagerAddress,
  authkey: Uint8Array,
  client: ManagerClient,
): void {
  links.get(linkKey(address, authkey))?.forget(client);
}
