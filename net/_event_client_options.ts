/**
 * Options, handler type and error of the event client (private file; the
 * public names are re-exported by `event_client.ts`). No Deno APIs: the
 * browser client imports this file too.
 *
 * @module
 */

import type { ReconnectOptions } from "./_event_reconnect.ts";
import type { EngineClientOptions } from "./_event_engine_client.ts";
import { EventAuthError, keyBytes } from "./_event_auth.ts";
import { RESERVED_EVENTS } from "./event_adapter.ts";
import { isNamespace } from "./_event_packets.ts";

/**
 * A client handler: `"connect"` gets `(namespace)`, `"connect_error"`
 * `(data, namespace)`, `"disconnect"` `(reason, namespace)`, `"*"` `(event,
 * ...args)`, any other event its arguments. The (awaited) return value
 * answers the server's acknowledgement.
 *
 * @example A handler whose return value is the acknowledgement
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ClientHandler } from "@weft/weft/net";
 *
 * const onReply: ClientHandler = (text) => `got ${text}`;
 * assert.equal(onReply("hi"), "got hi");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ClientHandler = (...args: any[]) => unknown;

/**
 * The server refused the connection (`connect_error`), or it could not be
 * made at all (python-socketio's `ConnectionError`).
 *
 * @example The server's refusal data travels with the error
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventConnectionError } from "@weft/weft/net";
 *
 * const error = new EventConnectionError("Not authorized", { retry: false });
 * assert.deepEqual(error.data, { retry: false });
 * ```
 */
export class EventConnectionError extends Error {
  /** The `data` the server sent with its refusal. */
  readonly data?: unknown;
  /**
   * Creates the error.
   *
   * @param message The server's message, or what failed.
   * @param data The server's `data`.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, data?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventConnectionError";
    this.data = data;
  }
}

/**
 * Options of {@linkcode connectEvents} (python-socketio's `AsyncClient` and
 * `connect()` arguments, camelCased).
 *
 * @example Two namespaces, a token and WebSocket only
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConnectEventsOptions } from "@weft/weft/net";
 *
 * const options: ConnectEventsOptions = {
 *   namespaces: ["/", "/chat"],
 *   auth: { token: "abc" },
 *   transports: ["websocket"],
 *   reconnectionDelayMax: 2000,
 * };
 * assert.equal(options.namespaces?.length, 2);
 * ```
 */
export interface ConnectEventsOptions extends ReconnectOptions {
  /** Namespaces to connect (default: the URL's path if not `/`, else `["/"]`). */
  namespaces?: readonly string[];
  /** Auth payload of every CONNECT, or a function called before each (re)connect. */
  auth?:
    | Record<string, unknown>
    | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
  /** Shared secret: proves the key to the server and checks the server's proof. */
  authkey?: Uint8Array | string;
  /** @deprecated Use `authkey`. */
  authKey?: Uint8Array | string;
  /**
   * Transports in order of preference (default `["websocket", "polling"]`;
   * socket.io-client's order is `["polling", "websocket"]`).
   *
   * @default {["websocket", "polling"]}
   */
  transports?: readonly ("websocket" | "polling")[];
  /**
   * Upgrade a session opened on long-polling to WebSocket when the server
   * offers it and `transports` lists `"websocket"` (default `true`, as
   * socket.io-client).
   *
   * @default {true}
   */
  upgrade?: boolean;
  /**
   * Largest incoming WebSocket message and polling response body in bytes
   * (default 16 MiB). In Deno a WebSocket frame announcing more is refused
   * from its header, a polling response from its `Content-Length` (or cut
   * off once over), before buffering; the connection then ends with the
   * reason `"payload too large"`.
   *
   * @default {16 * 1024 * 1024}
   */
  maxPayload?: number;
  /**
   * Socket.IO path (default `"/socket.io/"`, python-socketio's `socketio_path`).
   *
   * @default {"/socket.io/"}
   */
  socketioPath?: string;
  /**
   * Milliseconds for each connection attempt, up to the namespaces' answers.
   *
   * @default {20000}
   */
  waitTimeout?: number;
  /**
   * Default acknowledgement timeout of `call` in milliseconds.
   *
   * @default {60000}
   */
  ackTimeout?: number;
  /** Errors thrown by handlers (default: `console.error`). */
  onError?: (error: unknown) => void;
}

/** The Engine.IO connection's options from the client's. */
export function engineOptions(
  o: ConnectEventsOptions,
  timeout: number,
): EngineClientOptions {
  return {
    transports: o.transports ?? ["websocket", "polling"],
    path: socketioPath(o.socketioPath),
    query: {},
    timeout,
    upgrade: o.upgrade ?? true,
    maxPayload: o.maxPayload ?? 16 * 1024 * 1024,
  };
}

/** Validates the client's options; returns the authkey bytes, if any. */
export function checkClientOptions(
  options: ConnectEventsOptions,
): Uint8Array | undefined {
  const transports = options.transports ?? ["websocket", "polling"];
  if (
    !Array.isArray(transports) || transports.length === 0 ||
    transports.some((t) => t !== "websocket" && t !== "polling")
  ) {
    throw new TypeError(
      'Invalid option "transports": expected "websocket" and/or "polling"',
    );
  }
  if (options.upgrade !== undefined && typeof options.upgrade !== "boolean") {
    throw new TypeError('Invalid option "upgrade": expected a boolean');
  }
  const max = options.maxPayload;
  if (max !== undefined && (!Number.isInteger(max) || max < 64)) {
    throw new RangeError(
      'Invalid option "maxPayload": expected an integer of at least 64',
    );
  }
  const n = options.namespaces;
  if (
    n !== undefined &&
    (!Array.isArray(n) || n.length === 0 || !n.every(isNamespace))
  ) {
    throw new TypeError(
      'Invalid option "namespaces": expected names starting with "/"',
    );
  }
  const key = options.authkey ?? options.authKey;
  if (key === undefined) return undefined;
  return keyBytes(key, options.authkey !== undefined ? "authkey" : "authKey");
}

/**
 * The server's base URL (http/https) and the namespaces to connect: the
 * option, else the URL's path when it is not `/` (socket.io-client's rule).
 */
export function parseUrl(
  url: string,
  namespaces: readonly string[] | undefined,
): [string, string[]] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Cannot connect: invalid URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol === "ws:") parsed.protocol = "http:";
  if (parsed.protocol === "wss:") parsed.protocol = "https:";
  const fromPath = parsed.pathname !== "/" && parsed.pathname !== ""
    ? [parsed.pathname]
    : ["/"];
  return [parsed.href, [...(namespaces ?? fromPath)]];
}

/** The Socket.IO path with a leading and a trailing slash. */
export function socketioPath(path = "/socket.io/"): string {
  if (!path.startsWith("/")) path = "/" + path;
  return path.endsWith("/") ? path : path + "/";
}

/**
 * A CONNECT_ERROR's payload as the `connect_error` handler gets it, and the
 * error `connect()` rejects with.
 */
export function refusal(
  packetData: unknown,
  hasKey: boolean,
): [unknown, Error] {
  const d = packetData as { message?: unknown; data?: unknown } | string;
  const message = typeof d === "string"
    ? d
    : String(d?.message ?? "Connection refused");
  const payload = typeof d === "object" ? d : { message };
  const error = hasKey && message === "Authentication failed"
    ? new EventAuthError("Cannot connect: the server refused the authkey proof")
    : new EventConnectionError(
      message,
      typeof d === "object" ? d?.data : undefined,
    );
  return [payload, error];
}

/** The call that runs the handler of an EVENT's `[event, ...args]` (or the catch-all). */
export function pickHandler(
  table: Map<string, ClientHandler> | undefined,
  data: unknown,
): (() => unknown) | undefined {
  const args = data as unknown[];
  const event = String(args[0]);
  const handler = table?.get(event);
  if (handler && !RESERVED_EVENTS.has(event)) {
    return () => handler(...args.slice(1));
  }
  const any = table?.get("*");
  return any && (() => any(event, ...args.slice(1)));
}
