/**
 * The queue a manager server holds (private): Python's `queue.Queue`, FIFO
 * with an optional `maxsize`, `taskDone` and `join`.
 *
 * @module
 */

import {
  type CallContext,
  park,
  type Parked,
  ServerObject,
  waitSpec,
} from "./_manager_object_base.ts";

/** Error names the client maps to `QueueEmpty` / `QueueFull`. */
export function queueError(
  name: "QueueEmpty" | "QueueFull",
  message: string,
): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Python's `queue.Queue` (FIFO, optional `maxsize`). */
export class QueueObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "put",
    "get",
    "putNowait",
    "getNowait",
    "qsize",
    "empty",
    "full",
    "taskDone",
    "join",
  ]);
  #items: unknown[] = [];
  #maxsize: number;
  #getters: Parked<unknown>[] = [];
  #putters: (Parked<void> & { item: unknown })[] = [];
  #unfinished = 0;
  #joiners: Parked<void>[] = [];

  constructor(options?: unknown) {
    super();
    const maxsize = (options as { maxsize?: unknown } | undefined)?.maxsize ??
      0;
    if (!Number.isInteger(maxsize) || (maxsize as number) < 0) {
      throw new RangeError(
        `Cannot create queue: "maxsize" must be an integer >= 0, got ${maxsize}`,
      );
    }
    this.#maxsize = maxsize as number;
  }

  #isFull(): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }

  /** Adds an item, handing it straight to a waiting getter if any. */
  #enqueue(item: unknown): void {
    this.#unfinished++;
    const getter = this.#getters.shift();
    if (getter !== undefined) getter.grant(item);
    else this.#items.push(item);
  }

  /** Removes the head item and lets one waiting putter in. */
  #dequeue(): unknown {
    const item = this.#items.shift();
    const putter = this.#putters.shift();
    if (putter !== undefined) {
      this.#enqueue(putter.item);
      putter.grant();
    }
    return item;
  }

  async put(ctx: CallContext, item: unknown, options?: unknown): Promise<void> {
    const { timeout } = waitSpec(options, "put into queue");
    if (!this.#isFull()) return this.#enqueue(item);
    const result = await park(this.#putters, ctx, timeout, { item });
    if (!result.ok) {
      throw queueError("QueueFull", "Cannot put into queue: it is full");
    }
  }
  putNowait(_: unknown, item: unknown): void {
    if (this.#isFull()) {
      throw queueError("QueueFull", "Cannot put into queue: it is full");
    }
    this.#enqueue(item);
  }
  async get(ctx: CallContext, options?: unknown): Promise<unknown> {
    const { timeout } = waitSpec(options, "get from queue");
    if (this.#items.length > 0) return this.#dequeue();
    const result = await park(this.#getters, ctx, timeout);
    if (!result.ok) {
      throw queueError("QueueEmpty", "Cannot get from queue: it is empty");
    }
    return result.value;
  }
  getNowait(): unknown {
    if (this.#items.length === 0) {
      throw queueError("QueueEmpty", "Cannot get from queue: it is empty");
    }
    return this.#dequeue();
  }
  qsize(): number {
    return this.#items.length;
  }
  empty(): boolean {
    return this.#items.length === 0;
  }
  full(): boolean {
    return this.#isFull();
  }
  taskDone(): void {
    if (this.#unfinished === 0) {
      throw new TypeError(
        "Cannot mark task done: more calls than items put into the queue",
      );
    }
    if (--this.#unfinished === 0) {
      for (const joiner of this.#joiners.splice(0)) joiner.grant();
    }
  }
  async join(ctx: CallContext, options?: unknown): Promise<boolean> {
    const { timeout } = waitSpec(options, "join queue");
    if (this.#unfinished === 0) return true;
    return (await park(this.#joiners, ctx, timeout)).ok;
  }
}
