/**
 * Client of weft's event server, for Deno and for browsers: this file (and
 * the two private files it imports) uses only web-platform APIs
 * (`WebSocket`, `crypto.subtle`, timers), so the same module runs in a page.
 *
 * @module
 */

import {
  AckTimeoutError,
  checkEventName,
  checkMs,
  CLOSE,
  decodeFrame,
  dispatchEvent,
  encodeData,
  encodePacket,
  type EventHandler,
  type Frame,
  Handlers,
  type Packet,
  PendingAcks,
  RESERVED_EVENTS,
  sizeOver,
} from "./_event_protocol.ts";
import {
  answer,
  EventAuthError,
  isNonce,
  keyBytes,
  newNonce,
  verify,
} from "./_event_auth.ts";

export { AckTimeoutError, EventAuthError };
export type { EventHandler };

/**
 * Back-off between reconnection attempts: exponential, with jitter, bounded.
 * Attempt `n` (from 0) waits `min(maxDelay, initialDelay * factor ** n)`,
 * less a random fraction of up to `jitter` of it.
 *
 * @example
 * ```ts
 * import type { ReconnectOptions } from "@weft/weft/net";
 *
 * // 100 ms, 200 ms, 400 ms, ... up to 2 s, each 0-30 % shorter; 10 tries
 * const backOff: ReconnectOptions = {
 *   initialDelay: 100,
 *   maxDelay: 2000,
 *   jitter: 0.3,
 *   maxAttempts: 10,
 * };
 * console.log(backOff.maxAttempts); // 10
 * ```
 */
export interface ReconnectOptions {
  /** First delay in ms (default 250). */
  initialDelay?: number;
  /** Largest delay in ms (default 5000). */
  maxDelay?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /** Fraction of each delay taken off at random, 0 to 1 (default 0.5). */
  jitter?: number;
  /**
   * Consecutive failed connection attempts (the first one included) before
   * giving up (default `Infinity`; 1: never retry).
   */
  maxAttempts?: number;
}

/**
 * Options of {@linkcode connectEvents} and {@linkcode EventClient}.
 *
 * @example
 * ```ts
 * import { type ConnectEventsOptions, connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({ authKey: "k" });
 * const options: ConnectEventsOptions = {
 *   authKey: "k",
 *   ackTimeout: 2000,
 *   connectTimeout: 5000,
 *   reconnect: { maxDelay: 1000 },
 * };
 * await using client = await connectEvents(server.url, options);
 * console.log(client.connected); // true
 * ```
 */
export interface ConnectEventsOptions {
  /** Shared secret of a server started with `authKey`. */
  authKey?: Uint8Array | string;
  /** Reconnect after a lost connection (default `true`; `false`: one attempt). */
  reconnect?: boolean | ReconnectOptions;
  /** Default acknowledgement timeout in ms (default 10000). */
  ackTimeout?: number;
  /**
   * How long `connectEvents` waits for the first connection, and how long
   * any one attempt (upgrade + handshake) may take before it counts as
   * failed, in ms (default 10000).
   */
  connectTimeout?: number;
  /** Events kept while disconnected, sent on reconnect (default 1000). */
  maxBuffered?: number;
  /** Aborting it closes the client. */
  signal?: AbortSignal;
}

/**
 * Asks the client's `emit` for an acknowledgement: it then returns a
 * promise of the answer.
 *
 * @example
 * ```ts
 * import type { ClientAckOptions } from "@weft/weft/net";
 *
 * const options: ClientAckOptions = { ack: true, timeout: 500 };
 * console.log(options.timeout); // 500
 * ```
 */
export interface ClientAckOptions {
  /** Wait for the server handler's answer. */
  ack: true;
  /** Milliseconds before rejecting with {@linkcode AckTimeoutError} (default: `ackTimeout`). */
  timeout?: number;
}

type State = "connecting" | "open" | "waiting" | "closed";

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A connection to an event server that comes back by itself.
 *
 * Like python-socketio's `AsyncClient`: named events both ways,
 * acknowledgements (the handler's return value answers), automatic
 * reconnection with exponential back-off and jitter. Events emitted while
 * disconnected are buffered (up to `maxBuffered`) and sent on reconnect.
 * The server gives each connection a new session `id`.
 *
 * Lifecycle events: `on("connect", (id) => ...)` after each (re)connection,
 * `on("disconnect", (reason) => ...)` when a connection is lost.
 *
 * The client does not reconnect after the server called `disconnect()`
 * (code 1000) or refused its key (code 4001).
 *
 * ## Platform
 * No Deno APIs: runs in browsers as an ES module. In Deno it needs
 * `--allow-net` for the server's address.
 *
 * @example Talk both ways
 * ```ts
 * import { EventClient, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({
 *   onConnection(socket) {
 *     socket.emit("welcome", socket.id);
 *     socket.on("add", (pair) => (pair as number[])[0] + (pair as number[])[1]);
 *   },
 * });
 * await using client = new EventClient(server.url);
 * const welcomed = new Promise((resolve) => client.on("welcome", resolve));
 * await client.ready();
 * console.log(await welcomed === client.id); // true
 * console.log(await client.emit("add", [2, 3], { ack: true })); // 5
 * ```
 */
export class EventClient implements AsyncDisposable {
  #url: string;
  #key?: Uint8Array;
  #reconnect: Required<ReconnectOptions> | undefined;
  #ackTimeout: number;
  #maxBuffered: number;
  #handlers = new Handlers();
  #pending = new PendingAcks();
  #inFlight = new Set<number>();
  #queue: { frame: Frame; ackId?: number }[] = [];
  #state: State = "connecting";
  #ws: WebSocket | undefined;
  #id: string | undefined;
  #mx = 1024 * 1024;
  #window = 45000;
  #lastSeen = 0;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attemptTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimeout: number;
  #attempt = 0;
  #held: (string | ArrayBuffer)[] = [];
  #draining = false;
  #myNonce: string | undefined;
  #waiters = new Set<Waiter>();
  #error: Error | undefined;
  #closing: Promise<void> | undefined;
  #signal?: AbortSignal;
  #onAbort = () => void this.close();

  /**
   * Starts connecting at once; `await client.ready()` (or use
   * {@linkcode connectEvents}) to wait for the first connection.
   *
   * @param url `ws://` or `wss://` URL of the server's event endpoint.
   * @param options See {@linkcode ConnectEventsOptions}.
   */
  constructor(url: string | URL, options: ConnectEventsOptions = {}) {
    const parsed = new URL(url);
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
      throw new TypeError(
        `Invalid url ${JSON.stringify(String(url))}: expected ws: or wss:`,
      );
    }
    this.#url = parsed.href;
    if (options.authKey !== undefined) {
      this.#key = keyBytes(options.authKey, "authKey");
    }
    const r = options.reconnect ?? true;
    if (r !== false) {
      const o: ReconnectOptions = r === true ? {} : r;
      const jitter = o.jitter ?? 0.5;
      if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
        throw new RangeError('Invalid option "jitter": expected 0 to 1');
      }
      const factor = o.factor ?? 2;
      if (typeof factor !== "number" || !(factor >= 1)) {
        throw new RangeError('Invalid option "factor": expected at least 1');
      }
      const maxAttempts = o.maxAttempts ?? Infinity;
      if (typeof maxAttempts !== "number" || !(maxAttempts >= 1)) {
        throw new RangeError(
          'Invalid option "maxAttempts": expected at least 1',
        );
      }
      this.#reconnect = {
        initialDelay: checkMs(o.initialDelay, 250, "initialDelay"),
        maxDelay: checkMs(o.maxDelay, 5000, "maxDelay"),
        factor,
        jitter,
        maxAttempts,
      };
    }
    this.#ackTimeout = checkMs(options.ackTimeout, 10000, "ackTimeout");
    this.#connectTimeout = checkMs(
      options.connectTimeout,
      10000,
      "connectTimeout",
    );
    const maxBuffered = options.maxBuffered ?? 1000;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 0) {
      throw new RangeError(
        'Invalid option "maxBuffered": expected a non-negative integer',
      );
    }
    this.#maxBuffered = maxBuffered;
    this.#signal = options.signal;
    if (options.signal?.aborted) {
      this.#state = "closed";
      this.#error = new TypeError("Cannot connect: the signal was aborted");
      return;
    }
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#open();
  }

  /** Session id of the current connection (`undefined` while disconnected). */
  get id(): string | undefined {
    return this.#state === "open" ? this.#id : undefined;
  }

  /** `true` while connected (handshake done). */
  get connected(): boolean {
    return this.#state === "open";
  }

  /** `true` after `close()`, or once the client gave up for good. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** The server URL. */
  get url(): string {
    return this.#url;
  }

  /**
   * Adds a handler for `event`; its (awaited) return value answers an
   * acknowledgement request from the server.
   */
  on(event: string, handler: EventHandler): this {
    this.#handlers.add(checkEventName(event, "add event handler"), handler);
    return this;
  }

  /** Removes one handler, or all handlers of `event`. */
  off(event: string, handler?: EventHandler): this {
    this.#handlers.remove(event, handler);
    return this;
  }

  /** Sends an event (buffered while reconnecting). */
  emit(event: string, data?: unknown, options?: { ack?: false }): void;
  /** Sends an event and resolves with the server handler's answer. */
  emit(
    event: string,
    data: unknown,
    options: ClientAckOptions,
  ): Promise<unknown>;
  emit(
    event: string,
    data?: unknown,
    options?: { ack?: boolean; timeout?: number },
  ): void | Promise<unknown> {
    if (!options?.ack) {
      this.#send(event, this.#encode(event, data, undefined), undefined);
      return;
    }
    try {
      const timeout = checkMs(options.timeout, this.#ackTimeout, "timeout");
      if (this.#state === "closed") {
        throw new TypeError(
          `Cannot emit event ${JSON.stringify(event)}: the client is closed`,
        );
      }
      const [id, promise] = this.#pending.create(event, timeout);
      try {
        this.#send(event, this.#encode(event, data, id), id);
      } catch (error) {
        this.#pending.fail(id, error);
      }
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Resolves once connected (at once if connected now); rejects when the
   * client is closed or gives up, or after `timeout` ms.
   */
  ready(options: { timeout?: number } = {}): Promise<void> {
    if (this.#state === "open") return Promise.resolve();
    if (this.#state === "closed") {
      return Promise.reject(
        this.#error ?? new TypeError("Cannot connect: the client is closed"),
      );
    }
    const timeout = options.timeout;
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(
              `Cannot connect to ${this.#url}: not connected within ${timeout} ms`,
            ),
          );
        }, timeout);
      }
    });
  }

  /**
   * Closes the connection and stops reconnecting; pending acknowledgements
   * and buffered events are rejected/dropped. Resolves once the socket is
   * closed. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const wasOpen = this.#state === "open";
    this.#finish(
      new TypeError("Cannot connect: the client is closed"),
      "the client was closed",
    );
    const ws = this.#ws;
    this.#ws = undefined;
    this.#closing = ws
      ? closeAndWait(ws, CLOSE.normal, "Client closed")
      : Promise.resolve();
    if (wasOpen) this.#fireLocal("disconnect", "Client closed");
    return this.#closing;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #encode(event: string, data: unknown, ackId: number | undefined): Frame {
    checkEventName(event, "emit event");
    if (RESERVED_EVENTS.has(event)) {
      throw new TypeError(
        `Cannot emit event ${JSON.stringify(event)}: the name is reserved`,
      );
    }
    let frame: Frame;
    try {
      frame = encodeData("e", event, data, ackId);
    } catch (error) {
      throw new TypeError(
        `Cannot emit event ${
          JSON.stringify(event)
        }: data is neither JSON-serializable nor a Uint8Array`,
        { cause: error },
      );
    }
    const size = sizeOver(frame, this.#mx);
    if (size) {
      throw new RangeError(
        `Cannot emit event ${
          JSON.stringify(event)
        }: message of ${size} bytes exceeds the limit of ${this.#mx} bytes`,
      );
    }
    return frame;
  }

  #send(event: string, frame: Frame, ackId: number | undefined): void {
    if (this.#state === "closed") {
      throw new TypeError(
        `Cannot emit event ${JSON.stringify(event)}: the client is closed`,
      );
    }
    if (this.#state === "open" && this.#ws) {
      this.#ws.send(frame as string | Uint8Array<ArrayBuffer>);
      if (ackId !== undefined) this.#inFlight.add(ackId);
      return;
    }
    if (this.#queue.length >= this.#maxBuffered) {
      throw new RangeError(
        `Cannot emit event ${
          JSON.stringify(event)
        }: ${this.#queue.length} events already buffered while disconnected`,
      );
    }
    this.#queue.push({ frame, ackId });
  }

  #open(): void {
    this.#state = "connecting";
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#url);
    } catch (error) {
      this.#lost(undefined, 0, (error as Error)?.message ?? String(error));
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#held = [];
    this.#draining = false;
    this.#myNonce = undefined;
    ws.onmessage = (event: MessageEvent) => {
      if (ws !== this.#ws) return;
      this.#lastSeen = Date.now();
      if (this.#state === "open") this.#handle(ws, event.data);
      else {
        this.#held.push(event.data);
        if (!this.#draining) void this.#handshake(ws);
      }
    };
    ws.onclose = (event: CloseEvent) =>
      this.#lost(ws, event.code, event.reason);
    ws.onerror = () => {}; // a close event follows
    clearTimeout(this.#attemptTimer);
    this.#attemptTimer = setTimeout(() => {
      if (ws !== this.#ws || this.#state === "open") return;
      // A server that accepted TCP but never finishes the upgrade or the
      // handshake: give up on this attempt without waiting for it.
      this.#drop(
        ws,
        CLOSE.attemptTimeout,
        "Connection attempt timed out",
        `connection attempt timed out after ${this.#connectTimeout} ms`,
      );
    }, this.#connectTimeout);
  }

  /** Handles the messages before the hello (challenge, hello). */
  async #handshake(ws: WebSocket): Promise<void> {
    this.#draining = true;
    try {
      while (this.#held.length > 0 && ws === this.#ws) {
        if (this.#state === "open") {
          for (const message of this.#held.splice(0)) this.#handle(ws, message);
          return;
        }
        const packet = decodeFrame(this.#held.shift()!);
        if (packet.t === "c") {
          if (!this.#key) {
            return this.#fatal(
              ws,
              new EventAuthError(
                "Cannot connect: the server requires an auth key",
              ),
            );
          }
          if (this.#myNonce !== undefined || !isNonce(packet.nonce)) {
            throw new Error("unexpected challenge");
          }
          const myNonce = this.#myNonce = newNonce();
          const mac = await answer(this.#key, "client", packet.nonce);
          if (ws !== this.#ws) return;
          ws.send(encodePacket({ t: "r", mac, nonce: myNonce }));
        } else if (packet.t === "h") {
          if (this.#key) {
            const myNonce = this.#myNonce;
            const ok = myNonce !== undefined &&
              await verify(this.#key, "server", myNonce, packet.mac);
            if (ws !== this.#ws) return;
            if (!ok) {
              return this.#fatal(
                ws,
                new EventAuthError(
                  "Authentication failed: the server did not prove it knows the key",
                ),
              );
            }
          }
          this.#opened(ws, packet);
        } else {
          throw new Error(`unexpected packet "${packet.t}" before the hello`);
        }
      }
    } catch (error) {
      if (ws !== this.#ws) return;
      this.#drop(
        ws,
        CLOSE.clientProtocolError,
        "Protocol error",
        `Protocol error: ${(error as Error).message}`,
      );
    } finally {
      this.#draining = false;
    }
  }

  #opened(ws: WebSocket, hello: Extract<Packet, { t: "h" }>): void {
    this.#state = "open";
    this.#attempt = 0;
    clearTimeout(this.#attemptTimer);
    this.#id = hello.sid;
    this.#mx = hello.mx;
    this.#window = hello.pi + hello.pt;
    this.#lastSeen = Date.now();
    this.#armWatchdog(ws);
    for (const entry of this.#queue.splice(0)) {
      if (entry.ackId !== undefined && !this.#pending.has(entry.ackId)) {
        continue; // its acknowledgement already timed out
      }
      ws.send(entry.frame as string | Uint8Array<ArrayBuffer>);
      if (entry.ackId !== undefined) this.#inFlight.add(entry.ackId);
    }
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters.clear();
    this.#fireLocal("connect", hello.sid);
  }

  #armWatchdog(ws: WebSocket): void {
    clearTimeout(this.#watchdog);
    const left = this.#lastSeen + this.#window - Date.now();
    this.#watchdog = setTimeout(() => {
      if (ws !== this.#ws || this.#state !== "open") return;
      if (Date.now() - this.#lastSeen >= this.#window) {
        // The server went silent: drop this socket without waiting for a
        // closing handshake it may never answer, and reconnect.
        this.#drop(
          ws,
          CLOSE.pingTimeout,
          "Ping timeout",
          "Ping timeout: the server went silent",
        );
      } else this.#armWatchdog(ws);
    }, Math.max(left, 10));
  }

  #handle(ws: WebSocket, message: string | ArrayBuffer): void {
    const size = sizeOver(message, this.#mx);
    let packet: Packet;
    try {
      if (size) throw new Error(`message of ${size} bytes`);
      packet = decodeFrame(message);
    } catch (error) {
      this.#drop(
        ws,
        CLOSE.clientProtocolError,
        "Protocol error",
        `Protocol error: ${(error as Error).message}`,
      );
      return;
    }
    switch (packet.t) {
      case "p":
        ws.send(encodePacket({ t: "P" }));
        return;
      case "a":
        this.#inFlight.delete(packet.id);
        this.#pending.settle(packet.id, packet.d, packet.e);
        return;
      case "e":
        if (RESERVED_EVENTS.has(packet.n)) return;
        dispatchEvent(this.#handlers, packet, reportError)?.then((reply) => {
          if (ws !== this.#ws) return;
          if (sizeOver(reply, this.#mx)) {
            reply = encodePacket({
              t: "a",
              id: packet.id!,
              e: "acknowledgement exceeds the message size limit",
            });
          }
          ws.send(reply as string | Uint8Array<ArrayBuffer>);
        });
        return;
      default:
        this.#lost(
          ws,
          CLOSE.clientProtocolError,
          `Protocol error: unexpected "${packet.t}"`,
        );
    }
  }

  #fireLocal(event: "connect" | "disconnect", data: string): void {
    for (const handler of this.#handlers.get(event)?.slice() ?? []) {
      try {
        const result = handler(data);
        if (result instanceof Promise) result.catch(reportError);
      } catch (error) {
        reportError(error);
      }
    }
  }

  /**
   * Gives up on `ws` at once: closes it with `code` without waiting for a
   * closing handshake (a connecting socket is aborted), then handles the
   * loss. Its handlers are detached; they would ignore it anyway once it is
   * no longer the current socket.
   */
  #drop(
    ws: WebSocket,
    code: number,
    closeReason: string,
    lostReason: string,
  ): void {
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close(code, closeReason);
    } catch {
      // not open yet, or already closing
    }
    this.#lost(ws, code, lostReason);
  }

  /** A connection attempt or connection ended: reconnect or give up. */
  #lost(ws: WebSocket | undefined, code: number, reason: string): void {
    if (ws !== this.#ws || this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#ws = undefined;
    clearTimeout(this.#watchdog);
    clearTimeout(this.#attemptTimer);
    for (const id of this.#inFlight) {
      this.#pending.fail(
        id,
        new Error(
          `Cannot get acknowledgement: the connection closed (${
            reason || code
          })`,
        ),
      );
    }
    this.#inFlight.clear();
    if (wasOpen) this.#fireLocal("disconnect", reason || `code ${code}`);
    if (code === CLOSE.authFailed) {
      return this.#finish(
        new EventAuthError(reason || "Authentication failed"),
      );
    }
    if (code === CLOSE.normal && wasOpen) {
      return this.#finish(
        new TypeError(`Cannot connect: disconnected by the server (${reason})`),
      );
    }
    const r = this.#reconnect;
    const what = (text: string) =>
      new Error(
        `Cannot connect to ${this.#url}: ${text} (last: ${
          reason || `code ${code}`
        })`,
      );
    if (!r) return this.#finish(what("connection lost"));
    if (!wasOpen) this.#attempt++; // an attempt failed (not a lost connection)
    if (this.#attempt >= r.maxAttempts) {
      return this.#finish(what(`${this.#attempt} attempts failed`));
    }
    const base = Math.min(
      r.maxDelay,
      r.initialDelay * r.factor ** Math.min(this.#attempt, 64),
    );
    const delay = base * (1 - r.jitter * Math.random());
    this.#state = "waiting";
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state === "waiting") this.#open();
    }, delay);
  }

  #fatal(ws: WebSocket, error: Error): void {
    this.#ws = undefined;
    this.#finish(error);
    this.#closing = closeAndWait(ws, CLOSE.authFailed, "Authentication failed");
  }

  /** Enters the final state: nothing reconnects, everything pending fails. */
  #finish(error: Error, ackReason: string = error.message): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#error = error;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    clearTimeout(this.#watchdog);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#attemptTimer);
    this.#queue.length = 0;
    this.#inFlight.clear();
    this.#pending.rejectAll(ackReason);
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }
}

function reportError(error: unknown): void {
  console.error("event handler failed:", error);
}

/** Closes a socket and resolves on its close event (or after 2 s). */
function closeAndWait(
  ws: WebSocket,
  code: number,
  reason: string,
): Promise<void> {
  ws.onmessage = null;
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    ws.onclose = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  });
}

/**
 * Connects to an event server and resolves once the first connection (and
 * the auth handshake, with `authKey`) is done.
 *
 * Rejects with {@linkcode EventAuthError} when the key is refused, or with
 * an `Error` when no connection succeeded within `connectTimeout`.
 *
 * @example Connect, ask, close
 * ```ts
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents({
 *   authKey: "secret",
 *   onConnection: (socket) => socket.on("time", () => Date.now()),
 * });
 * const client = await connectEvents(server.url, { authKey: "secret" });
 * console.log(typeof await client.emit("time", null, { ack: true })); // "number"
 * await client.close();
 * ```
 */
export async function connectEvents(
  url: string | URL,
  options: ConnectEventsOptions = {},
): Promise<EventClient> {
  const timeout = checkMs(options.connectTimeout, 10000, "connectTimeout");
  const client = new EventClient(url, options);
  try {
    await client.ready({ timeout });
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}
