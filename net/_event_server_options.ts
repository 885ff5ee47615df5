/**
 * Options of the event server and their validation (private, except for
 * the option types, which `event_server.ts` re-exports).
 *
 * @module
 */

import type { AdapterHost, EventAdapter } from "./event_adapter.ts";
import { InMemoryAdapter } from "./event_adapter.ts";
import type { EngineOptions } from "./_event_engine.ts";
import { isNamespace } from "./_event_packets.ts";
import { checkMs } from "./_event_common.ts";
import { keyBytes } from "./_event_auth.ts";
import type { NamespaceSettings } from "./event_namespace.ts";

/**
 * Options of {@linkcode serveEvents} (python-socketio's `AsyncServer`
 * arguments, camelCased, plus the listening address and limits).
 *
 * @example A server with small limits and an authkey
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ServeEventsOptions, serveEvents } from "@weft/weft/net";
 *
 * const options: ServeEventsOptions = {
 *   port: 0,
 *   authkey: crypto.getRandomValues(new Uint8Array(32)),
 *   maxHttpBufferSize: 64 * 1024,
 *   pingInterval: 5000,
 *   pingTimeout: 5000,
 * };
 * await using server = serveEvents(options);
 * assert.equal(server.addr.hostname, "127.0.0.1");
 * ```
 */
export interface ServeEventsOptions {
  /**
   * Interface to bind (default `"127.0.0.1"`: loopback only).
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * TCP port (default `0`: a free port, see `server.addr`).
   *
   * @default {0}
   */
  port?: number;
  /**
   * Socket.IO path (default `"/socket.io/"`, python-socketio's `socketio_path`).
   *
   * @default {"/socket.io/"}
   */
  path?: string;
  /** Serves every other HTTP request (pages, scripts); default answers 404. */
  handler?: (
    request: Request,
    info: { remoteAddr: Deno.NetAddr },
  ) => Response | Promise<Response>;
  /**
   * Origins allowed for browsers (python-socketio's `cors_allowed_origins`):
   * `"*"`, one origin, a list, or a predicate. Default: the page's own
   * origin only (the `Origin` header's host must be the `Host` header).
   * Requests without an `Origin` header (non-browser clients) are allowed.
   */
  corsAllowedOrigins?:
    | "*"
    | string
    | readonly string[]
    | ((origin: string) => boolean);
  /** Shared secret: clients must prove they know it in their CONNECT auth payload (see the README's scheme). */
  authkey?: Uint8Array | string;
  /** @deprecated Use `authkey`. */
  authKey?: Uint8Array | string;
  /**
   * Transports accepted.
   *
   * @default {["polling", "websocket"]}
   */
  transports?: readonly ("polling" | "websocket")[];
  /** Namespaces served: `"*"` for any, or a list; default: `"/"` plus those given handlers with `of()`/`on()`. */
  namespaces?: "*" | readonly string[];
  /**
   * Milliseconds between pings.
   *
   * @default {25000}
   */
  pingInterval?: number;
  /**
   * Milliseconds a client has to answer a ping.
   *
   * @default {20000}
   */
  pingTimeout?: number;
  /**
   * Largest message or polling body from a client, in bytes, checked before it is read.
   *
   * @default {1000000}
   */
  maxHttpBufferSize?: number;
  /**
   * Largest amount of unsent data per client before it is dropped (default 16 MiB).
   *
   * @default {16 * 1024 * 1024}
   */
  maxBufferedBytes?: number;
  /**
   * Milliseconds a new connection has to connect a namespace.
   *
   * @default {45000}
   */
  connectTimeout?: number;
  /**
   * Milliseconds for a WebSocket upgrade to finish.
   *
   * @default {10000}
   */
  upgradeTimeout?: number;
  /**
   * Milliseconds for a request head (and body) to arrive; idle keep-alive connections close after it too.
   *
   * @default {10000}
   */
  headerTimeout?: number;
  /**
   * Largest request head in bytes.
   *
   * @default {16384}
   */
  maxHeaderSize?: number;
  /**
   * Most open TCP connections; more are closed at once.
   *
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Most handlers of one client running at once; more end that client.
   *
   * @default {1000}
   */
  maxPendingHandlers?: number;
  /**
   * Default acknowledgement timeout of `call` in milliseconds.
   *
   * @default {60000}
   */
  ackTimeout?: number;
  /**
   * The rooms adapter of each namespace (default: {@linkcode InMemoryAdapter}).
   *
   * @default {(host) => new InMemoryAdapter(host)}
   */
  adapter?: (host: AdapterHost) => EventAdapter;
  /** Aborting it shuts the server down. */
  signal?: AbortSignal;
  /** Called with the bound address once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Errors thrown by handlers (default: `console.error`). */
  onError?: (error: unknown, sid?: string) => void;
}

/**
 * Options that pick a namespace (default `"/"`).
 *
 * @example Rooms of a client of `/chat`
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, type NamespaceOption, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * const chat: NamespaceOption = { namespace: "/chat" };
 * let sid = "";
 * server.of("/chat").on("connect", (id) => {
 *   sid = id;
 *   server.enterRoom(id, "lobby", chat);
 * });
 * await using _client = await connectEvents(server.url, { namespaces: ["/chat"] });
 * assert.deepEqual(server.rooms(sid, chat), [sid, "lobby"]);
 * ```
 */
export interface NamespaceOption {
  /**
   * Namespace name.
   *
   * @default {"/"}
   */
  namespace?: string;
}

export function validOrigin(
  option: ServeEventsOptions["corsAllowedOrigins"],
): (origin: string, headers: Headers) => boolean {
  if (option === undefined) {
    // same origin: the page's host is the one it asked (http or https,
    // e.g. behind a TLS terminator)
    return (origin, headers) => {
      try {
        return new URL(origin).host === headers.get("host");
      } catch {
        return false;
      }
    };
  }
  if (option === "*") return () => true;
  if (typeof option === "function") return (origin) => option(origin);
  const list = typeof option === "string" ? [option] : [...option];
  return (origin) => list.includes(origin);
}

/** Per-connection and per-session limits. */
export interface ServerLimits {
  connectTimeout: number;
  maxAttachments: number;
  maxPendingHandlers: number;
  headerTimeout: number;
  maxHeaderSize: number;
  maxConnections: number;
  maxHttpBufferSize: number;
}

/** Validated options. */
export interface Resolved {
  hostname: string;
  port: number;
  path: string;
  limits: ServerLimits;
  served: "*" | ReadonlySet<string>;
  ctx: NamespaceSettings;
  engine: EngineOptions;
}

/** Validates every option (TypeError / RangeError naming the field). */
export function resolveOptions(o: ServeEventsOptions): Resolved {
  if (typeof o !== "object" || o === null) {
    throw new TypeError("Invalid options: expected an object");
  }
  const hostname = o.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string") {
    throw new TypeError('Invalid option "hostname": expected a string');
  }
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('Invalid option "port": expected 0 to 65535');
  }
  let path = o.path ?? "/socket.io/";
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(
      'Invalid option "path": expected a string starting with "/"',
    );
  }
  if (!path.endsWith("/")) path += "/";
  for (
    const field of ["handler", "onListen", "onError", "adapter"] as const
  ) {
    if (o[field] !== undefined && typeof o[field] !== "function") {
      throw new TypeError(`Invalid option "${field}": expected a function`);
    }
  }
  const size = (
    field: keyof ServeEventsOptions,
    fallback: number,
    min: number,
  ) => {
    const v = o[field] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min) {
      throw new RangeError(
        `Invalid option "${field}": expected an integer of at least ${min}`,
      );
    }
    return v as number;
  };
  const transports = o.transports ?? ["polling", "websocket"];
  if (
    !Array.isArray(transports) || transports.length === 0 ||
    transports.some((t) => t !== "polling" && t !== "websocket")
  ) {
    throw new TypeError(
      'Invalid option "transports": expected "polling" and/or "websocket"',
    );
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError('Invalid option "signal": expected an AbortSignal');
  }
  const maxHttpBufferSize = size("maxHttpBufferSize", 1_000_000, 64);
  const limits: ServerLimits = {
    connectTimeout: checkMs(o.connectTimeout, 45_000, "connectTimeout"),
    maxAttachments: 1000,
    maxPendingHandlers: size("maxPendingHandlers", 1000, 1),
    headerTimeout: checkMs(o.headerTimeout, 10_000, "headerTimeout"),
    maxHeaderSize: size("maxHeaderSize", 16384, 1024),
    maxConnections: size("maxConnections", 10_000, 1),
    maxHttpBufferSize,
  };
  const key = o.authkey ?? o.authKey;
  const onError = o.onError ??
    ((error: unknown, sid?: string) =>
      console.error(
        `event handler${sid ? ` of ${sid}` : ""} failed:`,
        error,
      ));
  const ctx = {
    ackTimeout: checkMs(o.ackTimeout, 60_000, "ackTimeout"),
    authkey: key === undefined
      ? undefined
      : keyBytes(key, o.authkey !== undefined ? "authkey" : "authKey"),
    adapter: o.adapter ?? ((host) => new InMemoryAdapter(host)),
    onError,
  };
  let served: "*" | ReadonlySet<string>;
  if (o.namespaces === "*") served = "*";
  else if (o.namespaces === undefined) served = new Set(["/"]);
  else if (Array.isArray(o.namespaces) && o.namespaces.every(isNamespace)) {
    served = new Set(["/", ...o.namespaces]);
  } else {throw new TypeError(
      'Invalid option "namespaces": expected "*" or a list of names starting with "/"',
    );}
  const engine: EngineOptions = {
    pingInterval: checkMs(o.pingInterval, 25_000, "pingInterval"),
    pingTimeout: checkMs(o.pingTimeout, 20_000, "pingTimeout"),
    maxPayload: maxHttpBufferSize,
    maxBuffered: size("maxBufferedBytes", 16 * 1024 * 1024, 1024),
    upgradeTimeout: checkMs(o.upgradeTimeout, 10_000, "upgradeTimeout"),
    transports,
    cors: validOrigin(o.corsAllowedOrigins),
  };
  return { hostname, port, path, limits, served, ctx, engine };
}
