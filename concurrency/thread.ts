/**
 * {@linkcode Thread} and the current-thread helpers.
 *
 * @module
 */

import {
  errorFromWire,
  resolveModule,
  TAG,
  type WireError,
} from "../_internal/run_export.ts";
import {
  reviveValue,
  shareValue,
  transferablesOf,
} from "../_internal/share.ts";
import {
  allocateIdent,
  currentIdent,
  currentName,
  isIdentAlive,
  liveCount,
  onMainThread,
  registryBuffer,
  releaseIdent,
  requestStop,
} from "./_thread_registry.ts";
import { asyncOptions } from "./_sync_guard.ts";
import { holdEventLoop } from "./_wait.ts";
import { whenEnded } from "./_worker_life.ts";
import type { ThreadInit } from "./_thread_worker.ts";

/** Options of {@linkcode Thread}. */
export interface ThreadOptions {
  /**
   * The module holding the function: a URL, an absolute URL string, or a
   * path relative to the current directory. Use
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

/** Options of {@linkcode Thread.terminate}. */
export interface TerminateOptions {
  /**
   * Milliseconds to wait for the stop to be confirmed.
   * The request stays in force after it: a thread that returns to its event
   * loop or enters a weft wait later still stops then.
   *
   * @default {1000}
   */
  timeout?: number;
}

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; error: unknown };

let counter = 0;

/** A grace period for the last message after the liveness word clears. */
const EXIT_GRACE_MS = 200;

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
 * and abandoned-lock detection use). A thread counts as ended only when its
 * end is certain: its function returned or threw, it called `Deno.exit()`
 * / `close()`, an uncaught error ended it, or it honoured
 * {@linkcode Thread.terminate}. The worker closes itself right then, so
 * nothing of it runs afterwards.
 *
 * ## Platform
 * Starting a worker costs about 50 ms. Workers inherit the parent's
 * permissions. An uncaught error inside the worker is reported through
 * `join()` instead of crashing the process. `join()` keeps the event loop
 * alive while pending.
 *
 * **Deno cannot stop a busy worker.** `Worker.terminate()` takes effect only
 * when the worker returns to its event loop; a worker spinning in a loop
 * keeps running (and keeps the process alive) after it. So
 * {@linkcode Thread.terminate} is a request: it resolves `true` once the
 * thread has stopped for certain and `false` if it is still running; until
 * then the thread keeps its locks, permits and places, and `isAlive()`
 * stays `true`. A thread blocked in a weft wait (`acquireSync`,
 * `getSync`, `waitSync`...) stops within about 50 ms; one in a loop that
 * never waits and never yields stops when (if ever) it yields. For a hard
 * stop, run the code in a process (`Pool` with `isolation: "process"`, or
 * `Process` from `@weft/weft/ipc`).
 *
 * @example Running a function on a worker
 * ```ts
 * import assert from "node:assert/strict";
 * import { Thread } from "@weft/weft/concurrency";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export function add(a, b) { return a + b; }");
 * const thread = new Thread({ module, fn: "add", args: [2, 3] });
 * thread.start();
 * assert.equal(await thread.join(), 5);
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
  #last: Outcome | undefined;
  #markStarted: (() => void) | undefined;

  /**
   * Describes a thread; nothing runs until {@linkcode Thread.start}.
   *
   * @example Naming a thread
   * ```ts
   * import assert from "node:assert/strict";
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){}", fn: "f", name: "w1" });
   * assert.equal(t.name, "w1");
   * assert.equal(t.ident, undefined);
   * ```
   *
   * @param options Module, function name, arguments and name.
   * @throws {TypeError} If an option has the wrong type.
   */
  constructor(options: ThreadOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create thread: options must be an object");
    }
    this.#module = resolveModule(options.module, "create thread");
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
   * Python's `Thread.start()` returns once the thread runs; this one must
   * not block, so it returns a promise that resolves once the worker has
   * loaded the module and revived the arguments and is calling the function
   * (or has ended without getting there: a failed load, a terminate). Await
   * it where order matters, e.g. workers that must wait on an
   * {@linkcode Event} before a boss sets it. It never rejects (failures come
   * from {@linkcode Thread.join}), so ignoring it is safe.
   *
   * @example Starting a thread and joining it
   * ```ts
   * import assert from "node:assert/strict";
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){return 1}", fn: "f" });
   * t.start();
   * assert.equal(await t.join(), 1);
   * ```
   *
   * @example Waiting until the worker runs, as Python's start() does
   * ```ts
   * import assert from "node:assert/strict";
   * import { Event, Thread } from "@weft/weft/concurrency";
   *
   * // The worker waits for "go", then clears it for the next round.
   * const module = "data:text/javascript," + encodeURIComponent(
   *   "export function worker(go) { const ok = go.waitSync({ timeout: 10000 }); go.clear(); return ok; }",
   * );
   * const go = new Event();
   * const worker = new Thread({ module, fn: "worker", args: [go] });
   * await worker.start(); // the worker is calling worker(go) now
   * assert.equal(worker.isAlive(), true);
   * go.set();
   * assert.equal(await worker.join(), true);
   * assert.equal(go.isSet(), false);
   * ```
   *
   * @returns Resolves once the function is being called or the thread ended.
   * @throws {TypeError} If the thread was already started, or an argument
   * cannot be shared with a worker.
   * @throws {DOMException} `DataCloneError` if an argument cannot be cloned
   * (nothing was started then).
   */
  start(): Promise<void> {
    if (this.#state !== "new") {
      throw new TypeError("Cannot start thread: it was already started");
    }
    const args = shareValue(this.#args, "worker");
    const started = new Promise<void>((r) => this.#markStarted = r);
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
      this.#onMessage(event.data as Record<string, unknown>);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Once the bootstrap runs, it reports every uncaught error itself
      // (and prevents this event); so this one means it never ran user
      // code (it failed to load): the end is certain.
      event.preventDefault();
      this.#last ??= {
        ok: false,
        error: new Error(`Thread "${this.#name}" crashed: ${event.message}`),
      };
      releaseIdent(ident);
    };
    worker.onmessageerror = () => {
      this.#last ??= {
        ok: false,
        error: new TypeError(
          `Cannot join thread "${this.#name}": its result could not be deserialized`,
        ),
      };
    };
    const init: ThreadInit = {
      t: "init",
      registry: registryBuffer(),
      ident,
      name: this.#name,
      module: this.#module,
      fn: this.#fn,
      args,
    };
    try {
      worker.postMessage(init, transferablesOf(args));
    } catch (error) {
      // An argument that cannot be cloned: nothing ran, undo the start.
      worker.terminate();
      releaseIdent(ident);
      this.#releaseLoop();
      this.#worker = this.#ident = this.#markStarted = undefined;
      this.#state = "new";
      throw error;
    }
    whenEnded(ident).then(() => this.#onEnded());
    return started;
  }

  /**
   * A message of the thread: "started" (the function is being called), or
   * its last one, its outcome (the end follows at once).
   */
  #onMessage(data: Record<string, unknown>): void {
    let outcome: Outcome;
    switch (data[TAG]) {
      case "started":
        this.#markStarted?.();
        return;
      case "result":
        outcome = { ok: true, value: data.value };
        break;
      case "error":
        outcome = { ok: false, error: errorFromWire(data as WireError) };
        break;
      case "crash": {
        const cause = errorFromWire(data as WireError);
        const detail = cause instanceof Error ? cause.message : String(cause);
        outcome = {
          ok: false,
          error: new Error(`Thread "${this.#name}" crashed: ${detail}`, {
            cause,
          }),
        };
        break;
      }
      case "exit":
        outcome = {
          ok: false,
          error: new Error(
            `Cannot join thread "${this.#name}": it called exit (code ${data.code}) before returning`,
          ),
        };
        break;
      case "stopped":
        outcome = { ok: false, error: this.#terminatedError() };
        break;
      default:
        return;
    }
    this.#last ??= outcome;
    if (!isIdentAlive(this.#ident!)) this.#onEnded();
  }

  /** The registry slot cleared: the end is certain. */
  #onEnded(): void {
    if (this.#state !== "running") return;
    if (this.#last !== undefined) {
      this.#finish(this.#last);
      return;
    }
    // The last message may still be in flight.
    this.#graceTimer ??= setTimeout(() => {
      this.#finish(
        this.#last ?? {
          ok: false,
          error: new Error(
            `Cannot join thread "${this.#name}": it ended without a result`,
          ),
        },
      );
    }, EXIT_GRACE_MS);
  }

  #ended(): boolean {
    return this.#state === "ended";
  }

  #terminatedError(): Error {
    return new Error(`Cannot join thread "${this.#name}": it was terminated`);
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
    // The thread already closed its worker; this only frees the handle.
    this.#worker?.terminate();
    this.#releaseLoop?.();
    this.#markStarted?.();
    this.#settle();
  }

  /**
   * Waits for the function to finish: resolves with its return value or
   * rejects with its error (worker-side name, message and stack). With a
   * `timeout` that passes first it resolves `undefined` and the thread runs
   * on — check {@linkcode Thread.isAlive}, as in Python.
   *
   * @example A thrown error comes back from join
   * ```ts
   * import assert from "node:assert/strict";
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const module = "data:text/javascript," +
   *   encodeURIComponent("export function fail() { throw new RangeError('no'); }");
   * const t = new Thread({ module, fn: "fail" });
   * t.start();
   * try {
   *   await t.join();
   * } catch (error) {
   *   assert.equal((error as Error).name, "RangeError");
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
   * @example A thread is alive only between start and its end
   * ```ts
   * import assert from "node:assert/strict";
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){}", fn: "f" });
   * assert.equal(t.isAlive(), false);
   * ```
   *
   * @returns The liveness.
   */
  isAlive(): boolean {
    return this.#state === "running" && isIdentAlive(this.#ident!);
  }

  /**
   * Asks the thread to stop and resolves whether its end is confirmed
   * (idempotent). The thread stops at its next event-loop turn, or within
   * about 50 ms if it is blocked in a weft wait (which then throws an
   * `AbortError` so `finally` blocks and guards run). Once it stopped, a
   * pending `join()` rejects and any lock it still held becomes abandoned
   * (see {@linkcode AbandonedLockError}).
   *
   * Resolves `false` if the thread is still running after `timeout` ms —
   * busy in code that neither waits nor yields, which Deno cannot
   * interrupt. It then stays alive in every respect (`isAlive()`, its
   * locks, permits and queue places) and stops if it ever yields; a
   * process that holds such a thread cannot exit.
   *
   * @example Stopping a thread that waits
   * ```ts
   * import assert from "node:assert/strict";
   * import { Thread } from "@weft/weft/concurrency";
   *
   * const t = new Thread({ module: "data:text/javascript,export function f(){return new Promise(()=>{})}", fn: "f" });
   * t.start();
   * assert.equal(await t.terminate(), true);
   * await assert.rejects(t.join(), /terminated/);
   * assert.equal(t.isAlive(), false);
   * ```
   *
   * @param opts `timeout`: ms to wait for the confirmation (default 1000).
   * @returns `true` once the thread has ended for certain.
   */
  async terminate(opts?: TerminateOptions): Promise<boolean> {
    const timeout = opts?.timeout ?? 1000;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new TypeError(
        `Cannot terminate thread: "timeout" must be a number of milliseconds >= 0, got ${timeout}`,
      );
    }
    if (this.#state === "new") {
      this.#state = "ended";
      this.#outcome = { ok: false, error: this.#terminatedError() };
      this.#settle();
      return true;
    }
    if (this.#state === "ended") return true;
    requestStop(this.#ident!);
    try {
      this.#worker!.postMessage({ [TAG]: "stop" });
    } catch {
      // the worker is gone already
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#settled,
      new Promise((resolve) => timer = setTimeout(resolve, timeout)),
    ]);
    clearTimeout(timer);
    return this.#ended();
  }

  /** Terminates the thread (for `await using`); see {@linkcode Thread.terminate}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}

/**
 * The calling thread's unique id (the main thread's is 1), like Python's
 * `threading.get_ident()`. Inside a {@linkcode Thread} it equals that
 * thread's `ident`.
 *
 * @example The main thread's id
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentThreadId } from "@weft/weft/concurrency";
 *
 * assert.equal(currentThreadId(), 1);
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
 * @example The main thread's name
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentThreadName } from "@weft/weft/concurrency";
 *
 * assert.equal(currentThreadName(), "MainThread");
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
 * @example Telling the main thread apart
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMainThread } from "@weft/weft/concurrency";
 *
 * assert.equal(isMainThread(), true);
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
 * @example Counting live threads
 * ```ts
 * import assert from "node:assert/strict";
 * import { activeCount } from "@weft/weft/concurrency";
 *
 * assert.equal(activeCount() >= 1, true);
 * ```
 *
 * @returns The count.
 */
export function activeCount(): number {
  return liveCount();
}
