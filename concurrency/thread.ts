/**
 * {@linkcode Thread} and the current-thread helpers.
 *
 * @module
 */

import { reviveValue, shareValue, transferablesOf } from "./_share.ts";
import {
  allocateIdent,
  currentIdent,
  currentName,
  isIdentAlive,
  liveCount,
  onMainThread,
  registryBuffer,
  registryView,
  releaseIdent,
  slotIndex,
} from "./_thread_registry.ts";
import { asyncOptions } from "./_sync_guard.ts";
import { holdEventLoop } from "./_wait.ts";
import type { ThreadInit } from "./_thread_worker.ts";

/** Options of {@linkcode Thread}. */
export interface ThreadOptions {
  /**
   * The module holding the function: a URL, or an absolute/`file:` URL
   * string (a relative path resolves against the current directory). Use
   * `new URL("./task.ts", import.meta.url)`.
   */
  module: URL | string;
  /** Name of the exported function to run (it may be async). */
  fn: string;
  /**
   * Arguments: structured-cloneable values; weft primitives (locks, events,
   * queues...) anywhere inside arrive live.
   */
  args?: unknown[];
  /** Thread name (default `Thread-N`), also the worker's name. */
  name?: string;
}

/** Options of {@linkcode Thread.join}. */
export interface JoinOptions {
  /** Stop waiting after this many ms (resolves `undefined`; see `isAlive()`). */
  timeout?: number;
  /** Stop waiting; the join rejects with `signal.reason` (the thread runs on). */
  signal?: AbortSignal;
}

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; error: unknown };

let counter = 0;

/** A grace period for the result message after the liveness word clears. */
const EXIT_GRACE_MS = 200;

function moduleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      'Cannot create thread: "module" must be a URL or a non-empty string',
    );
  }
  try {
    return new URL(module).href;
  } catch {
    return new URL(module, `file://${Deno.cwd()}/`).href;
  }
}

function rebuildError(data: Record<string, unknown>): unknown {
  if ("thrown" in data) return data.thrown;
  const info = data.error as { name: string; message: string; stack?: string };
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack) error.stack = info.stack;
  return error;
}

/**
 * A Web Worker that runs one exported function of a module, like Python's
 * `threading.Thread(target=..., args=...)`: `start()` it, then `join()` for
 * the function's return value (or its error, with the worker-side stack).
 *
 * Arguments are shared, not copied, when they are weft primitives: a
 * {@linkcode Lock} or {@linkcode Event} passed in `args` is the same lock on
 * both sides. Everything else is structured-cloned (a `Deno.Conn` cannot
 * cross; its `readable`/`writable` streams can, inside a `postMessage`).
 *
 * Every thread gets a unique {@linkcode Thread.ident} (what RLock ownership
 * and abandoned-lock detection use); the thread counts as ended as soon as
 * its function returns or throws, its worker is terminated, or it calls
 * `Deno.exit()` / `close()`.
 *
 * ## Platform
 * Starting a worker costs about 50 ms. Workers inherit the parent's
 * permissions. An uncaught error inside the worker after the function
 * settled is reported through `join()` instead of crashing the process.
 * `join()` keeps the event loop alive while pending.
 *
 * @example Running a function on a worker
 * ```ts
 * import { Thread } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export function add(a, b) { return a + b; }");
 * const thread = new Thread({ module, fn: "add", args: [2, 3] });
 * thread.start();
 * console.log(await thread.join()); // 5
 * ```
 */
export class Thread implements AsyncDisposable {
  #module: string;
  #fn: string;
  #args: unknown[];
  #name: string;
  #ident: number | undefined;
  #worker: Worker | undefined;
  #state: "new" | "running" | "ended" = "new";
  #outcome: Outcome | undefined;
  #settled: Promise<void>;
  #settle!: () => void;
  #releaseLoop: (() => void) | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Describes a thread; nothing runs until {@linkcode Thread.start}.
   *
   * @example
   * ```ts
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){}", fn: "f", name: "w1" });
   * console.log(t.name, t.ident); // w1 undefined
   * ```
   *
   * @param options Module, function name, arguments and name.
   * @throws {TypeError} If an option has the wrong type.
   */
  constructor(options: ThreadOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create thread: options must be an object");
    }
    this.#module = moduleUrl(options.module);
    if (typeof options.fn !== "string" || options.fn === "") {
      throw new TypeError(
        'Cannot create thread: "fn" must be the name of an exported function',
      );
    }
    this.#fn = options.fn;
    if (options.args !== undefined && !Array.isArray(options.args)) {
      throw new TypeError('Cannot create thread: "args" must be an array');
    }
    this.#args = options.args ?? [];
    if (options.name !== undefined && typeof options.name !== "string") {
      throw new TypeError('Cannot create thread: "name" must be a string');
    }
    this.#name = options.name ?? `Thread-${++counter}`;
    this.#settled = new Promise((resolve) => this.#settle = resolve);
  }

  /** The thread's name. */
  get name(): string {
    return this.#name;
  }

  /** The thread's unique id once started (`undefined` before). */
  get ident(): number | undefined {
    return this.#ident;
  }

  /**
   * Starts the worker and runs the function in it.
   *
   * @example
   * ```ts
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){return 1}", fn: "f" });
   * t.start();
   * console.log(await t.join()); // 1
   * ```
   *
   * @throws {TypeError} If the thread was already started, or an argument
   * cannot be shared with a worker.
   */
  start(): void {
    if (this.#state !== "new") {
      throw new TypeError("Cannot start thread: it was already started");
    }
    const args = shareValue(this.#args, "worker");
    const ident = allocateIdent();
    this.#ident = ident;
    this.#state = "running";
    this.#releaseLoop = holdEventLoop();
    const worker = new Worker(
      new URL("./_thread_worker.ts", import.meta.url),
      { type: "module", name: this.#name },
    );
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent) => {
      const data = event.data as Record<string, unknown>;
      if (data.kind === "result") {
        this.#finish({ ok: true, value: data.value });
      } else if (data.kind === "error") {
        this.#finish({ ok: false, error: rebuildError(data) });
      } else if (data.kind === "exit") {
        this.#finish({
          ok: false,
          error: new Error(
            `Cannot join thread "${this.#name}": it called exit (code ${data.code}) before returning`,
          ),
        });
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#finish({
        ok: false,
        error: new Error(
          `Thread "${this.#name}" crashed: ${event.message}`,
        ),
      });
    };
    worker.onmessageerror = () => {
      this.#finish({
        ok: false,
        error: new TypeError(
          `Cannot join thread "${this.#name}": its result could not be deserialized`,
        ),
      });
    };
    const init: ThreadInit = {
      registry: registryBuffer(),
      ident,
      name: this.#name,
      module: this.#module,
      fn: this.#fn,
      args,
    };
    worker.postMessage(init, transferablesOf(args));
    this.#watch(ident);
  }

  /** Notices an end that sent no message (e.g. a killed worker). */
  #watch(ident: number): void {
    const v = registryView();
    const i = slotIndex(ident);
    const check = () => {
      if (this.#state !== "running") return;
      if (isIdentAlive(ident)) {
        const r = Atomics.waitAsync(v, i, ident);
        if (r.async) r.value.then(check);
        else check();
        return;
      }
      this.#graceTimer = setTimeout(() => {
        this.#finish({
          ok: false,
          error: new Error(
            `Cannot join thread "${this.#name}": it ended without a result`,
          ),
        });
      }, EXIT_GRACE_MS);
    };
    check();
  }

  #finish(outcome: Outcome): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    clearTimeout(this.#graceTimer);
    if (outcome.ok) {
      try {
        outcome = { ok: true, value: reviveValue(outcome.value) };
      } catch (error) {
        outcome = { ok: false, error };
      }
    }
    this.#outcome = outcome;
    this.#worker?.terminate();
    if (this.#ident !== undefined) releaseIdent(this.#ident);
    this.#releaseLoop?.();
    this.#settle();
  }

  /**
   * Waits for the function to finish: resolves with its return value or
   * rejects with its error (worker-side name, message and stack). With a
   * `timeout` that passes first it resolves `undefined` and the thread runs
   * on — check {@linkcode Thread.isAlive}, as in Python.
   *
   * @example
   * ```ts
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export function fail() { throw new RangeError('no'); }");
   * const t = new Thread({ module, fn: "fail" });
   * t.start();
   * try {
   *   await t.join();
   * } catch (error) {
   *   console.log((error as Error).name); // RangeError
   * }
   * ```
   *
   * @param opts `timeout` in ms, `signal` to stop waiting.
   * @returns The function's return value.
   * @throws {TypeError} If the thread was never started.
   */
  async join(opts?: JoinOptions): Promise<unknown> {
    const { timeout, signal } = asyncOptions(opts);
    if (this.#state === "new") {
      throw new TypeError("Cannot join thread: it was not started");
    }
    if (this.#state === "running") {
      const waits: Promise<unknown>[] = [this.#settled];
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      if (timeout !== Infinity) {
        waits.push(new Promise((r) => timer = setTimeout(r, timeout)));
      }
      if (signal) {
        waits.push(
          new Promise((_, reject) => {
            onAbort = () => reject(signal.reason);
            signal.addEventListener("abort", onAbort, { once: true });
          }),
        );
      }
      try {
        await Promise.race(waits);
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener("abort", onAbort);
      }
      if (this.#outcome === undefined) return undefined;
    }
    const outcome = this.#outcome!;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Whether the thread was started and its function has not ended yet.
   *
   * @example
   * ```ts
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){}", fn: "f" });
   * console.log(t.isAlive()); // false
   * ```
   *
   * @returns The liveness.
   */
  isAlive(): boolean {
    return this.#state === "running" && isIdentAlive(this.#ident!);
  }

  /**
   * Stops the worker at once (idempotent). A pending `join()` rejects; any
   * RLock the thread held becomes abandoned (see {@linkcode AbandonedLockError}).
   *
   * @example
   * ```ts
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){return new Promise(()=>{})}", fn: "f" });
   * t.start();
   * t.terminate();
   * await t.join().catch((e) => console.log(e.message.includes("terminated"))); // true
   * ```
   */
  terminate(): void {
    if (this.#state === "new") {
      this.#state = "ended";
      this.#outcome = {
        ok: false,
        error: new Error(
          `Cannot join thread "${this.#name}": it was terminated`,
        ),
      };
      return;
    }
    this.#finish({
      ok: false,
      error: new Error(`Cannot join thread "${this.#name}": it was terminated`),
    });
  }

  /** Terminates the thread (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    return Promise.resolve();
  }
}

/**
 * The calling thread's unique id (the main thread's is 1), like Python's
 * `threading.get_ident()`. Inside a {@linkcode Thread} it equals that
 * thread's `ident`.
 *
 * @example
 * ```ts
 * import { currentThreadId } from "@weft/weft/concurrency";
 *
 * console.log(currentThreadId()); // 1
 * ```
 *
 * @returns The ident.
 */
export function currentThreadId(): number {
  return currentIdent();
}

/**
 * The calling thread's name (`"MainThread"` on the main thread).
 *
 * @example
 * ```ts
 * import { currentThreadName } from "@weft/weft/concurrency";
 *
 * console.log(currentThreadName()); // MainThread
 * ```
 *
 * @returns The name.
 */
export function currentThreadName(): string {
  return currentName();
}

/**
 * Whether the caller runs on the main thread (not in a Web Worker).
 *
 * @example
 * ```ts
 * import { isMainThread } from "@weft/weft/concurrency";
 *
 * console.log(isMainThread()); // true
 * ```
 *
 * @returns `true` on the main thread.
 */
export function isMainThread(): boolean {
  return onMainThread();
}

/**
 * How many registered threads are alive, the main thread included, like
 * Python's `threading.active_count()`.
 *
 * @example
 * ```ts
 * import { activeCount } from "@weft/weft/concurrency";
 *
 * console.log(activeCount() >= 1); // true
 * ```
 *
 * @returns The count.
 */
export function activeCount(): number {
  return liveCount();
}
