/**
 * Private: `serveTcp({ threads: n })`, n worker threads (`_tcp_worker.ts`)
 * each running a local server on the same port with `reusePort`; this side
 * starts them one after the other, sums their connection counts, reports
 * their handlers' errors and shuts them down. Protocol in `_tcp_wire.ts`.
 *
 * @module
 */

import { errorFromWire } from "../_internal/run_export.ts";
import { ServerLifecycle } from "./_tcp_lifecycle.ts";
import type { WorkerReply, WorkerRequest } from "./_tcp_wire.ts";
import type { ServeTcpOptions, TcpAddr } from "./tcp_types.ts";

/** How long past the grace period shutdown waits for a worker to say it finished. */
const WORKER_BACKSTOP = 2000;

/** Starts worker `index` with `request`; resolves with its first reply. */
function startWorker(
  index: number,
  request: WorkerRequest,
): { worker: Worker; reply: Promise<WorkerReply> } {
  const worker = new Worker(
    new URL("./_tcp_worker.ts", import.meta.url),
    { type: "module", name: `weft-serveTcp-${index}` },
  );
  const reply = new Promise<WorkerReply>((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve({ t: "failed", message: event.message });
    };
    worker.postMessage(request);
  });
  return { worker, reply };
}

/** `threads: n`: n workers, each accepting on the port with reusePort. */
export class ThreadedServer extends ServerLifecycle {
  #workers: Worker[];
  #counts: number[];
  #finishedWorkers = new Map<number, () => void>();

  /**
   * Starts `options.threads` workers running the handler module at
   * `moduleUrl` (already resolved); the first binds the port, the others
   * join it.
   */
  static async start(
    options: ServeTcpOptions,
    moduleUrl: string,
    fn: string,
  ): Promise<ThreadedServer> {
    const workers: Worker[] = [];
    let port = options.port ?? 0;
    let addr: TcpAddr | undefined;
    try {
      for (let i = 0; i < options.threads!; i++) {
        const started = startWorker(i, {
          t: "start",
          module: moduleUrl,
          fn,
          hostname: options.hostname ?? "127.0.0.1",
          port,
          maxConnections: options.maxConnections,
          idleTimeout: options.idleTimeout,
          requestTimeout: options.requestTimeout,
        });
        workers.push(started.worker);
        const reply = await started.reply;
        started.worker.onerror = null;
        if (reply.t !== "listening") {
          throw new TypeError(
            `Cannot serve TCP: worker thread ${i} failed to start: ${
              reply.t === "failed" ? reply.message : reply.t
            }`,
          );
        }
        addr ??= reply.addr as TcpAddr;
        port = reply.addr.port;
      }
    } catch (error) {
      for (const worker of workers) worker.terminate();
      throw error;
    }
    return new ThreadedServer(options, addr!, workers);
  }

  private constructor(
    options: ServeTcpOptions,
    addr: TcpAddr,
    workers: Worker[],
  ) {
    super(options, addr);
    this.#workers = workers;
    this.#counts = workers.map(() => 0);
    workers.forEach((worker, index) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) =>
        this.#onMessage(index, event.data);
      // An error escaping the handler module (say, a rejected promise it
      // forgot) must not crash this thread: report it like a handler error.
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        this.report(event.error ?? new Error(event.message), addr);
      };
    });
  }

  get connections(): number {
    return this.#counts.reduce((a, b) => a + b, 0);
  }

  #onMessage(index: number, message: WorkerReply): void {
    if (message.t === "count") {
      this.#counts[index] = message.connections;
    } else if (message.t === "handlerError") {
      this.report(errorFromWire(message.error), message.remoteAddr);
    } else if (message.t === "finished") {
      this.#finishedWorkers.get(index)?.();
    }
  }

  protected async stop(grace: number): Promise<void> {
    const done = this.#workers.map((worker, index) =>
      new Promise<void>((resolve) => {
        this.#finishedWorkers.set(index, resolve);
        worker.postMessage({ t: "shutdown", timeout: grace });
      })
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      // Workers close everything at `grace`; this is the backstop.
      timer = setTimeout(resolve, grace + WORKER_BACKSTOP);
    });
    await Promise.race([Promise.all(done), deadline]);
    clearTimeout(timer);
    for (const worker of this.#workers) worker.terminate();
    this.#counts.fill(0);
  }
}
