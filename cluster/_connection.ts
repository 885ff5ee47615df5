// One logical connection to a Redis server, shared by the objects that
// `X.connect()` / `RedisManager.connect()` hand out: a command client, a
// small pool of blocking clients (BZPOPMIN), one subscriber client with a
// fan-out of listeners, Lua scripts sent by SHA with a reload on NOSCRIPT,
// and a retry of commands cut by a connection loss. Written so that the
// Socket.IO Redis adapter (issue #17) can reuse it: `subscribe`,
// `command`, `script` and `close` are all that adapter needs.
import {
  _createClient,
  _isReplyError,
  _isTransient,
  _redisUrl,
  _sleep,
} from "./_redis_open.ts";
import type { RedisClientLike } from "./redis_client.ts";

export { _sleep };

export interface _Script {
  source: string;
  sha?: string;
  /** Retry-safe: the reply is kept under a per-call nonce key (last KEY). */
  once?: boolean;
}

export function _script(source: string): _Script {
  return { source };
}

/**
 * A script whose effect happens once even when a connection loss makes us
 * resend it: `setup` (locals, helper functions) then `body` (which
 * `return`s) run inside a function; its reply is stored for two minutes
 * under a per-call nonce key (KEYS[ARGV[#ARGV]]) and a resend returns that
 * reply. The nonce keys of calls already answered ride along after it and
 * are deleted, so only the last few calls' replies stay in Redis.
 */
export function _onceScript(setup: string, body: string): _Script {
  const source = setup + `
local __i = tonumber(ARGV[#ARGV])
local __nonce = KEYS[__i]
for __k = __i + 1, #KEYS do redis.call('DEL', KEYS[__k]) end
local __seen = redis.call('GET', __nonce)
if __seen then return cjson.decode(__seen) end
local function __body()
` + body + `
end
local __r = __body()
redis.call('SET', __nonce, cjson.encode(__r), 'PX', 120000)
return __r
`;
  return { source, once: true };
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

export interface _ConnectOptions {
  /** Milliseconds a command keeps being retried while Redis is unreachable. */
  retryTimeout?: number;
  /** Milliseconds the first connection keeps being tried (default 5000). */
  connectTimeout?: number;
}

export class _Connection {
  #client: RedisClientLike;
  #owned: boolean;
  #retryTimeout: number;
  #idle: RedisClientLike[] = [];
  #busy = new Set<RedisClientLike>();
  #subscriber: RedisClientLike | undefined;
  #subscribing: Promise<RedisClientLike> | undefined;
  #listeners = new Map<string, Set<(message: string) => void>>();
  #closed = false;
  #refs = 1;
  #spent = new Map<string, string[]>();
  /** Aborted by `close()`: ends the pauses between retries at once. */
  #closing = new AbortController();
  lastError: unknown;

  private constructor(
    client: RedisClientLike,
    owned: boolean,
    retryTimeout: number,
  ) {
    this.#client = client;
    this.#owned = owned;
    this.#retryTimeout = retryTimeout;
  }

  static async open(
    target: string | URL | RedisClientLike,
    what: string,
    options: _ConnectOptions = {},
  ): Promise<_Connection> {
    const retryTimeout = options.retryTimeout ?? 30_000;
    if (typeof target === "string" || target instanceof URL) {
      const href = _redisUrl(target, what);
      const { client, state } = _createClient(
        href,
        options.connectTimeout ?? 5000,
        (error) => conn.lastError = error, // emitted once connecting
      );
      const conn = new _Connection(client, true, retryTimeout);
      try {
        await client.connect();
        state.connected = true;
      } catch (error) {
        try {
          client.destroy();
        } catch {
          // already closed
        }
        throw new TypeError(
          `Cannot ${what}: no Redis server answers at ${new URL(href).host}`,
          { cause: error },
        );
      }
      return conn;
    }
    if (
      typeof target !== "object" || target === null ||
      typeof target.sendCommand !== "function"
    ) {
      throw new TypeError(
        `Cannot ${what}: expected a redis:// URL or a node-redis client`,
      );
    }
    const conn = new _Connection(target, false, retryTimeout);
    if (!target.isOpen) await target.connect();
    return conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Another user of this connection; `close()` frees it on the last one. */
  ref(): this {
    this.#refs++;
    return this;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new TypeError("Cannot send to Redis: the connection is closed");
    }
  }

  async #retry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#retryTimeout;
    let pause = 20;
    for (;;) {
      this.#checkOpen();
      try {
        return await fn();
      } catch (error) {
        if (!_isTransient(error) || this.#closed || Date.now() > deadline) {
          if (this.#closed) this.#checkOpen();
          throw error;
        }
        await _sleep(pause, this.#closing.signal);
        pause = Math.min(pause * 2, 500);
      }
    }
  }

  /** One command, retried when the connection drops while it is in flight. */
  command(args: string[]): Promise<unknown> {
    return this.#retry(() => this.#client.sendCommand(args));
  }

  /** Runs a Lua script by SHA, loading it when the server does not know it. */
  script(s: _Script, keys: string[], args: string[]): Promise<unknown> {
    let nonceKey: string | undefined;
    if (s.once) {
      const nonce = crypto.getRandomValues(new Uint32Array(3)).join("-");
      nonceKey = `${keys[0]}:once:${nonce}`;
      const spent = this.#spent.get(keys[0]);
      const drop = spent ? spent.splice(0, 32) : [];
      args = [...args, String(keys.length + 1)];
      keys = [...keys, nonceKey, ...drop];
    }
    const reply = this.#retry(async () => {
      s.sha ??= await sha1(s.source);
      try {
        return await this.#client.sendCommand([
          "EVALSHA",
          s.sha,
          String(keys.length),
          ...keys,
          ...args,
        ]);
      } catch (error) {
        if (!_isReplyError(error) || !String(error).includes("NOSCRIPT")) {
          throw error;
        }
        return await this.#client.sendCommand([
          "EVAL",
          s.source,
          String(keys.length),
          ...keys,
          ...args,
        ]);
      }
    });
    if (nonceKey === undefined) return reply;
    return reply.then((value) => {
      let spent = this.#spent.get(keys[0]);
      if (!spent) this.#spent.set(keys[0], spent = []);
      if (spent.length < 256) spent.push(nonceKey);
      return value;
    });
  }

  async #borrow(): Promise<RedisClientLike> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    const client = this.#client.duplicate();
    client.on("error", (error) => this.lastError = error);
    await client.connect();
    return client;
  }

  /**
   * A blocking command on a connection of its own. Resolves `undefined`
   * when the connection dropped (the caller loops); an abort destroys that
   * connection and rejects with the signal's reason.
   */
  async blocking(args: string[], signal?: AbortSignal): Promise<unknown> {
    this.#checkOpen();
    signal?.throwIfAborted();
    const client = await this.#borrow();
    this.#busy.add(client);
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      client.destroy();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const reply = await client.sendCommand(args);
      return reply;
    } catch (error) {
      if (aborted) throw signal!.reason;
      if (this.#closed) this.#checkOpen();
      if (!_isTransient(error)) throw error;
      await _sleep(50, this.#closing.signal);
      return undefined;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#busy.delete(client);
      if (aborted || this.#closed || !client.isOpen) {
        try {
          client.destroy();
        } catch {
          // already closed
        }
      } else if (this.#idle.length < 16) {
        this.#idle.push(client);
      } else {
        client.close().catch(() => {});
      }
    }
  }

  /** Adds a listener on a pub/sub channel; resolves with its remover. */
  async subscribe(
    channel: string,
    listener: (message: string) => void,
  ): Promise<() => Promise<void>> {
    this.#checkOpen();
    // Shared by every subscribe; a failed attempt is forgotten, so the next
    // subscribe tries again instead of failing for ever.
    const subscribing = this.#subscribing ??= (async () => {
      const client = this.#client.duplicate();
      client.on("error", (error) => this.lastError = error);
      await client.connect();
      this.#subscriber = client;
      return client;
    })();
    subscribing.catch(() => {
      if (this.#subscribing === subscribing) this.#subscribing = undefined;
    });
    const client = await subscribing;
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      const listeners = set;
      const fanOut = (message: string) => {
        for (const fn of [...listeners]) fn(message);
      };
      try {
        // A SUBSCRIBE cut by a connection loss (Redis restarting) is sent
        // again once node-redis has reconnected, like any other command;
        // the same fanOut function each time, so it is registered once.
        await this.#retry(() => client.subscribe(channel, fanOut));
      } catch (error) {
        if (this.#listeners.get(channel) === listeners && !listeners.size) {
          this.#listeners.delete(channel);
        }
        throw error;
      }
    }
    set.add(listener);
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current || !current.delete(listener) || current.size > 0) return;
      this.#listeners.delete(channel);
      if (!this.#closed && client.isOpen) {
        await client.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** Frees this user's share; the last one closes the clients weft opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (--this.#refs > 0) return;
    this.#closed = true;
    this.#closing.abort();
    for (const client of this.#busy) client.destroy();
    const closing: Promise<unknown>[] = [];
    for (const client of this.#idle) closing.push(client.close());
    this.#idle = [];
    if (this.#subscribing) {
      const sub = await this.#subscribing.catch(() => undefined);
      if (sub) closing.push(sub.close());
    }
    this.#listeners.clear();
    if (this.#owned) closing.push(this.#client.close());
    await Promise.allSettled(closing);
  }
}
