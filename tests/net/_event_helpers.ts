// Helpers for the event server tests (not a test file itself).

import {
  connectEvents,
  type ConnectEventsOptions,
  type EventClient,
  type EventServer,
  type EventSocket,
  serveEvents,
  type ServeEventsOptions,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

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

/** Connects `n` clients in parallel. */
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

/** Closes clients, then the server, whatever happened. */
export async function closeAll(
  server: EventServer,
  clients: EventClient[],
): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  await withTimeout(server.shutdown(), 10_000, "server shutdown");
}

/** Resolves with the next `event` a client receives. */
export function nextEvent(
  client: EventClient,
  event: string,
  ms = 5000,
): Promise<unknown> {
  return withTimeout(
    new Promise((resolve) => {
      const handler = (data: unknown) => {
        client.off(event, handler);
        resolve(data);
      };
      client.on(event, handler);
    }),
    ms,
    `event "${event}"`,
  );
}

/** Resolves with the server-side socket once `id` is known to the server. */
export function socketOf(server: EventServer, id: string): EventSocket {
  const socket = server.sockets.get(id);
  if (!socket) throw new Error(`no server socket for ${id}`);
  return socket;
}

/** A plain WebSocket whose messages queue up, for speaking the wire format by hand. */
export class RawSocket {
  ws: WebSocket;
  messages: (string | ArrayBuffer)[] = [];
  #wake: (() => void) | undefined;
  closed: Promise<CloseEvent>;
  #opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.#opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("raw socket failed"));
    });
    this.#opened.catch(() => {});
    this.ws.onmessage = (e) => {
      this.messages.push(e.data);
      this.#wake?.();
    };
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (e) => {
        this.#wake?.();
        resolve(e);
      };
    });
  }

  opened(): Promise<void> {
    return withTimeout(this.#opened, 5000, "raw socket open");
  }

  async next(ms = 5000): Promise<string | ArrayBuffer> {
    const deadline = Date.now() + ms;
    while (this.messages.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error("raw socket closed");
      }
      await withTimeout(
        new Promise<void>((resolve) => this.#wake = resolve),
        Math.max(1, deadline - Date.now()),
        "raw socket message",
      );
    }
    return this.messages.shift()!;
  }

  async nextJson(ms = 5000): Promise<Record<string, unknown>> {
    return JSON.parse((await this.next(ms)) as string);
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      try {
        this.ws.close();
      } catch {
        // closing
      }
      await withTimeout(this.closed, 5000, "raw socket close");
    }
  }
}

/**
 * Opens a TCP connection and performs the WebSocket upgrade by hand, then
 * never reads again: a peer that "vanished" without telling anyone.
 */
export async function rawTcpUpgrade(
  addr: Deno.NetAddr,
  path = "/events",
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
  const key = btoa("weft-test-key-16");
  await conn.write(enc.encode(
    `GET ${path} HTTP/1.1\r\nHost: ${addr.hostname}:${addr.port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await withTimeout(conn.read(buf), 5000, "upgrade response");
    if (n === null) throw new Error("connection closed during upgrade");
    head += dec.decode(buf.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 101")) {
    conn.close();
    throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
  }
  return conn;
}

/** Polls `predicate` every 10 ms until it holds, bounded by `ms`. */
export async function eventually(
  predicate: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms: ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
