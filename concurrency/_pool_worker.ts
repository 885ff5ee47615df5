/**
 * Bootstrap of a {@linkcode Pool} worker thread (private): a
 * {@linkcode TaskEngine} whose host is shared memory and `postMessage`. The
 * worker is a weft thread (`_worker_life.ts`): it ends only through
 * `endThread()`, which hands over finished results first. See
 * `_pool_wire.ts` for the protocol.
 *
 * @module
 */

import { cloneableError } from "../_internal/run_export.ts";
import {
  CANCEL_RING,
  encodeResults,
  type FromWorker,
  type InitMessage,
  type ToWorker,
} from "./_pool_wire.ts";
import { type EngineHost, TaskEngine } from "./_pool_engine.ts";
import { enterThread, stopThread } from "./_worker_life.ts";
import { WorkerMailbox } from "./_pool_mailbox.ts";
import { WorkerState } from "./_pool_state.ts";

declare const self: {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let state: WorkerState;
let cancelRing: Int32Array;
let mailbox: WorkerMailbox;
let epoch = 0;

const host: EngineHost = {
  target: "worker",
  eager: false,
  send(results, transfer) {
    if (results.length === 1 && mailbox.send(results[0])) return;
    self.postMessage(encodeResults(results), transfer);
  },
  begin: () => state.begin(),
  running: (id) => state.running(id, Date.now() - epoch),
  idle: () => state.idle(),
  cancelled(id) {
    return Atomics.load(cancelRing, id % CANCEL_RING) === id;
  },
  stop: stopThread,
};

const engine = new TaskEngine(host);

async function init(message: InitMessage): Promise<void> {
  state = new WorkerState(message.state);
  cancelRing = new Int32Array(message.cancel);
  mailbox = new WorkerMailbox(message.mailbox);
  epoch = message.epoch;
  // This worker is a thread: Deno.exit(), close(), an uncaught error or a
  // stop request all end it through endThread(), results handed over first.
  enterThread(message.registry, message.ident, message.name, {
    beforeEnd: () => engine.flush(),
  });
  try {
    await engine.load(message.module, message.initializer, message.initArgs);
  } catch (error) {
    self.postMessage({ t: "initError", error: cloneableError(error) });
    return;
  }
  self.postMessage({ t: "ready" });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (Array.isArray(message)) {
    engine.enqueue(message); // a TaskBatch
    return;
  }
  switch (message.t) {
    case "init":
      init(message);
      break;
    case "abort":
      engine.abort(message.id);
      break;
    case "stop":
      stopThread();
      break;
  }
};
