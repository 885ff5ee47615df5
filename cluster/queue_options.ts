/**
 * Options and value types of the cluster queues (`Queue` and its subclasses).
 *
 * @module
 */

/** Options of `Queue.connect()` (and of the other queue classes). */
export interface QueueConnectOptions {
  /** The queue's name: every handle with the same name (and `prefix`) shares it. */
  name: string;
  /**
   * Most items waiting (not counting leased ones), across all producers; 0 = no bound (default).
   *
   * @default {0}
   */
  maxsize?: number;
  /**
   * Milliseconds a `get()` leases an item before it is delivered again.
   *
   * @default {30000}
   */
  visibilityTimeout?: number;
  /**
   * Deliveries after which an item goes to the dead letters instead (default 5; 0 = never).
   *
   * @default {5}
   */
  maxDeliveries?: number;
  /**
   * Key prefix (default `"weft"`): keys are `<prefix>:q:{<name>}:<part>`.
   *
   * @default {"weft"}
   */
  prefix?: string;
  /**
   * Milliseconds a command keeps being retried while Redis is unreachable.
   *
   * @default {30000}
   */
  retryTimeout?: number;
  /**
   * Milliseconds the first connection keeps being tried before `connect` rejects.
   *
   * @default {5000}
   */
  connectTimeout?: number;
}

/** Options of a waiting queue operation. */
export interface ClusterWaitOptions {
  /** Milliseconds to wait; then `get` throws `QueueEmpty`, `put` `QueueFull`, `join` resolves `false`. */
  timeout?: number;
  /** Cancels the wait (rejects with `signal.reason`). */
  signal?: AbortSignal;
}

/** An item taken with `Queue.getTask()`: explicit acknowledgement. */
export interface ClusterTask<T> {
  /** The item's id in this queue (16 hex digits, in put order). */
  readonly id: string;
  /** The item. */
  readonly value: T;
  /** This delivery's lease token (changes with every delivery). */
  readonly token: string;
  /** How many times the item was delivered, this one included. */
  readonly deliveries: number;
  /** Marks the item done (`LeaseLost` if the lease expired meanwhile). */
  ack(): Promise<void>;
  /** Extends the lease by `ms` (default: the queue's `visibilityTimeout`). */
  touch(ms?: number): Promise<void>;
  /** Gives the item back now (it counts as a delivery). */
  release(): Promise<void>;
}

/** One entry of `Queue.deadLetters()`. */
export interface DeadLetter<T> {
  /** The item's id. */
  id: string;
  /** The item. */
  value: T;
  /** Deliveries it had. */
  deliveries: number;
}

/** How a queue orders its items (chosen by the class: `Queue`, `LifoQueue`, `PriorityQueue`). */
export type QueueOrder = "fifo" | "lifo" | "priority";
