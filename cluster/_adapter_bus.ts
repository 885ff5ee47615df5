// The Redis side of the Socket.IO adapter and emitter: one publishing
// client and one subscriber client in buffer mode (msgpack messages are
// binary), shared by every namespace of one `redisAdapter()` factory and
// closed with the last of them. node-redis reconnects by itself and
// re-subscribes after a Redis restart; what is published while Redis is
// down is queued by the client (pub/sub is at-most-once: messages published
// by other nodes during the outage are lost).
import { Buffer } from "node:buffer";
import { type _ConnectState, _createClient, _redisUrl } from "./_redis_open.ts";
import type { RedisClientLike } from "./redis_client.ts";

/** A message listener (channel and raw bytes). */
export type _BusListener = (channel: string, message: Uint8Array) => void;

interface _PubSubClient extends RedisClientLike {
  pSubscribe(
    pattern: string,
    listener: (message: Buffer, channel: Buffer | string) => void,
    bufferMode: true,
  ): Promise<unknown>;
  pUnsubscribe(
    pattern: string,
    listener: (message: Buffer, channel: Buffer | string) => void,
    bufferMode: true,
  ): Promise<unknown>;
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => void,
    bufferMode?: boolean,
  ): Promise<unknown>;
  unsubscribe(
    channel: string,
    listener?: (message: string, channel: string) => void,
    bufferMode?: boolean,
  ): Promise<unknown>;
}

/** Where to find Redis: a URL, or a node-redis client (never closed by us). */
export interface _BusTarget {
  url?: string | URL;
  client?: RedisClientLike;
}

/** The bus a `redisAdapter()` factory shares among its namespaces. */
export const _buses: WeakMap<object, _Bus> = new WeakMap();

/** Publishing + subscribing connections to one Redis. */
export class _Bus {
  #pub: RedisClientLike;
  #owned: boolean;
  /** The first-connection state of the client this bus opened. */
  #state: _ConnectState | undefined;
  #sub: _PubSubClient | undefined;
  #subscribing: Promise<_PubSubClient> | undefined;
  #refs = 0;
  #closed = false;
  #what: string;
  /** The last error either client reported (they reconnect by themselves). */
  lastError: unknown;
  /** Milliseconds the first connection to Redis may take. */
  connectTimeout = 5000;

  constructor(target: _BusTarget, what: string) {
    this.#what = what;
    if (target.client !== undefined) {
      const c = target.client as Partial<RedisClientLike>;
      if (
        typeof c !== "object" || c === null ||
        typeof c.sendCommand !== "function" ||
        typeof c.duplicate !== "function"
      ) {
        throw new TypeError(
          `Cannot ${what}: "client" is not a node-redis client`,
        );
      }
      this.#pub = target.client;
      this.#owned = false;
    } else if (target.url !== undefined) {
      const { client, state } = _createClient(
        _redisUrl(target.url, what),
        this.connectTimeout,
        (e) => this.lastError = e,
      );
      this.#pub = client;
      this.#state = state;
      this.#owned = true;
    } else {
      throw new TypeError(`Cannot ${what}: give "url" or "client"`);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  ref(): void {
    this.#refs++;
  }

  #connecting = new WeakMap<RedisClientLike, Promise<void>>();

  /**
   * Connects `client` once (concurrent callers share the attempt). node-redis
   * retries an unreachable server forever, so the first connection has a
   * deadline: past it the attempt is dropped and the caller gets a clear
   * error (a later call tries again).
   */
  #connect(client: RedisClientLike): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError("Cannot send to Redis: the connection is closed"),
      );
    }
    let p = this.#connecting.get(client);
    if (!p && client.isOpen) return Promise.resolve();
    if (!p) {
      const mine = client !== this.#pub || this.#owned;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          try {
            if (mine) client.destroy();
          } catch {
            // not open
          }
          reject(new Error("no answer"));
        }, this.connectTimeout);
      });
      if (client === this.#pub && this.#state) {
        this.#state.started = Date.now();
      }
      p = Promise.race([client.connect(), late]).then(() => {
        this.#connecting.delete(client);
        if (client === this.#pub && this.#state) this.#state.connected = true;
      }, (error) => {
        this.#connecting.delete(client);
        throw new TypeError(
          `Cannot connect to Redis: no server answers within ${this.connectTimeout} ms`,
          { cause: error },
        );
      }).finally(() => clearTimeout(timer));
      this.#connecting.set(client, p);
    }
    return p;
  }

  /** Sends one command on the publishing client. */
  async command(args: (string | Uint8Array)[]): Promise<unknown> {
    if (this.#closed) {
      throw new TypeError("Cannot send to Redis: the connection is closed");
    }
    await this.#connect(this.#pub);
    const raw = args.map((a) => typeof a === "string" ? a : Buffer.from(a));
    return await this.#pub.sendCommand(raw as unknown as string[]);
  }

  /** Publishes bytes or text on a channel. */
  async publish(channel: string, message: string | Uint8Array): Promise<void> {
    await this.command(["PUBLISH", channel, message]);
  }

  /** `PUBSUB NUMSUB channel`. */
  async numsub(channel: string): Promise<number> {
    const reply = await this.command(["PUBSUB", "NUMSUB", channel]);
    return Number((reply as unknown[])[1] ?? 0);
  }

  #subscriber(): Promise<_PubSubClient> {
    this.#subscribing ??= (async () => {
      await this.#connect(this.#pub);
      const sub = this.#pub.duplicate() as _PubSubClient;
      this.#sub = sub;
      sub.on("error", (e) => this.lastError = e);
      await this.#connect(sub);
      return sub;
    })();
    this.#subscribing.catch(() => this.#subscribing = undefined);
    return this.#subscribing;
  }

  /**
   * Subscribes `listener` to a pattern and some channels (bytes in); the
   * returned function unsubscribes them.
   */
  async listen(
    pattern: string | undefined,
    channels: string[],
    listener: _BusListener,
  ): Promise<() => Promise<void>> {
    const sub = await this.#subscriber();
    const onMessage = (message: Buffer | string, channel: Buffer | string) => {
      const bytes = typeof message === "string"
        ? new TextEncoder().encode(message)
        : new Uint8Array(message.buffer, message.byteOffset, message.length);
      listener(String(channel), bytes);
    };
    if (pattern !== undefined) await sub.pSubscribe(pattern, onMessage, true);
    for (const channel of channels) {
      await sub.subscribe(
        channel,
        onMessage as (m: string, c: string) => void,
        true,
      );
    }
    return async () => {
      if (!sub.isOpen) return;
      if (pattern !== undefined) {
        await sub.pUnsubscribe(pattern, onMessage, true).catch(() => {});
      }
      for (const channel of channels) {
        await sub.unsubscribe(
          channel,
          onMessage as (m: string, c: string) => void,
          true,
        ).catch(() => {});
      }
    };
  }

  /**
   * A connection of the caller's own for blocking reads (XREAD BLOCK);
   * the caller destroys it.
   */
  async reader(): Promise<RedisClientLike> {
    await this.#connect(this.#pub);
    const client = this.#pub.duplicate();
    client.on("error", (e) => this.lastError = e);
    await this.#connect(client);
    return client;
  }

  /** Frees one user; the last one closes the clients this bus opened. */
  async close(): Promise<void> {
    if (this.#closed || --this.#refs > 0) return;
    this.#closed = true;
    const closing: Promise<unknown>[] = [];
    const finish = (client: RedisClientLike | undefined) => {
      if (!client) return;
      const ready = (client as { isReady?: boolean }).isReady === true;
      try {
        if (ready) closing.push(client.close());
        else if (client.isOpen) client.destroy(); // still connecting
      } catch {
        // already closed
      }
    };
    finish(this.#sub);
    if (this.#owned) finish(this.#pub);
    await Promise.allSettled(closing);
  }
}
