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
  CLAIM_CLOSED,
  type FromWorker,
  type InitMessage,
  MB_ARMED,
  MB_FALSE,
  MB_ID,
  MB_MS,
  MB_NULL,
  MB_NUMBER,
  MB_POSTED,
  MB_SEQ,
  MB_TAG,
  MB_TRUE,
  MB_UNDEFINED,
  MB_VALUE,
  STATE_IDLE,
  STATE_RUNNING,
  type ToWorker,
  W_BEGUN,
  W_STARTED,
  W_STATE,
  W_TASK,
} from "./_pool_wire.ts";
import { type EngineHost, TaskEngine } from "./_pool_engine.ts";
import { enterThread, stopThread } from "./_worker_life.ts";

declare const self: {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let words: Int32Array;
let cancelRing: Int32Array;
let mailbox: Int32Array;
let mailboxF: Float64Array;
let epoch = 0;

/** The mailbox tag of `value`, or -1 if it must be posted. */
function mailTag(value: unknown): number {
  switch (typeof value) {
    case "number":
      return MB_NUMBER;
    case "boolean":
      return value ? MB_TRUE : MB_FALSE;
    case "undefined":
      return MB_UNDEFINED;
  }
  return value === null ? MB_NULL : -1;
}

/** Sends a lone armed result through the mailbox; false if it cannot. */
function sendByMailbox(flat: unknown[]): boolean {
  const id = flat[0] as number;
  if (Atomics.load(mailbox, MB_ARMED) !== id) return false;
  Atomics.store(mailbox, MB_ARMED, 0);
  const tag = flat[1] === 1 ? mailTag(flat[2]) : -1;
  if (tag === MB_NUMBER) mailboxF[MB_VALUE] = flat[2] as number;
  mailboxF[MB_MS] = flat[3] as number;
  Atomics.store(mailbox, MB_TAG, tag < 0 ? MB_POSTED : tag);
  Atomics.store(mailbox, MB_ID, id);
  Atomics.add(mailbox, MB_SEQ, 1);
  Atomics.notify(mailbox, MB_SEQ);
  return tag >= 0;
}

const host: EngineHost = {
  target: "worker",
  eager: false,
  send(flat, transfer) {
    if (flat.length === 4 && sendByMailbox(flat)) return;
    self.postMessage(flat, transfer);
  },
  /**
   * Counts the task in `BEGUN` unless the parent closed the claim (it took
   * this task and the rest back).
   */
  begin() {
    const n = Atomics.load(words, W_BEGUN);
    return (n & CLAIM_CLOSED) === 0 &&
      Atomics.compareExchange(words, W_BEGUN, n, n + 1) === n;
  },
  running(id) {
    Atomics.store(words, W_TASK, id);
    Atomics.store(words, W_STARTED, Date.now() - epoch);
    Atomics.store(words, W_STATE, STATE_RUNNING);
  },
  idle() {
    Atomics.store(words, W_STATE, STATE_IDLE);
  },
  cancelled(id) {
    return Atomics.load(cancelRing, id % CANCEL_RING) === id;
  },
  stop: stopThread,
};

const engine = new TaskEngine(host);

async function init(message: InitMessage): Promise<void> {
  words = new Int32Array(message.state);
  cancelRing = new Int32Array(message.cancel);
  mailbox = new Int32Array(message.mailbox);
  mailboxF = new Float64Array(message.mailbox);
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
    engine.enqueue(message);
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
