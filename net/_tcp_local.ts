/**
 * Private: the single-thread `serveTcp` server, an accept loop on the
 * calling thread (also what each `threads` worker runs).
 *
 * @module
 */

import { ServedConnection } from "./served_connection.ts";
import { type LifecycleOptions, ServerLifecycle } from "./_tcp_lifecycle.ts";
import type { ServeTcpOptions, TcpAddr, TcpHandler } from "./tcp_types.ts";

/** How long shutdown waits for handlers after closing their connections. */
const FORCED_GRACE = 1000;

/** The options a local server reads (the handler comes separately, already imported). */
export type LocalOptions =
  & LifecycleOptions
  & Pick<
    ServeTcpOptions,
    | "hostname"
    | "port"
    | "reusePort"
    | "maxConnections"
    | "idleTimeout"
    | "requestTimeout"
  >;

/** Accepts on one listener and runs the handler for each connection. */
export class LocalServer extends ServerLifecycle {
  #listener: Deno.TcpListener;
  #handler: TcpHandler;
  #options: LocalOptions;
  #live = new Set<ServedConnection>();
  #tasks = new Set<Promise<void>>();
  #shutdownController = new AbortController();
  #forced = new WeakSet<ServedConnection>();
  #slotFreed: (() => void) | undefined;
  #shutdownStarted: (() => void) | undefined;
  #acceptLoop: Promise<void>;

  /** Listens as `options` say (throws what `Deno.listen` throws) and starts accepting. */
  static listen(options: LocalOptions, handler: TcpHandler): LocalServer {
    const listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      transport: "tcp",
      ...(options.reusePort ? { reusePort: true } : {}),
    });
    return new LocalServer(options, handler, listener);
  }

  private constructor(
    options: LocalOptions,
    handler: TcpHandler,
    listener: Deno.TcpListener,
  ) {
    super(options, listener.addr as TcpAddr);
    this.#options = options;
    this.#handler = handler;
    this.#listener = listener;
    this.#acceptLoop = this.#accept();
  }

  get connections(): number {
    return this.#live.size;
  }

  async #accept(): Promise<void> {
    const max = this.#options.maxConnections ?? Infinity;
    const stopped = new Promise<void>((resolve) =>
      this.#shutdownStarted = resolve
    );
    while (!this.closed) {
      if (this.#live.size >= max) {
        await Promise.race([
          new Promise<void>((resolve) => this.#slotFreed = resolve),
          stopped,
        ]);
        this.#slotFreed = undefined;
        continue;
      }
      let raw: Deno.TcpConn;
      try {
        raw = await this.#listener.accept();
      } catch (error) {
        if (this.closed) return;
        // Transient accept failures (EMFILE, ECONNABORTED): report, back off, go on.
        this.report(error, this.addr);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (this.closed) {
        raw.close();
        return;
      }
      this.#serve(raw);
    }
  }

  #serve(raw: Deno.TcpConn): void {
    const conn = new ServedConnection(
      raw,
      this.#shutdownController.signal,
      this.#options.idleTimeout,
      this.#options.requestTimeout,
    );
    this.#live.add(conn);
    const task = this.#run(conn);
    this.#tasks.add(task);
    task.then(() => this.#tasks.delete(task));
  }

  /** Runs the handler for one connection; never rejects. */
  async #run(conn: ServedConnection): Promise<void> {
    try {
      await this.#handler(conn);
    } catch (error) {
      if (!this.#forced.has(conn)) this.report(error, conn.remoteAddr);
    } finally {
      conn.close();
      this.#live.delete(conn);
      this.#slotFreed?.();
    }
  }

  protected async stop(grace: number): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    this.#shutdownStarted?.();
    this.#shutdownController.abort(
      new DOMException("The server is shutting down", "AbortError"),
    );
    await this.#acceptLoop;
    await this.#settleWithin(grace);
    for (const conn of this.#live) {
      this.#forced.add(conn);
      conn.close();
    }
    // A closed connection wakes every handler blocked on it; one waiting
    // on something else is not waited for past this second deadline.
    await this.#settleWithin(FORCED_GRACE);
  }

  async #settleWithin(ms: number): Promise<void> {
    if (this.#tasks.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.all(this.#tasks), deadline]);
    clearTimeout(timer);
  }
}
