/**
 * Worker bootstrap of `Thread` (private). Receives one init message, becomes
 * thread `ident` (see `_worker_life.ts`), imports the user module, revives
 * the arguments (shared objects arrive live), calls the export, and ends
 * with its outcome. A later `{ t: "stop" }` message asks it to stop.
 *
 * Messages to the parent (tag field `t`, see `_internal/run_export.ts`):
 *
 * | t         | fields                                   |
 * | --------- | ---------------------------------------- |
 * | "started" | none: the function is being called now   |
 * | "result"  | `value` (shared with `shareValue`)       |
 * | "error"   | `error` {name,message,stack} or `thrown` |
 * | "exit"    | `code` (`Deno.exit` / `close` called)    |
 * | "crash"   | like "error": an uncaught error          |
 * | "stopped" | the thread honoured a stop request       |
 *
 * "started" is posted once, right before the call (what `Thread.start()`
 * resolves on, like Python's `_started` event). Every other one is the
 * thread's last: it is posted right before the thread frees its ident and
 * closes its worker.
 *
 * @module
 */

import { errorToWire, loadExport, TAG } from "../_internal/run_export.ts";
import {
  importRevivers,
  reviveValue,
  shareValue,
  transferablesOf,
} from "../_internal/share.ts";
import { endThread, enterThread, stopThread } from "./_worker_life.ts";

/** The init message a `Thread` posts to its worker. */
export interface ThreadInit {
  t: "init";
  registry: SharedArrayBuffer;
  ident: number;
  name: string;
  module: string;
  fn: string;
  args: unknown;
}

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
};

async function run(init: ThreadInit): Promise<void> {
  try {
    const fn = await loadExport(init.module, init.fn);
    // Handles name the module of their type (queues, pipe ends, manager
    // proxies...): load the ones this worker has not imported yet.
    await importRevivers(init.args);
    const args = reviveValue(init.args);
    (globalThis as unknown as Worker).postMessage({ [TAG]: "started" });
    const value = await fn(...(args as unknown[]));
    const shared = shareValue(value, "worker");
    endThread({ [TAG]: "result", value: shared }, transferablesOf(shared));
  } catch (error) {
    endThread({ [TAG]: "error", ...errorToWire(error) });
  }
}

scope.onmessage = (event: MessageEvent) => {
  const message = event.data as { t: string };
  if (message.t === "init") {
    const init = message as ThreadInit;
    enterThread(init.registry, init.ident, init.name);
    run(init);
  } else if (message.t === "stop") {
    stopThread();
  }
};
