// The client side of the distributed Pool's wire: the calls of one Pool
// client in flight (each with its deadline and abort signal), the loop
// that receives their replies from the client's reply list (BLPOP, then
// LPOP of up to 256 more), and cancellation (a task still queued is
// removed, a running one is told on the cancel channel). `Pool` keeps the
// Python-shaped API on top.
import type { _Connection } from "./_connection.ts";
import { _decode } from "./_codec.ts";
import { _sleep } from "./_redis_open.ts";
import type { _poolKeys, _Reply, _TaskQueue } from "./_pool_wire.ts";
import { _randomId } from "./_wait.ts";

interface Pending {
  fn: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  cleanup?: () => void;
}

function remoteError(v: unknown): Error {
  const e = v as { name?: string; message?: string };
  const error = new Error(e?.message ?? "Cannot run task: it failed");
  error.name = e?.name ?? "Error";
  return error;
}

export class _PoolCalls {
  readonly #client = _randomId();
  readonly #module: string;
  readonly #keys: ReturnType<typeof _poolKeys>;
  readonly #replyKey: string;
  readonly #taskTimeout: number | undefined;
  readonly #maxDeliveries: number;
  readonly #ready: Promise<{ conn: _Connection; queue: _TaskQueue }>;
  #pending = new Map<string, Pending>();
  #queued = new Map<string, string>(); // task id -> queue item id
  #cancels = new Set<Promise<void>>();
  #next = 0;
  #loop: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  #stopped = false;

  constructor(
    module: string,
    keys: ReturnType<typeof _poolKeys>,
    taskTimeout: number | undefined,
    maxDeliveries: number,
    ready: Promise<{ conn: _Connection; queue: _TaskQueue }>,
  ) {
    this.#module = module;
    this.#keys = keys;
    this.#replyKey = keys.reply(this.#client);
    this.#taskTimeout = taskTimeout;
    this.#maxDeliveries = maxDeliveries;
    this.#ready = ready;
  }

  /** Calls not settled yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** Sends one task (mode 0 apply, 1 map chunk, 2 starmap chunk). */
  submit(
    fn: string,
    args: unknown[],
    mode: 0 | 1 | 2,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = `${this.#client}:${++this.#next}`;
    return new Promise((resolve, reject) => {
      const entry: Pending = { fn, resolve, reject };
      this.#pending.set(id, entry);
      const timers: (() => void)[] = [];
      if (signal) {
        const onAbort = () => this.cancel(id, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        timers.push(() => signal.removeEventListener("abort", onAbort));
      }
      if (this.#taskTimeout !== undefined) {
        const ms = this.#taskTimeout;
        const timer = setTimeout(() =>
          this.cancel(
            id,
            new DOMException(
              `Cannot finish task "${fn}": it took longer than ${ms} ms`,
              "TimeoutError",
            ),
          ), ms);
        timers.push(() => clearTimeout(timer));
      }
      entry.cleanup = () => timers.forEach((f) => f());
      this.#ready.then(({ queue }) =>
        queue.send({
          m: this.#module,
          f: fn,
          a: args,
          k: mode,
          r: this.#replyKey,
          t: id,
          d: this.#taskTimeout ? Date.now() + this.#taskTimeout : 0,
        })
      ).then((qid) => {
        if (this.#pending.has(id)) {
          this.#queued.set(id, qid);
          this.#startLoop();
        } else {
          // cancelled before the put was answered
          this.#ready.then(({ queue }) => queue.remove(qid)).catch(() => {});
        }
      }, (error) => this.#settle(id, false, error));
    });
  }

  #settle(id: string, ok: boolean, value: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    this.#queued.delete(id);
    entry.cleanup?.();
    if (ok) entry.resolve(value);
    else entry.reject(value);
    if (this.#pending.size === 0) this.#idle?.();
  }

  /** Rejects call `id` with `reason` and stops its task wherever it is. */
  cancel(id: string, reason: unknown): void {
    if (!this.#pending.has(id)) return;
    const qid = this.#queued.get(id);
    this.#settle(id, false, reason);
    const sent = this.#ready.then(async ({ conn, queue }) => {
      // still waiting: take it out; else tell the worker running it
      if (qid !== undefined && await queue.remove(qid)) return;
      await conn.command(["PUBLISH", this.#keys.cancel, id]);
    }).catch(() => {}).finally(() => this.#cancels.delete(sent));
    this.#cancels.add(sent);
  }

  /** Cancels every call with `reason`. */
  cancelAll(reason: unknown): void {
    for (const id of [...this.#pending.keys()]) this.cancel(id, reason);
  }

  /** Resolves once no call is pending. */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle = resolve);
  }

  /** Stops the reply loop once the cancellations went out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#cancels); // workers hear of every cancellation
    await this.#loop?.catch(() => {});
  }

  #startLoop(): void {
    this.#loop ??= this.#receive().finally(() => {
      this.#loop = undefined;
      if (this.#pending.size > 0 && !this.#stopped) this.#startLoop();
    });
  }

  async #receive(): Promise<void> {
    const { conn, queue } = await this.#ready;
    let lastReap = Date.now();
    while (this.#pending.size > 0 && !this.#stopped) {
      let reply: unknown;
      try {
        reply = await conn.blocking(["BLPOP", this.#replyKey, "1"]);
      } catch {
        if (this.#stopped || conn.closed) return;
        await _sleep(50);
        continue;
      }
      let got = false;
      if (Array.isArray(reply)) {
        this.#onReply(reply[1] as string);
        got = true;
      } else if (reply && typeof reply === "object") {
        this.#onReply((reply as { element: string }).element);
        got = true;
      }
      if (got) {
        // drain what else arrived, up to 256 replies per round trip
        const more = await conn.command(["LPOP", this.#replyKey, "256"])
          .catch(() => null);
        if (Array.isArray(more)) {
          for (const text of more) this.#onReply(text);
        }
      }
      if (Date.now() - lastReap > 1000) {
        // Return expired leases (and bury poison tasks) even when every
        // worker is gone or busy.
        lastReap = Date.now();
        await queue.unfinishedTasks().catch(() => {});
      }
    }
  }

  #onReply(text: string): void {
    if (text.startsWith("D")) {
      const id = text.slice(1);
      const fn = this.#pending.get(id)?.fn ?? "?";
      this.#settle(
        id,
        false,
        new Error(
          `Cannot finish task "${fn}": it was delivered ${this.#maxDeliveries} times (maxDeliveries) and no worker finished it`,
        ),
      );
      return;
    }
    let reply: _Reply;
    try {
      reply = _decode<_Reply>(text);
    } catch {
      return;
    }
    this.#settle(reply.t, reply.ok, reply.ok ? reply.v : remoteError(reply.v));
  }
}
