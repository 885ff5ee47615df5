/**
 * Bootstrap of a `Pool` worker process (private; `isolation: "process"`):
 * the task engine of `_pool_engine.ts`, with frames on stdin/stdout
 * (`_pool_frames.ts`) instead of `postMessage` and shared memory.
 *
 * Stdout carries frames only: task code's `console.log` / `info` / `debug`
 * go to stderr. Every task is announced by a "begin" frame written (with a
 * blocking write) before it runs, and its outcome is sent as soon as it
 * ends, so whatever the pool kills, it knows which tasks ran. The child
 * exits when its stdin ends (the pool closed it or died).
 *
 * @module
 */

import { cloneableError, errorToWire } from "../_internal/run_export.ts";
import { encodeFrame, readFrames } from "./_pool_frames.ts";
import { type EngineHost, TaskEngine } from "./_pool_engine.ts";
import { encodeResults, type ProcessInitMessage } from "./_pool_wire.ts";

function write(message: unknown): void {
  const frame = encodeFrame(message);
  let offset = 0;
  while (offset < frame.length) {
    offset += Deno.stdout.writeSync(frame.subarray(offset));
  }
}

// Stdout is the pool's channel.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

let epoch = 0;
const cancelled = new Set<number>();

const host: EngineHost = {
  target: "process",
  eager: true,
  send: (results) => write(encodeResults(results)),
  begin(id) {
    write({ t: "begin", id, at: Date.now() - epoch });
    return true;
  },
  running() {},
  idle() {},
  cancelled: (id) => cancelled.has(id),
  stop: () => exit(0),
};

const engine = new TaskEngine(host);
const realExit = Deno.exit;

function exit(code: number): never {
  try {
    engine.flush();
  } catch {
    // exiting anyway
  }
  return realExit(code);
}

Deno.exit = ((code?: number) => {
  try {
    engine.flush();
    write({ t: "exit", code: code ?? 0 });
  } catch {
    // exiting anyway
  }
  return realExit(code);
}) as typeof Deno.exit;

function crash(error: unknown): void {
  try {
    engine.flush();
    write({ t: "crash", ...errorToWire(error) });
  } catch {
    // exiting anyway
  }
  realExit(1);
}

addEventListener("error", (event) => {
  event.preventDefault();
  crash(event.error ?? new Error(event.message));
});
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  crash(event.reason);
});

async function init(message: ProcessInitMessage): Promise<void> {
  epoch = message.epoch;
  try {
    await engine.load(message.module, message.initializer, message.initArgs);
  } catch (error) {
    write({ t: "initError", error: cloneableError(error) });
    return;
  }
  write({ t: "ready" });
}

for await (const message of readFrames(Deno.stdin.readable)) {
  if (Array.isArray(message)) {
    engine.enqueue(message);
    continue;
  }
  const m = message as { t: string; id?: number };
  if (m.t === "init") init(message as ProcessInitMessage);
  else if (m.t === "abort") {
    cancelled.add(m.id!);
    engine.abort(m.id!);
  } else if (m.t === "stop") exit(0);
}
exit(0);
