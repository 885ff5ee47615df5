/**
 * {@linkcode RedisServer}: a throwaway `redis-server` on a free 127.0.0.1
 * port, for tests, demos and examples of `@weft/weft/cluster`.
 *
 * @module
 */

/** Options of {@linkcode RedisServer.start}. */
export interface RedisServerOptions {
  /**
   * The `redis-server` binary (default: `"redis-server"` on `PATH`).
   *
   * @default {"redis-server"}
   */
  binary?: string;
  /** Port to bind on 127.0.0.1 (default: a free one). */
  port?: number;
  /**
   * Keep the data across {@linkcode RedisServer.restart} with an
   * append-only file in the server's temporary folder (default `false`:
   * nothing is written to disk).
   *
   * @default {false}
   */
  persistence?: boolean;
  /**
   * Milliseconds to wait for the server to answer `PING`.
   *
   * @default {10000}
   */
  startTimeout?: number;
}

const PING = new TextEncoder().encode("*1\r\n$4\r\nPING\r\n");

async function answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(PING);
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null &&
      new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

function pickPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Tells whether a `redis-server` binary can be started (it runs
 * `redis-server --version`).
 *
 * @example Check for the binary
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisServerAvailable } from "@weft/weft/cluster";
 *
 * assert.deepEqual(typeof redisServerAvailable(), "boolean");
 * ```
 */
export function redisServerAvailable(binary = "redis-server"): boolean {
  try {
    return new Deno.Command(binary, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * A private `redis-server` child process bound to 127.0.0.1 on a free port,
 * with its working folder in a fresh temporary directory (removed by
 * `stop()`), no persistence unless asked, and `maxmemory-policy noeviction`
 * (a queue must never lose items to eviction). It is what weft's tests and
 * `deno task demo:cluster` use; use it in your own tests the same way.
 *
 * Stop it with `stop()` (or `await using`): a server whose parent exits
 * without stopping it keeps running — and `Deno.exit()` skips `await using`
 * disposal.
 *
 * ## Platform
 * Needs `--allow-run` (the binary), `--allow-net=127.0.0.1`,
 * `--allow-write` and `--allow-read` (the temporary folder). Debian:
 * `apt-get install redis-server`.
 *
 * @example A throwaway server for a test
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisServer } from "@weft/weft/cluster";
 *
 * await using server = await RedisServer.start();
 * assert.deepEqual(server.url.startsWith("redis://127.0.0.1:"), true);
 * ```
 */
export class RedisServer implements AsyncDisposable {
  #binary: string;
  #port: number;
  #dir: string;
  #persistence: boolean;
  #startTimeout: number;
  #child: Deno.ChildProcess | undefined;
  #stopped = false;

  private constructor(
    binary: string,
    port: number,
    dir: string,
    persistence: boolean,
    startTimeout: number,
  ) {
    this.#binary = binary;
    this.#port = port;
    this.#dir = dir;
    this.#persistence = persistence;
    this.#startTimeout = startTimeout;
  }

  /**
   * Starts a server and resolves once it answers `PING`.
   *
   * @example Start on a free port
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisServer } from "@weft/weft/cluster";
   *
   * const server = await RedisServer.start();
   * assert.deepEqual(server.port > 0, true);
   * await server.stop();
   * ```
   *
   * @throws {TypeError} (rejection) If the binary is missing or the server
   * does not come up in time.
   */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const binary = options.binary ?? "redis-server";
    const startTimeout = options.startTimeout ?? 10_000;
    const dir = await Deno.makeTempDir({ prefix: "weft-redis-" });
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(
        binary,
        options.port ?? pickPort(),
        dir,
        options.persistence ?? false,
        startTimeout,
      );
      try {
        await server.#spawn();
        return server;
      } catch (error) {
        lastError = error;
        if (options.port !== undefined) break;
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw lastError;
  }

  async #spawn(): Promise<void> {
    const args = [
      "--port",
      String(this.#port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.#dir,
      "--save",
      "",
      "--appendonly",
      this.#persistence ? "yes" : "no",
      "--loglevel",
      "warning",
      "--logfile",
      "redis.log",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "yes",
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#binary, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      throw new TypeError(
        `Cannot start redis-server: "${this.#binary}" could not be run (install it with "apt-get install redis-server")`,
        { cause: error },
      );
    }
    this.#child = child;
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const deadline = Date.now() + this.#startTimeout;
    while (Date.now() < deadline) {
      if (exited) break;
      if (await answersPing(this.#port)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (!exited) child.kill("SIGKILL");
    const s = await status;
    this.#child = undefined;
    throw new TypeError(
      `Cannot start redis-server: it exited or did not answer on 127.0.0.1:${this.#port} (code ${s.code})`,
    );
  }

  /** The server's port on 127.0.0.1. */
  get port(): number {
    return this.#port;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  /** The server process id (`undefined` while stopped). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Sends `signal` to the server process (fault injection in tests).
   *
   * @example Kill the server
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisServer } from "@weft/weft/cluster";
   *
   * const server = await RedisServer.start();
   * server.kill("SIGKILL");
   * await server.stop();
   * assert.equal(server.pid, undefined);
   * ```
   */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    this.#child?.kill(signal);
  }

  async #halt(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      // Without persistence there is nothing to flush: SIGKILL is as
      // clean and faster; with it, SIGTERM lets Redis finish its AOF.
      child.kill(this.#persistence ? "SIGTERM" : "SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }

  /**
   * Stops the server (waits for it to exit) and starts it again on
   * the same port; with `persistence` the data survives.
   *
   * @example Restart on the same port
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisServer } from "@weft/weft/cluster";
   *
   * await using server = await RedisServer.start({ persistence: true });
   * const port = server.port;
   * await server.restart();
   * assert.deepEqual(server.port === port, true);
   * ```
   */
  async restart(): Promise<void> {
    if (this.#stopped) {
      throw new TypeError("Cannot restart redis-server: it was stopped");
    }
    await this.#halt();
    await this.#spawn();
  }

  /**
   * Stops the server and removes its temporary folder. Idempotent.
   *
   * @example Stop twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisServer } from "@weft/weft/cluster";
   *
   * const server = await RedisServer.start();
   * await server.stop();
   * await server.stop();
   * assert.deepEqual(server.pid, undefined);
   * ```
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#halt();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Stops the server. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
