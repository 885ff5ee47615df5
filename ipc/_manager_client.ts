/**
 * The client end of a manager connection (private): many concurrent calls
 * over one {@linkcode Channel}, matched by call id.
 *
 * - When the channel ends (manager gone, socket reset), every pending call
 *   rejects at once with an `EOFError` ({@linkcode ManagerClient.lostError}),
 *   and so does every later call.
 * - A call whose `signal` aborts rejects with `signal.reason` right away and
 *   sends a cancel; if the server had already finished it, `onLate` gets the
 *   value (a lock proxy uses this to give the lock back).
 * - The socket is read only while a call is pending (the channel's
 *   `expecting`), the read started right after the request is written: an
 *   idle connection keeps no read pending, so it never keeps the process
 *   alive (revived proxies in a child process must not stop it exiting),
 *   and a sequential call finds its reply the way a plain write-then-read
 *   does (see `_manager_transport.ts`).
 *
 * @module
 */

import { decodeReply, encodeCall, encodeCancel } from "./_manager_codec.ts";
import type { ErrorInfo } from "./_manager_protocol.ts";
import { BrokenBarrierError } from "../concurrency/barrier.ts";
import { QueueEmpty, QueueFull } from "../concurrency/queue_errors.ts";
import type { Channel } from "./_manager_transport.ts";
import { EOFError } from "./_wire.ts";
import { RemoteError } from "./manager_error.ts";

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Set once the caller gave up (abort). */
  abandoned?: boolean;
  onLate?: (value: unknown) => void;
}

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Receives the value if the call succeeded after the caller aborted. */
  onLate?: (value: unknown) => void;
}

const MAX_CALL_ID = 0xffff_ffff;

/** Multiplexes calls over one channel. */
export class ManagerClient {
  #channel: Channel;
  #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #lost: Error | undefined;
  /** Settles when the receive loop ends. */
  readonly finished: Promise<void>;

  /** Starts reading replies from `channel` (while calls are pending). */
  constructor(channel: Channel) {
    this.#channel = channel;
    this.finished = this.#readLoop();
  }

  /** True once the connection ended (closed here or lost). */
  get closed(): boolean {
    return this.#lost !== undefined;
  }

  /** The error calls reject with once the connection is gone. */
  get lostError(): Error | undefined {
    return this.#lost;
  }

  async #readLoop(): Promise<void> {
    let cause: unknown;
    try {
      await this.#channel.drain(this.#settle, this.#expecting);
    } catch (error) {
      cause = error;
    }
    this.#end(
      new EOFError(
        "Cannot call manager: the connection to the manager was lost",
        { cause },
      ),
    );
  }

  /** True while a reply is due (abandoned calls included: see `onLate`). */
  #expecting = (): boolean => this.#pending.size > 0;

  /** One reply frame (`body` is a view: decoded here, never kept). */
  #settle = (id: number, body: Uint8Array | undefined, oversize: number) => {
    const call = this.#pending.get(id);
    if (call === undefined) return;
    this.#pending.delete(id);
    if (body === undefined) {
      return call.reject(
        new RangeError(
          `Cannot read manager reply: ${oversize} bytes exceeds the cap`,
        ),
      );
    }
    let reply;
    try {
      reply = decodeReply(body);
    } catch (error) {
      return call.reject(error);
    }
    if (call.abandoned) {
      if (reply.t === "ok") call.onLate?.(reply.v);
      return;
    }
    if (reply.t === "ok") call.resolve(reply.v);
    else call.reject(toRemoteError(reply.e));
  };

  #end(error: Error): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    this.#channel.close();
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of calls) if (!call.abandoned) call.reject(error);
  }

  #allocateId(): number {
    do {
      this.#nextId = this.#nextId >= MAX_CALL_ID ? 1 : this.#nextId + 1;
    } while (this.#pending.has(this.#nextId));
    return this.#nextId;
  }

  /** Calls `method` on object `objectId` with `args`. */
  call(
    objectId: number,
    method: string,
    args: unknown[],
    options?: CallOptions,
  ): Promise<unknown> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    if (options?.signal !== undefined || options?.onLate !== undefined) {
      return this.#callAbortable(objectId, method, args, options);
    }
    const id = this.#allocateId();
    // The common call: one promise; its settle functions are the entry.
    return new Promise((resolve, reject) => {
      this.#send(id, objectId, method, args, { resolve, reject });
    });
  }

  /** Encodes and sends a call already given its `id`; `call` settles it. */
  #send(
    id: number,
    objectId: number,
    method: string,
    args: unknown[],
    call: PendingCall,
  ): void {
    let body: Uint8Array;
    try {
      body = encodeCall(objectId, method, args);
    } catch (error) {
      return call.reject(error);
    }
    this.#pending.set(id, call);
    try {
      this.#channel.send(id, body);
      this.#channel.resume(); // the reply is read after the request left
    } catch (error) {
      this.#pending.delete(id);
      call.reject(
        this.#lost ??
          new EOFError("Cannot call manager: the request could not be sent", {
            cause: error,
          }),
      );
    }
  }

  #callAbortable(
    objectId: number,
    method: string,
    args: unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#allocateId();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const call = this.#pending.get(id);
        if (call === undefined || call.abandoned) return;
        call.abandoned = true;
        reject(signal!.reason);
        try {
          this.#channel.send(id, encodeCancel());
        } catch {
          // closed: the server drops the call on its own
        }
      };
      const call: PendingCall = {
        resolve: (value) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
        onLate: options.onLate,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#send(id, objectId, method, args, call);
    });
  }

  /** Closes the connection; pending calls reject. Idempotent. */
  close(): void {
    this.#end(new EOFError("Cannot call manager: the connection is closed"));
  }
}

/**
 * The error a failed call rejects with: the queue errors callers catch
 * become `concurrency`'s own classes (as Python's proxies re-raise
 * `queue.Empty`), anything else a {@linkcode RemoteError}.
 */
function toRemoteError(info: ErrorInfo): Error {
  switch (info.name) {
    case "AbortError":
      return new DOMException(info.message, "AbortError");
    case "QueueEmpty":
      return new QueueEmpty(info.message, { cause: new RemoteError(info) });
    case "QueueFull":
      return new QueueFull(info.message, { cause: new RemoteError(info) });
    case "BrokenBarrierError":
      return new BrokenBarrierError(info.message, {
        cause: new RemoteError(info),
      });
  }
  return new RemoteError(info);
}
