// Opening node-redis clients, once for the whole cluster module (the queue
// connection and the Socket.IO adapter's bus both come here): the URL
// check, the client with weft's reconnect policy, and which errors are
// Redis's answer (final) versus a connection that is coming back.
import { createClient, ErrorReply } from "npm:@redis/client@6.3.1";
import type { RedisClientLike } from "./redis_client.ts";

/** The href of a `redis://` / `rediss://` URL, or a TypeError naming `what`. */
export function _redisUrl(target: string | URL, what: string): string {
  let url: URL;
  try {
    url = new URL(String(target));
  } catch {
    throw new TypeError(
      `Cannot ${what}: "${target}" is not a redis:// or rediss:// URL`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(
      `Cannot ${what}: "${url.protocol}" is not redis: or rediss:`,
    );
  }
  return url.href;
}

/** Where a client stands in its first connection (see `_createClient`). */
export interface _ConnectState {
  /** When the current first-connection attempt began (epoch ms). */
  started: number;
  /** Set once connected: from then on it reconnects for ever. */
  connected: boolean;
}

/**
 * A node-redis client for `href`, not connected yet. Its first connection
 * gives up after `connectTimeout` ms from `state.started` (a wrong host
 * fails instead of hanging); once `state.connected` it reconnects for
 * ever, backing off to 1 s (commands wait in node-redis's offline queue
 * meanwhile). Clients `duplicate()`d from it share the policy.
 */
export function _createClient(
  href: string,
  connectTimeout: number,
  onError: (error: unknown) => void,
): { client: RedisClientLike; state: _ConnectState } {
  const state: _ConnectState = { started: Date.now(), connected: false };
  const client = createClient({
    url: href,
    socket: {
      connectTimeout: Math.max(1, Math.min(connectTimeout, 10_000)),
      reconnectStrategy: (retries: number, cause: Error) => {
        if (!state.connected && Date.now() - state.started >= connectTimeout) {
          return cause;
        }
        return Math.min(20 * 2 ** Math.min(retries, 6), 1000);
      },
    },
  }) as unknown as RedisClientLike;
  client.on("error", onError);
  return { client, state };
}

/** True for an error reply of Redis (not a dropped connection). */
export function _isReplyError(error: unknown): boolean {
  if (error instanceof ErrorReply) return true;
  const name = (error as { constructor?: { name?: string } })?.constructor
    ?.name;
  return name === "ErrorReply" || name === "SimpleError" ||
    name === "BlobError";
}

/**
 * True for an error worth sending the command again: a dropped connection,
 * or a server that restarted and is still loading its data (`LOADING`).
 */
export function _isTransient(error: unknown): boolean {
  return !_isReplyError(error) || /^LOADING\b/.test(String(
    (error as { message?: unknown })?.message ?? "",
  ));
}

/** A timer that resolves early when `signal` aborts (never rejects). */
export function _sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
