/**
 * Private: what every `serveTcp` server shares, whatever serves its
 * connections: the bound address, `finished`, an idempotent `shutdown`
 * started by the caller or by `signal`, `await using`, and reporting
 * handler errors to `onError`.
 *
 * @module
 */

import type {
  ServeTcpOptions,
  ShutdownOptions,
  TcpAddr,
  TcpServer,
} from "./tcp_types.ts";

/** Grace period (ms) of `shutdown()` and of an aborted `signal` when none is given. */
export const DEFAULT_GRACE = 5000;

function reportDefault(error: unknown, remote: Deno.NetAddr): void {
  console.error(
    `serveTcp: handler failed for ${remote.hostname}:${remote.port}:`,
    error,
  );
}

/** The options the lifecycle reads. */
export type LifecycleOptions = Pick<
  ServeTcpOptions,
  "signal" | "shutdownTimeout" | "onError"
>;

/** A server's lifecycle; subclasses say how they stop (`stop`) and count connections. */
export abstract class ServerLifecycle implements TcpServer {
  readonly addr: TcpAddr;
  readonly finished: Promise<void>;
  #closed = false;
  #shutdownPromise: Promise<void> | undefined;
  #resolveFinished!: () => void;
  #signalCleanup: () => void = () => {};
  #onError: (error: unknown, remote: Deno.NetAddr) => void;

  constructor(options: LifecycleOptions, addr: TcpAddr) {
    this.addr = addr;
    this.#onError = options.onError ?? reportDefault;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        this.shutdown({ timeout: options.shutdownTimeout ?? DEFAULT_GRACE });
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#signalCleanup = () => signal.removeEventListener("abort", onAbort);
    }
  }

  /** Connections being handled now. */
  abstract get connections(): number;

  /** Whether shutdown has started. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops serving: called once, synchronously from `shutdown()` (so what it
   * does before its first `await`, such as closing the listener, is done
   * when `shutdown()` returns); resolves when every connection is closed.
   */
  protected abstract stop(grace: number): Promise<void>;

  /** Hands a handler's error to `onError`; a reporter that throws is ignored. */
  protected report(error: unknown, remote: Deno.NetAddr): void {
    try {
      this.#onError(error, remote);
    } catch {
      // an error reporter that throws must not stop the server
    }
  }

  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise;
    this.#closed = true;
    this.#signalCleanup();
    this.#shutdownPromise = this.stop(options.timeout ?? DEFAULT_GRACE).then(
      () => this.#resolveFinished(),
    );
    return this.#shutdownPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
