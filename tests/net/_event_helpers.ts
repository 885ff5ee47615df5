// Helpers for the event (Socket.IO) tests (not a test file itself).

import {
  connectEvents,
  type ConnectEventsOptions,
  type EventClient,
  type EventServer,
  serveEvents,
  type ServeEventsOptions,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";

/** Starts a server that collects handler errors instead of printing them. */
export function startServer(
  options: ServeEventsOptions = {},
): EventServer & { errors: unknown[] } {
  const errors: unknown[] = [];
  const server = serveEvents({
    onError: (error) => errors.push(error),
    ...options,
  }) as EventServer & { errors: unknown[] };
  server.errors = errors;
  return server;
}

/** Connects `n` weft clients in parallel. */
export function connectMany(
  url: string,
  n: number,
  options: ConnectEventsOptions = {},
): Promise<EventClient[]> {
  return withTimeout(
    Promise.all(Array.from({ length: n }, () => connectEvents(url, options))),
    20_000,
    `connect ${n} clients`,
  );
}

/** Resolves with the arguments of the next `event` a weft client receives. */
export function nextEvent(
  client: EventClient,
  event: string,
  options: { namespace?: string; ms?: number } = {},
): Promise<unknown[]> {
  return withTimeout(
    new Promise((resolve) => {
      client.on(event, (...args: unknown[]) => {
        client.off(event, options);
        resolve(args);
      }, options);
    }),
    options.ms ?? 10_000,
    `event ${event}`,
  );
}

/** Resolves when `predicate()` holds, checking after each macrotask (bounded). */
export async function until(
  predicate: () => boolean,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms: ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Is this run CI (a missing peer must fail rather than be ignored)? */
export const CI = Deno.env.get("CI") === "true";

/**
 * Test registration for a test that needs a peer: ignored with the reason
 * when the peer is missing, except under CI=true, where it runs and fails.
 */
export function peerTest(
  name: string,
  missing: string | undefined,
  fn: () => Promise<void>,
): Deno.TestDefinition {
  if (missing && !CI) {
    return { name: `${name} (ignored: ${missing})`, ignore: true, fn };
  }
  return {
    name,
    fn: missing
      ? () =>
        Promise.reject(new Error(`Missing peer under CI=true: ${missing}`))
      : fn,
  };
}

/** Raw HTTP over TCP: sends `text`, returns the connection (caller closes). */
export async function rawConnect(server: EventServer): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
}

/**
 * Reads until the peer closes; returns what arrived as text. Rejects if the
 * peer has not closed within `ms` (so "the server closed it" is proven).
 */
export async function readAll(conn: Deno.Conn, ms = 10_000): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    // closed by the timer or the peer
  } finally {
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
  if (timedOut) {
    throw new Error(`Timed out after ${ms} ms: the peer did not close`);
  }
  return new TextDecoder().decode(
    chunks.reduce((a, b) => {
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    }, new Uint8Array(0)),
  );
}
