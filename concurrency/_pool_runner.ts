/**
 * The parent side of one `Pool` worker (private): a {@linkcode PoolRunner}
 * is what the pool's scheduler talks to, whatever runs the tasks. This
 * file has the interface and the Web Worker kind ({@linkcode ThreadRunner});
 * `_pool_process.ts` has the child-process kind.
 *
 * The contract that keeps tasks exactly-once: once the pool decides to
 * take a worker's tasks back it calls {@linkcode PoolRunner.closeClaim},
 * which returns how many of the dispatched tasks the worker began — an
 * exact number, after which the worker begins no other task. The pool
 * re-queues only the rest.
 *
 * @module
 */

import { TAG } from "../_internal/run_export.ts";
import {
  encodeResults,
  type FromWorker,
  type InitMessage,
  type ToWorker,
} from "./_pool_wire.ts";
import { shareValue, transferablesOf } from "../_internal/share.ts";
import {
  allocateIdent,
  registryBuffer,
  releaseIdent,
  requestStop,
} from "./_thread_registry.ts";
import { whenEnded } from "./_worker_life.ts";
import { ParentMailbox } from "./_pool_mailbox.ts";
import { WorkerState } from "./_pool_state.ts";

/** What a runner reports to its pool. */
export interface RunnerEvents {
  /** A message of the worker (results, ready, crash, exit...). */
  message(message: FromWorker): void;
  /** The worker failed before it ran any task code (its end is certain). */
  failed(error: Error): void;
  /** The worker's end is certain and every message of it was delivered. */
  ended(): void;
}

/** What a runner needs to start its worker. */
export interface RunnerInit {
  /** The worker's number (its name is `weft-pool-<id>`). */
  id: number;
  module: string;
  initializer: string | undefined;
  initArgs: unknown[];
  /** The pool's cancel ring (thread workers read it). */
  cancel: SharedArrayBuffer;
  epoch: number;
}

/** One pool worker, seen from the pool. */
export interface PoolRunner {
  /** `"thread"` or `"process"`. */
  readonly kind: "thread" | "process";
  /**
   * Posts a message; throws (a `DataCloneError`) at once if it cannot be
   * cloned, having sent nothing.
   */
  post(message: ToWorker, transfer?: Transferable[]): void;
  /** Id of the task running now, 0 if none. */
  runningTask(): number;
  /** When the running task started (ms since the pool's epoch). */
  startedAt(): number;
  /**
   * Stops the worker from beginning more tasks and returns how many of the
   * dispatched ones it began (exact; a promise when that needs the worker
   * to be gone first).
   */
  closeClaim(): number | Promise<number>;
  /** Asks the worker to stop (a thread) or kills it (a process). */
  stop(): void;
  /**
   * The task `id`, about to be posted to this idle worker, is alone: its
   * result may come back through the fast path (thread workers).
   */
  expectLone(id: number): void;
}

/** The tags of a worker's last message (it ends right after). */
const LAST = new Set(["crash", "exit", "stopped"]);
/** How long a worker's last message may trail its certain end. */
const LAST_MESSAGE_GRACE_MS = 200;

/** A pool worker on a Web Worker: a weft thread with its own ident. */
export class ThreadRunner implements PoolRunner {
  readonly kind = "thread";
  #worker: Worker;
  #state = new WorkerState();
  #ident: number;
  #ended = false;
  #mailbox = new ParentMailbox();
  #events: RunnerEvents;

  /** @throws {RangeError} If the thread registry is full. */
  constructor(init: RunnerInit, events: RunnerEvents) {
    const ident = allocateIdent();
    this.#ident = ident;
    const name = `weft-pool-${init.id}`;
    const worker = new Worker(
      new URL("./_pool_worker.ts", import.meta.url).href,
      { type: "module", name },
    );
    this.#worker = worker;
    this.#events = events;
    let last: (() => void) | undefined;
    let sawLast = false;
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const data = event.data;
      if (!Array.isArray(data) && LAST.has(data.t)) {
        sawLast = true;
        events.message(data);
        last?.();
        return;
      }
      events.message(data);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Once running, the bootstrap reports its own uncaught errors (and
      // prevents this event): this one means it failed to load, so it never
      // ran task code and its end is certain.
      event.preventDefault();
      releaseIdent(ident);
      events.failed(
        new Error(
          `Cannot finish task: its worker crashed with an uncaught error: ${event.message}`,
          { cause: event.error ?? event.message },
        ),
      );
    };
    worker.onmessageerror = () => {
      events.message({
        t: "crash",
        error: new Error(
          "Cannot finish task: a message from its worker could not be deserialized",
        ),
      });
    };
    whenEnded(ident).then(async () => {
      this.#ended = true;
      if (!sawLast) {
        // Its last message, posted before the end, may still be in flight.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          last = resolve;
          timer = setTimeout(resolve, LAST_MESSAGE_GRACE_MS);
        });
        clearTimeout(timer);
      }
      worker.terminate(); // frees the handle; the worker closed itself
      events.ended();
    });
    const initArgs = shareValue(init.initArgs, "worker") as unknown[];
    const message: InitMessage = {
      t: "init",
      registry: registryBuffer(),
      ident,
      name,
      module: init.module,
      initializer: init.initializer,
      initArgs,
      state: this.#state.buffer,
      cancel: init.cancel,
      mailbox: this.#mailbox.buffer,
      epoch: init.epoch,
    };
    worker.postMessage(message, transferablesOf(initArgs));
  }

  post(message: ToWorker, transfer: Transferable[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  runningTask(): number {
    return this.#state.runningTask();
  }

  startedAt(): number {
    return this.#state.startedAt();
  }

  closeClaim(): number {
    return this.#state.closeClaim();
  }

  expectLone(id: number): void {
    this.#mailbox.expect(
      id,
      (result) => this.#events.message(encodeResults([result])),
    );
  }

  stop(): void {
    if (this.#ended) return;
    requestStop(this.#ident);
    try {
      this.#worker.postMessage({ [TAG]: "stop" });
    } catch {
      // already gone
    }
  }
}
