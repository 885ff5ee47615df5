/**
 * Bootstrap of a {@linkcode Pool} worker (private): imports the task
 * module, runs the initializer, then runs batches of tasks in order and
 * posts their outcomes in batches. See `_pool_wire.ts` for the protocol.
 *
 * @module
 */

import {
  CANCEL_RING,
  type FromWorker,
  type InitMessage,
  STATE_EXITED,
  STATE_IDLE,
  STATE_RUNNING,
  STATE_WORDS,
  TASK_CONTEXT,
  type TaskContext,
  type ToWorker,
  TRANSFER_MARK,
  W_STARTED,
  W_STATE,
  W_TASK,
  type WireResult,
  type WireTask,
} from "./_pool_wire.ts";
import {
  importRevivers,
  reviveValue,
  shareValue,
  transferablesOf,
} from "./_share.ts";

declare const self: {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  addEventListener(type: "unload", listener: () => void): void;
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
  close(): void;
};

type TaskFunction = (...args: unknown[]) => unknown;

let mod: Record<string, unknown> = {};
let words: Int32Array;
let cancelRing: Int32Array;
let base = 0;
let epoch = 0;
const queue: WireTask[] = [];
let running = false;
let pending: WireResult[] = [];
let pendingTransfer: Transferable[] = [];
let pendingSince = 0;
let current: RunningTask | undefined;
let loading: Promise<void> | undefined;

/** The running task's context; its AbortController is made only if the
 * task asks for its signal (most tasks never do). */
class RunningTask implements TaskContext {
  #controller: AbortController | undefined;
  constructor(readonly id: number, readonly fn: string) {}

  #cancelled(): boolean {
    return Atomics.load(cancelRing, this.id % CANCEL_RING) === this.id;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#cancelled()) this.#controller.abort(abortError());
    }
    return this.#controller.signal;
  }

  abort(): void {
    const signal = this.signal;
    if (!signal.aborted) this.#controller!.abort(abortError());
  }

  throwIfAborted(): void {
    if (!this.#cancelled()) return;
    this.abort();
    throw this.signal.reason;
  }
}
// deno-lint-ignore no-explicit-any
const globals = globalThis as any;

function flush(): void {
  if (pending.length === 0) return;
  const results = pending;
  const transfer = pendingTransfer;
  pending = [];
  pendingTransfer = [];
  const flat: unknown[] = new Array(results.length * 4);
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    flat[4 * i] = r.id;
    flat[4 * i + 1] = r.ok ? 1 : 0;
    flat[4 * i + 2] = r.ok ? r.value : r.error;
    flat[4 * i + 3] = r.ms;
  }
  self.postMessage(flat, transfer);
}

function abortError(): DOMException {
  return new DOMException("The task was aborted", "AbortError");
}

function cloneableError(error: unknown): unknown {
  try {
    structuredClone(error);
    return error;
  } catch {
    return new Error(String(error));
  }
}

function unwrapTransfer(value: unknown): unknown {
  if (
    typeof value === "object" && value !== null &&
    (value as Record<string, unknown>)[TRANSFER_MARK] === true
  ) {
    const marked = value as { value: unknown; transfer: Transferable[] };
    pendingTransfer.push(...marked.transfer);
    return marked.value;
  }
  return value;
}

/** True for an array holding only primitives (no walk needed). */
function flatPrimitives(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v === "object" && v !== null) return false;
  }
  return true;
}

function needsRevive(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === "object" && a !== null) return true;
  }
  return false;
}

function lookup(name: string): TaskFunction {
  const fn = mod[name];
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot run task: the module exports no function "${name}"`,
    );
  }
  return fn as TaskFunction;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise ||
    (typeof value === "object" && value !== null &&
      typeof (value as PromiseLike<unknown>).then === "function");
}

function finish(id: number, ok: boolean, value: unknown, t0: number): void {
  const ms = performance.now() - t0;
  if (ok) {
    let result = unwrapTransfer(value);
    if (
      typeof result === "object" && result !== null && !flatPrimitives(result)
    ) {
      // Queues, locks... returned by a task arrive live too.
      try {
        result = shareValue(result, "worker");
        pendingTransfer.push(...transferablesOf(result));
      } catch (error) {
        pending.push({ id, ok: false, error: cloneableError(error), ms });
        ok = false;
      }
    }
    if (ok) pending.push({ id, ok: true, value: result, ms });
  } else pending.push({ id, ok: false, error: cloneableError(value), ms });
  current = undefined;
  globals[TASK_CONTEXT] = undefined;
  Atomics.store(words, base + W_STATE, STATE_IDLE);
}

/** Runs the rest of a chunk whose item `i` returned a promise. */
async function finishChunk(
  fn: TaskFunction,
  task: WireTask,
  args: unknown[],
  out: unknown[],
  first: PromiseLike<unknown>,
): Promise<unknown[]> {
  out.push(await first);
  for (let i = out.length; i < args.length; i++) {
    const item = args[i];
    out.push(await (task.mode === 1 ? fn(item) : fn(...(item as unknown[]))));
  }
  return out;
}

/**
 * Runs one task. Synchronous tasks complete before this returns (no
 * promise, no microtask hop); an async one returns the promise of its end.
 */
function runOne(task: WireTask): Promise<void> | undefined {
  if (Atomics.load(cancelRing, task.id % CANCEL_RING) === task.id) {
    pending.push({
      id: task.id,
      ok: false,
      error: abortError(),
      ms: 0,
      cancelled: true,
    });
    return undefined;
  }
  const context = new RunningTask(task.id, task.fn);
  current = context;
  globals[TASK_CONTEXT] = context;
  Atomics.store(words, base + W_TASK, task.id);
  Atomics.store(words, base + W_STARTED, Date.now() - epoch);
  Atomics.store(words, base + W_STATE, STATE_RUNNING);
  const t0 = performance.now();
  let value: unknown;
  try {
    const fn = lookup(task.fn);
    const args = needsRevive(task.args)
      ? reviveValue(task.args) as unknown[]
      : task.args;
    if (task.mode === 0) {
      value = fn(...args);
    } else {
      const out: unknown[] = [];
      for (let i = 0; i < args.length; i++) {
        const item = args[i];
        const v = task.mode === 1 ? fn(item) : fn(...(item as unknown[]));
        if (isThenable(v)) {
          value = finishChunk(fn, task, args, out, v);
          break;
        }
        out.push(v);
      }
      value ??= out;
    }
  } catch (error) {
    finish(task.id, false, error, t0);
    return undefined;
  }
  if (!isThenable(value)) {
    finish(task.id, true, value, t0);
    return undefined;
  }
  // Hand over finished results before waiting: the task may crash the
  // worker (uncaught error in a timer) while we wait.
  flush();
  return Promise.resolve(value).then(
    (v) => finish(task.id, true, v, t0),
    (e) => finish(task.id, false, e, t0),
  );
}

function drain(): void {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const task = queue.shift()!;
    if (pending.length === 0) pendingSince = performance.now();
    const waiting = runOne(task);
    if (waiting) {
      waiting.then(() => {
        running = false;
        drain();
      });
      return;
    }
    if (performance.now() - pendingSince > 2) flush();
  }
  flush();
  running = false;
}

async function init(message: InitMessage): Promise<void> {
  words = new Int32Array(message.state);
  cancelRing = new Int32Array(message.cancel);
  base = message.slot * STATE_WORDS;
  epoch = message.epoch;
  self.addEventListener("unload", () => {
    // Deno.exit() and self.close() end a worker with no event for the
    // parent: say so here, after handing over finished results.
    flush();
    Atomics.store(words, base + W_STATE, STATE_EXITED);
    self.postMessage({ t: "exit" });
  });
  // An uncaught error or unhandled rejection ends this worker: report the
  // real error (with its stack) first, then close.
  const crash = (error: unknown) => {
    flush();
    self.postMessage({ t: "crash", error: cloneableError(error) });
    self.close();
  };
  self.addEventListener("error", (event) => {
    event.preventDefault();
    crash(event.error ?? new Error(event.message));
  });
  self.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    crash(event.reason);
  });
  try {
    mod = await import(message.module);
    if (message.initializer !== undefined) {
      const initializer = lookup(message.initializer);
      await importRevivers(message.initArgs);
      await initializer(...(reviveValue(message.initArgs) as unknown[]));
    }
  } catch (error) {
    self.postMessage({ t: "initError", error: cloneableError(error) });
    return;
  }
  self.postMessage({ t: "ready" });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (Array.isArray(message)) {
    const tasks: WireTask[] = [];
    let handles = false;
    for (let i = 0; i < message.length; i += 4) {
      const args = message[i + 3] as unknown[];
      if (!handles && needsRevive(args)) handles = true;
      tasks.push({
        id: message[i] as number,
        fn: message[i + 1] as string,
        mode: message[i + 2] as 0 | 1 | 2,
        args,
      });
    }
    if (handles || loading !== undefined) {
      // Shared objects whose module is not loaded here yet (pipe ends,
      // manager proxies...): import it first, keeping batches in order.
      const previous = loading ?? Promise.resolve();
      const next: Promise<void> = previous
        .then(() =>
          handles ? importRevivers(tasks.map((t) => t.args)) : undefined
        )
        .catch(() => {}) // reviveValue then reports what is missing
        .then(() => {
          if (loading === next) loading = undefined;
          queue.push(...tasks);
          drain();
        });
      loading = next;
      return;
    }
    queue.push(...tasks);
    drain();
    return;
  }
  switch (message.t) {
    case "init":
      init(message);
      break;
    case "abort": {
      if (current?.id === message.id) current.abort();
      break;
    }
  }
};
