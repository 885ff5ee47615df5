/**
 * A `Pool` worker in a Deno child process (private): the
 * {@linkcode PoolRunner} of `isolation: "process"`. The child
 * (`_pool_child.ts`) runs the same task engine as a worker thread; frames
 * travel over its stdin and stdout (`_pool_frames.ts`).
 *
 * The hard stop is real: `stop()` sends SIGKILL, and the child's end is
 * certain once its exit status is known and its stdout is drained. The
 * child announces each task with a "begin" frame before running it, so
 * after its death the pool knows exactly which tasks ran.
 *
 * @module
 */

import {
  childPermissionFlags,
  inheritedConfigFlags,
} from "../_internal/child_config.ts";
import {
  forEachResult,
  type FromWorker,
  type ProcessInitMessage,
  type ToWorker,
} from "./_pool_wire.ts";
import { encodeFrame, readFrames } from "./_pool_frames.ts";
import type { PoolRunner, RunnerEvents, RunnerInit } from "./_pool_runner.ts";
import { shareValue } from "../_internal/share.ts";

const CHILD_URL = new URL("./_pool_child.ts", import.meta.url).href;

/** A pool worker in its own process. */
export class ProcessRunner implements PoolRunner {
  readonly kind = "process";
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #begun = 0;
  #running = 0;
  #startedAt = 0;
  #done: Promise<void>;
  #killed = false;

  constructor(init: RunnerInit, events: RunnerEvents) {
    const initArgs = shareValue(init.initArgs, "process") as unknown[];
    const message: ProcessInitMessage = {
      t: "init",
      name: `weft-pool-${init.id}`,
      module: init.module,
      initializer: init.initializer,
      initArgs,
      epoch: init.epoch,
    };
    const first = encodeFrame(message);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...childPermissionFlags(),
        ...inheritedConfigFlags(),
        CHILD_URL,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#writer.write(first).catch(() => {});
    const reading = (async () => {
      try {
        for await (const message of readFrames(child.stdout)) {
          this.#onFrame(message as FromWorker, events);
        }
      } catch {
        // a broken frame: the child is killed below
        this.stop();
      }
    })();
    this.#done = Promise.all([child.status, reading]).then(() => {});
    this.#done.then(() => {
      this.#writer.close().catch(() => {});
      events.ended();
    });
  }

  #onFrame(message: FromWorker, events: RunnerEvents): void {
    if (Array.isArray(message)) {
      forEachResult(message, (id) => {
        if (id === this.#running) this.#running = 0;
      });
    } else if (message.t === "begin") {
      this.#begun++;
      this.#running = message.id;
      this.#startedAt = message.at;
      return;
    }
    events.message(message);
  }

  post(message: ToWorker, _transfer?: Transferable[]): void {
    const frame = encodeFrame(message); // throws before anything is sent
    this.#writer.write(frame).catch(() => {});
  }

  runningTask(): number {
    return this.#running;
  }

  startedAt(): number {
    return this.#startedAt;
  }

  expectLone(_id: number): void {
    // no fast path across processes
  }

  closeClaim(): Promise<number> {
    this.stop();
    return this.#done.then(() => this.#begun);
  }

  stop(): void {
    if (this.#killed) return;
    this.#killed = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
}
