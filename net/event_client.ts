/**
 * A Socket.IO client (Engine.IO 4 + Socket.IO 5) with python-socketio's
 * client model, camelCased; it runs in Deno and in browsers (web APIs
 * only).
 *
 * @module
 */

import { EngineClient } from "./_event_engine_client.ts";
import { Outbox } from "./_event_client_outbox.ts";
import {
  encodePacket,
  Reassembler,
  SIO,
  type SioPacket,
} from "./_event_packets.ts";
import {
  AckTimeoutError,
  checkEvent,
  checkMs,
  deadline,
  fromArgs,
  PendingAcks,
  runHandler,
  toArgs,
} from "./_event_common.ts";
import { connectAuth, EventAuthError, verifyServer } from "./_event_auth.ts";
import { RESERVED_EVENTS } from "./event_adapter.ts";
import {
  Backoff,
  type ReconnectOptions,
  retry,
  Sleeper,
} from "./_event_reconnect.ts";

/** Errors that are the server's refusal (no point in retrying). */
const REFUSALS = new WeakSet<object>();

import {
  checkClientOptions,
  type ClientHandler,
  type ConnectEventsOptions,
  engineOptions,
  EventConnectionError,
  parseUrl,
  pickHandler,
  refusal,
} from "./_event_client_options.ts";

export { AckTimeoutError, EventAuthError, EventConnectionError };
export type { ClientHandler, ConnectEventsOptions, ReconnectOptions };

interface NspState {
  sid?: string;
  connected: boolean;
  acks: PendingAcks;
  nonce?: string;
}

/**
 * A connected Socket.IO client, from {@linkcode connectEvents}.
 *
 * @example Talk to a server over two namespaces
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents, Tuple, tuple } from "@weft/weft/net";
 *
 * await using server = serveEvents({ namespaces: ["/admin"] });
 * server.on("sum", (_sid, a, b) => tuple(a + b, "ok"), { namespace: "/admin" });
 * await using client = await connectEvents(server.url, { namespaces: ["/", "/admin"] });
 * const answer = await client.call("sum", tuple(2, 3), { namespace: "/admin" });
 * assert.ok(answer instanceof Tuple); // an acknowledgement of two values
 * assert.deepEqual([...answer], [5, "ok"]);
 * ```
 */
export class EventClient implements AsyncDisposable {
  #url = "";
  #o: ConnectEventsOptions;
  #key?: Uint8Array;
  #backoff: Backoff;
  #namespaces: string[] = [];
  #nsp = new Map<string, NspState>();
  #handlers = new Map<string, Map<string, ClientHandler>>();
  #engine?: EngineClient;
  #reassembler = new Reassembler();
  #outbox = new Outbox();
  #stopped = false;
  #reconnecting = false;
  #finished: Promise<void>;
  #resolveFinished!: () => void;
  #sleeper = new Sleeper();
  #connectWaiter?: { resolve: () => void; reject: (e: unknown) => void };

  /**
   * Creates a client; register handlers with `on()`, then `connect(url)`
   * (python-socketio's `AsyncClient()` + `connect()`).
   *
   * @param options Client options.
   */
  constructor(options: ConnectEventsOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid options: expected an object");
    }
    this.#o = options;
    this.#key = checkClientOptions(options);
    this.#backoff = new Backoff(options);
    this.#finished = new Promise((r) => this.#resolveFinished = r);
  }

  /** Session id in namespace `"/"` (or the first namespace); `undefined` while disconnected. */
  get sid(): string | undefined {
    return this.getSid(this.#nsp.has("/") ? "/" : this.#namespaces[0]);
  }

  /** Session id in `namespace`. */
  getSid(namespace = "/"): string | undefined {
    const s = this.#nsp.get(namespace);
    return s?.connected ? s.sid : undefined;
  }

  /** `true` while every namespace is connected. */
  get connected(): boolean {
    return [...this.#nsp.values()].every((s) => s.connected);
  }

  /**
   * The transport in use: `"websocket"` or `"polling"` (a polling session
   * becomes `"websocket"` once upgraded).
   */
  get transport(): "websocket" | "polling" | undefined {
    return this.#engine?.transport;
  }

  /** Registers the handler of `event` in `namespace` (replacing an earlier one). */
  on(
    event: string,
    handler: ClientHandler,
    options: { namespace?: string } = {},
  ): this {
    checkEvent(event, "add event handler");
    if (typeof handler !== "function") {
      throw new TypeError(
        "Cannot add event handler: handler must be a function",
      );
    }
    const nsp = options.namespace ?? "/";
    let table = this.#handlers.get(nsp);
    if (!table) this.#handlers.set(nsp, table = new Map());
    table.set(event, handler);
    return this;
  }

  /** Removes the handler of `event`. */
  off(event: string, options: { namespace?: string } = {}): this {
    this.#handlers.get(options.namespace ?? "/")?.delete(event);
    return this;
  }

  /**
   * Sends `event` (data: one value or a `tuple`); `callback` gets the
   * server's acknowledgement values. A message over the server's
   * `maxPayload` throws a `RangeError` (the server would drop the
   * connection).
   */
  emit(
    event: string,
    data?: unknown,
    options: {
      namespace?: string;
      callback?: (...args: unknown[]) => void;
      timeout?: number;
    } = {},
  ): void {
    if (options.callback) {
      const cb = options.callback;
      this.#call(event, data, options).then(
        (args) => cb(...args),
        (e) => this.#onError(e),
      );
      return;
    }
    this.#send(event, data, options.namespace ?? "/", undefined);
  }

  /** Sends a `"message"` event. */
  send(data: unknown, options: { namespace?: string } = {}): void {
    this.emit("message", data, options);
  }

  /** Sends `event` and resolves with the server's acknowledgement (one value, or a tuple). */
  async call(
    event: string,
    data?: unknown,
    options: { namespace?: string; timeout?: number } = {},
  ): Promise<unknown> {
    return fromArgs(await this.#call(event, data, options));
  }

  async #call(
    event: string,
    data: unknown,
    options: { namespace?: string; timeout?: number },
  ): Promise<unknown[]> {
    const nsp = options.namespace ?? "/";
    const state = this.#state(nsp, "call event");
    const timeout = checkMs(
      options.timeout,
      this.#o.ackTimeout ?? 60_000,
      "timeout",
    );
    const [id, promise] = state.acks.create(event, timeout);
    try {
      this.#send(event, data, nsp, id);
    } catch (error) {
      state.acks.fail(id, error);
    }
    return await promise;
  }

  /** The state of namespace `nsp`; a TypeError when it is not connected. */
  #state(nsp: string, action: string): NspState {
    const state = this.#nsp.get(nsp);
    if (state) return state;
    throw new TypeError(
      `Cannot ${action}: namespace ${JSON.stringify(nsp)} is not connected`,
    );
  }

  #send(
    event: string,
    data: unknown,
    nsp: string,
    id: number | undefined,
  ): void {
    checkEvent(event, "emit event");
    if (RESERVED_EVENTS.has(event)) {
      throw new TypeError(
        `Cannot emit event ${JSON.stringify(event)}: the name is reserved`,
      );
    }
    if (this.#stopped) {
      throw new TypeError("Cannot emit event: the client is disconnected");
    }
    const state = this.#state(nsp, "emit event");
    this.#outbox.send(
      { type: SIO.event, nsp, id, data: [event, ...toArgs(data)] },
      this.#engine,
      state.connected,
    );
  }

  /** Disconnects for good (no reconnection) and resolves once closed. */
  async disconnect(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      const engine = this.#engine;
      if (engine && !engine.closed) {
        for (const [nsp, s] of this.#nsp) {
          if (s.connected) {
            engine.send(encodePacket({ type: SIO.disconnect, nsp }));
          }
        }
        engine.close("io client disconnect");
      }
      this.#sleeper.wake();
      if (!this.#reconnecting) this.#done("io client disconnect");
      await engine?.settled();
    }
    return this.#finished;
  }

  /** Resolves when the client is disconnected for good (python-socketio's `wait()`). */
  wait(): Promise<void> {
    return this.#finished;
  }

  /** Same as `disconnect()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /**
   * Connects to `url` (`http://host:port`; a path other than `/` names the
   * namespace when `namespaces` is not given). Rejects with the reason when
   * it fails; call it once.
   */
  async connect(url: string): Promise<void> {
    if (this.#url !== "" || this.#stopped) {
      throw new TypeError(
        "Cannot connect: this client already connected once; create a new one",
      );
    }
    [this.#url, this.#namespaces] = parseUrl(url, this.#o.namespaces);
    // a bad option is an argument error, not a failure to connect
    checkMs(this.#o.waitTimeout, 20_000, "waitTimeout");
    for (const n of this.#namespaces) {
      this.#nsp.set(n, { connected: false, acks: new PendingAcks() });
    }
    try {
      await this.#attempt();
    } catch (error) {
      this.#stopped = true;
      await this.#engine?.settled();
      this.#done("connect failed");
      // every failure to connect is an EventConnectionError, as every one
      // is python-socketio's ConnectionError (the transport's is the cause)
      if (
        error instanceof EventConnectionError ||
        error instanceof EventAuthError
      ) throw error;
      throw new EventConnectionError(
        (error as Error)?.message ?? String(error),
        undefined,
        { cause: error },
      );
    }
  }

  async #attempt(): Promise<void> {
    const o = this.#o;
    const timeout = checkMs(o.waitTimeout, 20_000, "waitTimeout");
    this.#reassembler = new Reassembler();
    const engine = await EngineClient.open(
      this.#url,
      engineOptions(o, timeout),
      {
        onmessage: (m) => this.#receive(m),
        onclose: (reason) => this.#lost(reason),
      },
    );
    this.#engine = engine;
    const connected = new Promise<void>((resolve, reject) =>
      this.#connectWaiter = { resolve, reject }
    );
    connected.catch(() => {}); // awaited below: never an unhandled rejection
    try {
      const base = typeof o.auth === "function"
        ? await o.auth()
        : (o.auth ?? {});
      for (const nsp of this.#namespaces) {
        const state = this.#nsp.get(nsp)!;
        let auth;
        [auth, state.nonce] = await connectAuth(
          base,
          this.#key,
          engine.sid,
          nsp,
        );
        engine.send(encodePacket({ type: SIO.connect, nsp, data: auth }));
      }
      await deadline(
        connected,
        timeout,
        () =>
          new EventConnectionError(
            `Cannot connect: no answer within ${timeout} ms`,
          ),
      );
    } catch (error) {
      engine.onclose = () => {};
      engine.close("connect failed");
      throw error;
    } finally {
      this.#connectWaiter = undefined;
    }
  }

  #receive(message: string | Uint8Array): void {
    let packet: SioPacket | undefined;
    try {
      packet = this.#reassembler.feed(message);
    } catch (error) {
      this.#fail(
        new EventConnectionError(
          `Cannot decode packet: ${(error as Error).message}`,
        ),
      );
      return;
    }
    if (!packet) return;
    if (packet.type === SIO.ack || packet.type === SIO.binaryAck) {
      // the hot path of call(): settled here, without an async dispatch
      this.#nsp.get(packet.nsp)?.acks.settle(
        packet.id!,
        packet.data as unknown[],
      );
      return;
    }
    void this.#dispatch(packet);
  }

  async #dispatch(packet: SioPacket): Promise<void> {
    const state = this.#nsp.get(packet.nsp);
    if (!state) return;
    switch (packet.type) {
      case SIO.connect: {
        const data = packet.data as Record<string, unknown> | undefined;
        if (typeof data?.sid !== "string") {
          return this.#fail(
            new EventConnectionError(
              "Cannot connect: CONNECT answer without a sid",
            ),
          );
        }
        if (this.#key) {
          const ok = await verifyServer(
            this.#key,
            this.#engine!.sid,
            packet.nsp,
            state.nonce ?? "",
            data.hmac,
          );
          if (!ok) {
            return this.#fail(
              new EventAuthError(
                "Cannot authenticate the server: wrong or missing proof",
              ),
            );
          }
        }
        state.sid = data.sid;
        state.connected = true;
        if (this.connected) {
          this.#flushBuffer();
          this.#connectWaiter?.resolve();
        }
        this.#fire(packet.nsp, "connect", [packet.nsp]);
        return;
      }
      case SIO.connectError: {
        const [payload, error] = refusal(packet.data, this.#key !== undefined);
        this.#fire(packet.nsp, "connect_error", [payload, packet.nsp]);
        REFUSALS.add(error);
        return this.#fail(error);
      }
      case SIO.disconnect: {
        state.connected = false;
        state.acks.rejectAll("the server disconnected this namespace");
        this.#fire(packet.nsp, "disconnect", [
          "io server disconnect",
          packet.nsp,
        ]);
        if (![...this.#nsp.values()].some((s) => s.connected)) {
          this.#stopped = true;
          this.#engine?.close("io server disconnect");
          this.#done("io server disconnect");
        }
        return;
      }
      case SIO.event:
      case SIO.binaryEvent: {
        const run = pickHandler(this.#handlers.get(packet.nsp), packet.data);
        if (!run) return;
        const result = await runHandler(run, (e) => this.#onError(e));
        if (packet.id !== undefined && this.#engine && !this.#engine.closed) {
          this.#engine.send(
            encodePacket({
              type: SIO.ack,
              nsp: packet.nsp,
              id: packet.id,
              data: toArgs(result),
            }),
          );
        }
        return;
      }
    }
  }

  #flushBuffer(): void {
    this.#outbox.flush(this.#engine!, (packet, error) => {
      const acks = this.#nsp.get(packet.nsp)?.acks;
      if (packet.id !== undefined && acks) acks.fail(packet.id, error);
      else this.#onError(error);
    });
  }

  #fire(nsp: string, event: string, args: unknown[]): void {
    const handler = this.#handlers.get(nsp)?.get(event);
    if (handler) {
      void runHandler(() => handler(...args), (e) => this.#onError(e));
    }
  }

  #onError(error: unknown): void {
    if (this.#o.onError) this.#o.onError(error);
    else console.error("event client handler failed:", error);
  }

  /** A refusal or protocol failure: ends the attempt (and reconnection). */
  #fail(error: Error): void {
    if (this.#connectWaiter) {
      this.#connectWaiter.reject(error);
      return;
    }
    if (
      error instanceof EventConnectionError || error instanceof EventAuthError
    ) {
      this.#stopped = true;
      this.#engine?.close("connect refused");
      this.#done("connect refused");
    }
  }

  #lost(reason: string): void {
    const wasConnected = [...this.#nsp.values()].some((s) => s.connected);
    for (const [nsp, s] of this.#nsp) {
      s.acks.rejectAll(`the connection closed (${reason})`);
      if (s.connected) {
        s.connected = false;
        this.#fire(nsp, "disconnect", [reason, nsp]);
      }
    }
    if (this.#connectWaiter) {
      this.#connectWaiter.reject(
        new EventConnectionError(`Cannot connect: ${reason}`),
      );
      return;
    }
    if (this.#stopped || !wasConnected) return;
    if (!this.#backoff.enabled) {
      this.#stopped = true;
      this.#done(reason);
      return;
    }
    void this.#reconnect(reason);
  }

  async #reconnect(reason: string): Promise<void> {
    this.#reconnecting = true;
    try {
      const ok = await retry(this.#backoff, {
        stopped: () => this.#stopped,
        sleep: async (ms) => {
          await this.#engine?.settled();
          await this.#sleeper.sleep(ms);
        },
        attempt: () => this.#attempt(),
        final: (error) =>
          REFUSALS.has(error as object) || error instanceof EventAuthError,
      });
      if (!ok) {
        this.#stopped = true;
        await this.#engine?.settled();
      }
    } finally {
      this.#reconnecting = false;
      if (this.#stopped) this.#done(reason);
    }
  }

  #done(_reason: string): void {
    for (const s of this.#nsp.values()) {
      s.acks.rejectAll("the client is disconnected");
    }
    this.#outbox.clear();
    this.#resolveFinished();
  }
}

/**
 * Connects to a Socket.IO server (weft's {@linkcode serveEvents}, Node's
 * socket.io 4, python-socketio, ...): WebSocket first, HTTP long-polling if
 * that fails (a session opened on polling upgrades to WebSocket when the
 * server offers it, unless `upgrade: false`); connects every namespace in
 * `namespaces`, then resolves.
 * Rejects with {@linkcode EventConnectionError} (the server's
 * `connect_error` message and data) or {@linkcode EventAuthError}.
 *
 * ## Reconnection
 * A lost connection is retried with back-off (python-socketio's defaults:
 * 1 s doubling to 5 s, ± 50 %); events emitted meanwhile wait (up to 1000)
 * and are sent once connected again; each reconnection gets new sids.
 * `disconnect()` or the server's disconnect ends it for good.
 *
 * @example Register handlers first, then connect (python-socketio's order)
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventClient, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * server.on("connect", (sid) => {
 *   server.emit("welcome", "hello", { to: sid });
 * });
 * await using client = new EventClient();
 * const welcome = new Promise((resolve) => client.on("welcome", resolve));
 * await client.connect(server.url);
 * assert.deepEqual(await welcome, "hello");
 * ```
 */
export async function connectEvents(
  url: string,
  options: ConnectEventsOptions = {},
): Promise<EventClient> {
  const client = new EventClient(options);
  await client.connect(url);
  return client;
}
