/**
 * Harness of the cluster tests: each test file starts its own
 * `redis-server` on a free 127.0.0.1 port (temporary folder, no
 * persistence unless asked) and stops it. Without the binary a test is
 * registered as ignored with the reason in its name; under `CI=true`
 * (or `WEFT_REQUIRE_ENGINES=1`) it fails instead — never a silent pass.
 *
 * @module
 */
import { RedisServer, redisServerAvailable } from "../../cluster/mod.ts";

export const REQUIRED = Deno.env.get("CI") === "true" ||
  Deno.env.get("WEFT_REQUIRE_ENGINES") === "1";
const MISSING = redisServerAvailable()
  ? undefined
  : 'redis-server not found: install it with "apt-get install -y redis-server" (or run .ci/setup-redis)';

/** Deno.test with a fresh redis-server (or ignored / failing when missing). */
export function redisTest(
  name: string,
  fn: (server: RedisServer) => Promise<void>,
  options: { persistence?: boolean; sanitizeOps?: boolean } = {},
): void {
  if (MISSING && !REQUIRED) {
    Deno.test({ name: `${name} (ignored: ${MISSING})`, ignore: true, fn() {} });
    return;
  }
  Deno.test({
    name,
    sanitizeOps: options.sanitizeOps ?? true,
    async fn() {
      if (MISSING) throw new Error(`${MISSING} (required under CI)`);
      const server = await RedisServer.start({
        persistence: options.persistence,
      });
      try {
        await fn(server);
      } finally {
        await server.stop();
      }
    },
  });
}

/** The child script used by the multi-process tests. */
export const CHILD = new URL("./_child.ts", import.meta.url).href;
export const TASKS = new URL("./_tasks.ts", import.meta.url).href;

/** A running child Deno process whose stdout lines we read as they come. */
export class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  #waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] =
    [];
  readonly done: Promise<Deno.CommandStatus>;
  #stderr = "";

  constructor(args: string[]) {
    this.process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-env",
        "--allow-run",
        "--allow-write",
        "--allow-sys",
        CHILD,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = this.#read(this.process.stdout, (line) => {
      this.lines.push(line);
      for (const w of [...this.#waiters]) {
        if (w.test(line)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    const err = this.#read(this.process.stderr, (line) => {
      if (this.#stderr.length < 20_000) this.#stderr += line + "\n";
    });
    this.done = Promise.all([out, err]).then(() => this.process.status);
  }

  get pid(): number {
    return this.process.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  async #read(
    stream: ReadableStream<Uint8Array>,
    onLine: (line: string) => void,
  ): Promise<void> {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) onLine(buf);
  }

  /** Resolves with the first line (already seen or future) matching `test`. */
  waitFor(test: (line: string) => boolean, ms = 20_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      new Promise<string>((resolve) => this.#waiters.push({ test, resolve })),
      new Promise<string>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Timed out waiting for a line from child ${this.pid}; stderr: ${this.#stderr}`,
              ),
            ),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits for exit (SIGKILL after `ms`). */
  async finish(ms = 30_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.kill("SIGKILL"), ms);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}
