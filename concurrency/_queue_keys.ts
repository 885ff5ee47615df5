/**
 * The keys by which `Queue` and its subclasses say how they order items
 * (private), and the async iteration they share.
 *
 * @module
 */

import { QueueClosed } from "./queue_errors.ts";
import type { QueueKind } from "./_queue_store.ts";

/**
 * Static key on `Queue` and its subclasses: which order a class serves
 * items in and the name its handles and errors use.
 */
export const QUEUE_ORDER: unique symbol = Symbol("weft.queueOrder");
/** Method key on `Queue` and its subclasses: the priority of an item. */
export const PRIORITY_OF: unique symbol = Symbol("weft.priorityOf");

/** What {@linkcode QUEUE_ORDER} holds. */
export interface QueueOrder {
  readonly kind: QueueKind;
  readonly name: string;
}

/** Shared by the three queue classes' async iterators. */
export async function* iterate<T>(
  queue: { get(): Promise<T>; taskDone(): void },
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    let item: T;
    try {
      item = await queue.get();
    } catch (error) {
      if (error instanceof QueueClosed) return;
      throw error;
    }
    try {
      yield item;
    } finally {
      queue.taskDone();
    }
  }
}
