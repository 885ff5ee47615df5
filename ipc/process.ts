/**
 * `Process`: Python's `multiprocessing.Process` on a Deno subprocess.
 *
 * @module
 */
import { shareValue } from "../_internal/share.ts";
import { Connection } from "./connection.ts";
import { cancelRelays, pendingRelays, rendezvous } from "./_relay.ts";
import {
  childPermissionFlags,
  inheritedConfigFlags,
} from "../_internal/child_config.ts";
import {
  errorFromWire,
  resolveModule,
  type WireError,
} from "../_internal/run_export.ts";
import type { StreamTransport } from "./_stream_transport.ts";

/**
 * Options of {@linkcode Process}.
 *
 * @example A named child with arguments
 * ```ts
 * import assert from "node:assert/strict";
 * import { Process, type ProcessOptions } from "@weft/weft/ipc";
 *
 * const options: ProcessOptions = {
 *   module: "data:text/javascript," + encodeURIComponent("export default (code) => Deno.exit(code);"),
 *   args: [3],
 *   name: "exiter",
 * };
 * const p = new Process(options);
 * assert.equal(p.name, "exiter");
 * await p.start();
 * await p.join();
 * assert.equal(p.exitCode, 3);
 * ```
 */
export interface ProcessOptions {
  /** The module to import in the child (URL, or a path resolved from the cwd). */
  module: URL | string;
  /**
   * Name of the exported function to run.
   *
   * @default {"default"}
   */
  fn?: string;
  /**
   * Arguments (V8-serializable; `Pipe` ends, connections and other
   * process-shareable objects arrive live). For keyword-style arguments
   * pass an object.
   *
   * @default {[]}
   */
  args?: unknown[];
  /** A name for messages (default `"Process-N"`). */
  name?: string;
  /**
   * A daemon child never outlives this process.
   *
   * @default {false}
   */
  daemon?: boolean;
  /**
   * Deno permission flags for the child, replacing the inherited ones
   * (e.g. `["--allow-net=127.0.0.1"]`). The child always needs to reach
   * 127.0.0.1 for its control channel.
   */
  permissions?: string[];
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/**
 * The Deno flags a {@linkcode Process} child gets by default: `--no-prompt`,
 * then `--allow-X` for every permission fully granted here (read, write,
 * net, env, run, sys, ffi); for a partial net grant, the loopback hosts
 * (127.0.0.1, localhost) that are granted.
 *
 * @example The flags under this test's permissions
 * ```ts
 * import assert from "node:assert/strict";
 * import { inheritedPermissionFlags } from "@weft/weft/ipc";
 *
 * const flags = inheritedPermissionFlags();
 * assert.equal(flags[0], "--no-prompt");
 * assert.equal(flags.includes("--allow-ffi"), Deno.permissions.querySync({ name: "ffi" }).state === "granted");
 * ```
 */
export function inheritedPermissionFlags(): string[] {
  return childPermissionFlags();
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A report of the child over the control channel (errors as `errorToWire`). */
type Report =
  & { type: "started" | "done" | "error" | "failed" }
  & Partial<WireError>;

let counter = 0;

/**
 * Runs an exported function of a module in a separate Deno process, like
 * Python's `multiprocessing.Process(target=..., args=...)`. The child has
 * its own memory: arguments are copied (V8-serialized), and a list mutated
 * in the child is unchanged here. `Pipe` ends and connections passed as
 * arguments arrive live (see `Connection`, "Sharing").
 *
 * ## How the child starts
 *
 * `start()` opens a one-shot meeting point on 127.0.0.1 port 0 keyed by a
 * random 32-byte key, spawns `deno run <flags> ipc/_process_child.ts` and
 * writes the port and key to the child's stdin (never argv or env). The
 * child connects and both sides run the `multiprocessing.connection`
 * handshake (HMAC-SHA256) with that key; a connection that fails it
 * (another local process that got there first, silent or sending garbage)
 * is dropped while the real child's handshake goes on, so no local process
 * can stop `start()`. The parent then sends the module, function name and
 * arguments. `start()` resolves once the child has imported the module and
 * is about to call the function; it rejects if that fails. The child
 * inherits stdout and stderr.
 *
 * ## Permissions and configuration
 *
 * The child gets `--no-prompt` and, for each of read, write, net, env, run,
 * sys and ffi, `--allow-X` when it is fully granted here (a partial net
 * grant passes on the granted loopback hosts), or exactly
 * `options.permissions`. It also gets the module-resolution flags this
 * process runs with, so that it resolves imports the same way: `--config`
 * (the one given on this process's command line, else the nearest
 * `deno.json` from the working directory, else from the main module's
 * directory), `--import-map`, `--lock`, `--node-modules-dir`,
 * `--unstable-*` and the like. Deno does not expose its own flags, so
 * they are read from `/proc/self/cmdline` (with every permission) or `ps`
 * (with `--allow-run` covering `ps`); without either, only the discovered
 * `deno.json` is passed. The parent and child need `--allow-net` for
 * 127.0.0.1 and the parent `--allow-run` for `Deno.execPath()`. A `Pipe`
 * end passed as an argument meets its peer over a Unix socket in a private
 * (0700) temporary directory, removed once they have met, when this process
 * has a plain `--allow-net`, `--allow-read` and `--allow-write` and the
 * child may use that socket (the inherited flags allow it); otherwise over
 * TCP on 127.0.0.1, as the control channel always does.
 *
 * ## Exit codes
 *
 * `exitCode` is `null` while running, 0 after the function returned, 1 if
 * it threw (then {@linkcode Process.error} has the child's name, message
 * and stack, and the child printed it to stderr), and minus the signal
 * number when a signal ended it (`terminate()` gives -15, `kill()` -9),
 * as in Python.
 *
 * ## Daemons
 *
 * A daemon child exits as soon as its control connection to this process
 * ends, which happens when this process exits or crashes (the kernel
 * closes its sockets); a running daemon does not keep this process alive.
 * A non-daemon child keeps this process alive until it exits, like Python's
 * non-daemon processes, and keeps running if this process crashes.
 *
 * @example A child process answers over a Pipe
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pipe, Process } from "@weft/weft/ipc";
 *
 * const module = "data:text/javascript," + encodeURIComponent(
 *   "export async function work(conn, n) { await conn.send(n * 2); conn.close(); }",
 * );
 * const [here, there] = Pipe();
 * const p = new Process({ module, fn: "work", args: [there, 21] });
 * await p.start();
 * assert.equal(await here.recv(), 42);
 * await p.join();
 * assert.equal(p.exitCode, 0);
 * here.close();
 * ```
 */
export class Process implements AsyncDisposable {
  #module: string;
  #fn: string;
  #args: unknown[];
  #permissions: string[] | undefined;
  #child: Deno.ChildProcess | undefined;
  #control: Connection | undefined;
  #socket: StreamTransport | undefined;
  #status: Promise<Deno.CommandStatus> | undefined;
  #exitCode: number | null = null;
  #error: Error | undefined;
  #relays = new Set<{ cancel(): void }>();
  #watching: Promise<void> | undefined;
  /** The process's name (settable before `start()`). */
  name: string;
  /** Whether the child is a daemon (settable before `start()`). */
  daemon: boolean;

  /** Validates the options; nothing runs until `start()`. */
  constructor(options: ProcessOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid options: expected an object");
    }
    this.#module = resolveModule(options.module, "create process");
    this.#fn = options.fn ?? "default";
    if (typeof this.#fn !== "string") {
      throw new TypeError("Invalid fn: expected the name of an export");
    }
    if (options.args !== undefined && !Array.isArray(options.args)) {
      throw new TypeError("Invalid args: expected an array");
    }
    this.#args = options.args ?? [];
    this.name = options.name ?? `Process-${++counter}`;
    this.daemon = options.daemon ?? false;
    if (
      options.permissions !== undefined &&
      !(Array.isArray(options.permissions) &&
        options.permissions.every((f) => typeof f === "string"))
    ) {
      throw new TypeError("Invalid permissions: expected an array of flags");
    }
    this.#permissions = options.permissions;
  }

  /** The child's process id once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** `null` while running (or before start), then the exit code. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** The child's uncaught error (name, message, stack), if it threw. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** True from `start()` until the child exits. */
  isAlive(): boolean {
    return this.#child !== undefined && this.#exitCode === null;
  }

  /**
   * Starts the child; resolves once it runs the function.
   *
   * @throws {TypeError} If already started.
   * @throws {Error} (rejection) If the child cannot import the module, the
   * export is not a function, or the child exits before running it.
   */
  async start(): Promise<void> {
    if (this.#child !== undefined) {
      throw new TypeError("Cannot start process: it was already started");
    }
    const before = pendingRelays();
    const args = shareValue(this.#args, "process");
    for (const r of pendingRelays()) if (!before.has(r)) this.#relays.add(r);

    const key = crypto.getRandomValues(new Uint8Array(32));
    const meeting = rendezvous(key);
    const flags = [...(this.#permissions ?? inheritedPermissionFlags())];
    if (this.#permissions && !flags.includes("--no-prompt")) {
      flags.unshift("--no-prompt");
    }
    flags.push(...inheritedConfigFlags());
    const bootstrap = new URL("./_process_child.ts", import.meta.url).href;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, bootstrap],
        stdin: "piped",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      meeting.cancel();
      cancelRelays(this.#relays);
      throw error;
    }
    this.#child = child;
    this.#status = child.status.then(async (status) => {
      // the child's last report may still be in flight: read it first
      // (its socket ends with the child, so this is brief)
      // (start() itself reads until the first report and closes on failure)
      if (this.#watching !== undefined) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.#watching,
          new Promise((resolve) => timer = setTimeout(resolve, 2000)),
        ]);
        clearTimeout(timer);
        this.#control?.close();
      }
      this.#exitCode = status.signal
        ? -(SIGNALS[status.signal] ?? 128)
        : status.code;
      cancelRelays(this.#relays);
      return status;
    });
    if (this.daemon) child.unref();

    const writer = child.stdin.getWriter();
    const line = JSON.stringify({
      port: meeting.port,
      key: toHex(key),
    });
    await writer.write(new TextEncoder().encode(line + "\n")).catch(() => {});
    await writer.close().catch(() => {});

    const exited = this.#status.then(() => undefined);
    let socket: StreamTransport | undefined;
    try {
      socket = await Promise.race([meeting.accepted, exited]);
    } catch {
      socket = undefined; // the meeting point gave up
    } finally {
      meeting.cancel();
    }
    if (socket === undefined) {
      this.kill();
      throw new Error(
        `Cannot start process ${this.name}: the child exited with code ${this.#exitCode} before connecting`,
      );
    }
    this.#socket = socket;
    const control = new Connection(socket);
    this.#control = control;
    try {
      await control.send({
        module: this.#module,
        fn: this.#fn,
        args,
        name: this.name,
        daemon: this.daemon,
      });
    } catch (error) {
      this.kill();
      throw new Error(
        `Cannot start process ${this.name}: control channel failed`,
        {
          cause: error,
        },
      );
    }
    const first = await control.recv<Report>().catch(() => undefined);
    if (first?.type === "started") {
      this.#watch(control);
      return;
    }
    control.close();
    await this.#status;
    const error = this.#reportError(first);
    throw new Error(`Cannot start process ${this.name}: ${error.message}`, {
      cause: error,
    });
  }

  #reportError(report: Report | undefined): Error {
    const wire = report !== undefined &&
        ("error" in report || "thrown" in report)
      ? errorFromWire(report as WireError)
      : new Error(`the child exited with code ${this.#exitCode}`);
    const error = wire instanceof Error ? wire : new Error(String(wire));
    this.#error = error;
    return error;
  }

  #watch(control: Connection): void {
    if (this.daemon) this.#socket?.unref();
    this.#watching = (async () => {
      while (true) {
        const report = await control.recv<Report>().catch(() => undefined);
        if (report === undefined) break;
        if (report.type === "error") this.#reportError(report);
      }
      control.close();
    })();
  }

  /**
   * Waits for the child to exit, or at most `timeout` ms (then resolves
   * with the child still running, as Python's `join(timeout)`; check
   * `exitCode` or `isAlive()`).
   *
   * @throws {TypeError} (rejection) If the process was never started.
   */
  async join(options: { timeout?: number } = {}): Promise<void> {
    if (this.#status === undefined) {
      throw new TypeError("Cannot join process: it was not started");
    }
    if (this.#exitCode !== null) {
      await this.#status;
      return;
    }
    const child = this.#child!;
    if (this.daemon) child.ref();
    try {
      if (options.timeout === undefined) {
        await this.#status;
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#status,
        new Promise((resolve) => timer = setTimeout(resolve, options.timeout)),
      ]);
      clearTimeout(timer);
    } finally {
      if (this.daemon && this.#exitCode === null) child.unref();
    }
  }

  #signal(signal: Deno.Signal): void {
    if (this.#child === undefined) {
      throw new TypeError("Cannot signal process: it was not started");
    }
    if (this.#exitCode !== null) return;
    try {
      this.#child.kill(signal);
    } catch {
      // exited meanwhile
    }
  }

  /** Sends SIGTERM (exit code -15 after `join()`). No-op once exited. */
  terminate(): void {
    this.#signal("SIGTERM");
  }

  /** Sends SIGKILL (exit code -9 after `join()`). No-op once exited. */
  kill(): void {
    this.#signal("SIGKILL");
  }

  /** Kills a child still running, then waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#child === undefined) return;
    this.kill();
    await this.#status;
  }
}
