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
import { reviveValue } from "./_share.ts";
import "./mod.ts"; // registers the reviver of every shareable type

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
const controllers = new Map<number, AbortController>();
// deno-lint-ignore no-explicit-any
const globals = globalThis as any;

function flush(): void {
  if (pending.length === 0) return;
  const results = pending;
  const transfer = pendingTransfer;
  pending = [];
  pendingTransfer = [];
  self.postMessage({ t: "results", results }, transfer);
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

async function runOne(task: WireTask): Promise<void> {
  if (Atomics.load(cancelRing, task.id % CANCEL_RING) === task.id) {
    pending.push({
      id: task.id,
      ok: false,
      error: abortError(),
      ms: 0,
      cancelled: true,
    });
    return;
  }
  const controller = new AbortController();
  controllers.set(task.id, controller);
  const context: TaskContext = {
    id: task.id,
    fn: task.fn,
    signal: controller.signal,
    throwIfAborted() {
      if (
        Atomics.load(cancelRing, task.id % CANCEL_RING) === task.id &&
        !controller.signal.aborted
      ) {
        controller.abort(abortError());
      }
      controller.signal.throwIfAborted();
    },
  };
  globals[TASK_CONTEXT] = context;
  Atomics.store(words, base + W_TASK, task.id);
  Atomics.store(words, base + W_STARTED, Date.now() - epoch);
  Atomics.store(words, base + W_STATE, STATE_RUNNING);
  const t0 = performance.now();
  try {
    const fn = lookup(task.fn);
    let value: unknown;
    const args = needsRevive(task.args)
      ? reviveValue(task.args) as unknown[]
      : task.args;
    if (task.mode === 0) {
      value = fn(...args);
      if (
        value instanceof Promise ||
        (typeof (value as PromiseLike<unknown>)?.then === "function")
      ) {
        flush();
        value = await value;
      }
      value = unwrapTransfer(value);
    } else {
      const out: unknown[] = [];
      for (const item of args) {
        let v = task.mode === 1 ? fn(item) : fn(...(item as unknown[]));
        if (
          v instanceof Promise ||
          (typeof (v as PromiseLike<unknown>)?.then === "function")
        ) {
          flush();
          v = await v;
        }
        out.push(v);
      }
      value = out;
    }
    pending.push({ id: task.id, ok: true, value, ms: performance.now() - t0 });
  } catch (error) {
    pending.push({
      id: task.id,
      ok: false,
      error: cloneableError(error),
      ms: performance.now() - t0,
    });
  } finally {
    controllers.delete(task.id);
    globals[TASK_CONTEXT] = undefined;
    Atomics.store(words, base + W_STATE, STATE_IDLE);
  }
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length > 0) {
      const task = queue.shift()!;
      if (pending.length === 0) pendingSince = performance.now();
      await runOne(task);
      if (performance.now() - pendingSince > 2) flush();
    }
    flush();
  } finally {
    running = false;
  }
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
  switch (message.t) {
    case "init":
      init(message);
      break;
    case "run":
      queue.push(...message.tasks);
      drain();
      break;
    case "abort": {
      const controller = controllers.get(message.id);
      if (controller && !controller.signal.aborted) {
        controller.abort(abortError());
      }
      break;
    }
  }
};
