/**
 * Worker bootstrap of `Thread` (private). Receives one init message, takes
 * the thread's ident, imports the user module, revives the arguments (shared
 * objects arrive live), calls the export, and posts the result or the error
 * (name, message, stack). `Deno.exit()` and `close()` inside the thread are
 * wrapped so the parent learns about them (the platform tells it nothing).
 *
 * Messages to the parent:
 *
 * | kind     | fields                              |
 * | -------- | ----------------------------------- |
 * | "result" | `value` (shared with `shareValue`)  |
 * | "error"  | `error` {name,message,stack} or `thrown` |
 * | "exit"   | `code` (Deno.exit / close called)   |
 *
 * @module
 */

import {
  importRevivers,
  reviveValue,
  shareValue,
  transferablesOf,
} from "./_share.ts";
import {
  adoptRegistry,
  releaseIdent,
  setCurrentThread,
} from "./_thread_registry.ts";

/** The init message a `Thread` posts to its worker. */
export interface ThreadInit {
  registry: SharedArrayBuffer;
  ident: number;
  name: string;
  module: string;
  fn: string;
  args: unknown;
}

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

function describe(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      error: {
        name: error.name,
        message: error.message,
        stack: error.stack,
      },
    };
  }
  try {
    return { thrown: structuredClone(error) };
  } catch {
    return { thrown: String(error) };
  }
}

scope.onmessage = async (event: MessageEvent) => {
  scope.onmessage = null;
  const init = event.data as ThreadInit;
  adoptRegistry(init.registry);
  setCurrentThread(init.ident, init.name);
  let ended = false;
  const end = (message: Record<string, unknown>, transfer?: Transferable[]) => {
    if (ended) return;
    ended = true;
    try {
      scope.postMessage(message, transfer);
    } catch (error) {
      scope.postMessage({ kind: "error", ...describe(error) });
    }
    releaseIdent(init.ident);
  };
  const exit = Deno.exit;
  Deno.exit = ((code?: number) => {
    end({ kind: "exit", code: code ?? 0 });
    return exit(code);
  }) as typeof Deno.exit;
  const close = scope.close.bind(scope);
  scope.close = () => {
    end({ kind: "exit", code: 0 });
    close();
  };
  try {
    const mod = await import(init.module);
    const fn = mod[init.fn];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run thread: module "${init.module}" has no exported function "${init.fn}"`,
      );
    }
    // Handles name the module of their type (queues, pipe ends, manager
    // proxies...): load the ones this worker has not imported yet.
    await importRevivers(init.args);
    const args = reviveValue(init.args);
    const value = await fn(...(args as unknown[]));
    const shared = shareValue(value, "worker");
    end({ kind: "result", value: shared }, transferablesOf(shared));
  } catch (error) {
    end({ kind: "error", ...describe(error) });
  }
};
