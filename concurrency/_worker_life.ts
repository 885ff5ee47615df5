/**
 * How a weft worker thread ends (private), shared by the `Thread` and `Pool`
 * worker bootstraps, and how its parent learns that the end is certain.
 *
 * Deno's `Worker.terminate()` does not stop a worker that is busy in
 * JavaScript (a loop, a long computation, a blocking `Atomics.wait`): the
 * worker runs on and may still write shared memory. So weft never treats a
 * thread as ended because its parent terminated it. A thread's end is
 * certain only when the thread itself ends, through {@linkcode endThread}:
 *
 * 1. it posts its last message (result, error, exit, crash or "stopped");
 * 2. it clears its registry slot (`releaseIdent`), so locks it still held
 *    become abandoned and its queue tickets are skipped;
 * 3. it calls the real `close()`, which ends the worker at once: not one
 *    more statement of user code runs.
 *
 * Nothing else can run between these steps (they are synchronous), so a
 * parent that sees the slot cleared knows the thread is gone. The paths
 * that lead here: the function returned or threw; user code called
 * `Deno.exit()` or `close()` (both wrapped); an uncaught error or unhandled
 * rejection; a stop request ({@linkcode stopThread}), honoured at the
 * thread's next event-loop turn or inside any blocking weft wait (they poll
 * the stop word every 50 ms), after pending async weft waits rejected so
 * that `finally` blocks (guards, queue waiter counts, barrier breaks) run.
 *
 * @module
 */

import { errorToWire, TAG } from "../_internal/run_export.ts";
import {
  adoptRegistry,
  isIdentAlive,
  isStopRequested,
  registryView,
  releaseIdent,
  setCurrentThread,
  slotIndex,
} from "./_thread_registry.ts";
import { cancelWaits, setStopCheck, stoppedError } from "./_wait.ts";

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
}

/** Hooks of {@linkcode enterThread}. */
export interface LifeHooks {
  /** Runs right before the last message is posted (e.g. flush results). */
  beforeEnd?: () => void;
}

let ident = 0;
let ended = false;
let stopping = false;
let realClose: (() => void) | undefined;
let hooks: LifeHooks = {};

/**
 * Worker side: this worker is thread `id` of the registry in `registry`.
 * Wraps `Deno.exit()` and `close()`, reports uncaught errors, and makes
 * blocking waits stoppable.
 */
export function enterThread(
  registry: SharedArrayBuffer,
  id: number,
  name: string,
  lifeHooks: LifeHooks = {},
): void {
  const scope = globalThis as unknown as WorkerScope;
  adoptRegistry(registry);
  setCurrentThread(id, name);
  ident = id;
  hooks = lifeHooks;
  setStopCheck(() => isStopRequested(id));
  realClose = scope.close.bind(scope);
  Deno.exit = ((code?: number) => {
    endThread({ [TAG]: "exit", code: code ?? 0 });
    throw new Error("unreachable: the worker closed");
  }) as typeof Deno.exit;
  scope.close = () => endThread({ [TAG]: "exit", code: 0 });
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    endThread({
      [TAG]: "crash",
      ...errorToWire(event.error ?? new Error(event.message)),
    });
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    endThread({ [TAG]: "crash", ...errorToWire(event.reason) });
  });
}

/**
 * Worker side: posts `message`, frees this thread's ident and closes the
 * worker at once (see the module doc). Idempotent.
 */
export function endThread(
  message: Record<string, unknown>,
  transfer?: Transferable[],
): void {
  if (ended) return;
  ended = true;
  const scope = globalThis as unknown as WorkerScope;
  try {
    hooks.beforeEnd?.();
  } catch {
    // ending anyway
  }
  try {
    scope.postMessage(message, transfer);
  } catch (error) {
    // e.g. a DataCloneError: the outcome could not be sent
    scope.postMessage({ [TAG]: "error", ...errorToWire(error) });
  }
  releaseIdent(ident);
  (realClose ?? scope.close.bind(scope))();
}

/**
 * Worker side: honours a stop request (the parent posted `{ t: "stop" }`
 * and set the stop word). Pending async weft waits reject first so their
 * `finally` blocks run; the thread ends on the next macrotask.
 */
export function stopThread(): void {
  if (stopping || ended) return;
  stopping = true;
  cancelWaits(stoppedError());
  setTimeout(() => endThread({ [TAG]: "stopped" }), 0);
}

/**
 * Parent side: resolves once thread `id`'s end is certain (its registry
 * slot was cleared). Does not keep the event loop alive.
 */
export function whenEnded(id: number): Promise<void> {
  const v = registryView();
  const i = slotIndex(id);
  return new Promise((resolve) => {
    const check = () => {
      if (!isIdentAlive(id)) return resolve();
      const r = Atomics.waitAsync(v, i, id);
      if (r.async) r.value.then(check);
      else check();
    };
    check();
  });
}
