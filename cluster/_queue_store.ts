// The Redis side of one cluster queue: its keys and checked options, and
// every step on its data (put, take, ack, renew, release, remove, give
// back, reap), each one Lua script from `_queue_scripts.ts`, with the
// waits around them (a full queue for put, an empty one for take, the
// unfinished count for join). `Queue` keeps the Python-shaped API on top.
import { QueueEmpty, QueueFull } from "../concurrency/queue_errors.ts";
import type { _Connection } from "./_connection.ts";
import { _decode } from "./_codec.ts";
import {
  _DONE,
  _GET,
  _KEY_NAMES,
  _PUT,
  _REAP,
  _RELEASE,
  _REMOVE,
  _TOUCH,
  _UNGET,
} from "./_queue_scripts.ts";
import { _waitFor } from "./_wait.ts";
import { LeaseLost } from "./lease_lost.ts";
import type {
  ClusterWaitOptions,
  DeadLetter,
  QueueConnectOptions,
  QueueOrder,
} from "./queue_options.ts";

/** A delivery as the GET script returns it: id, payload, token, deliveries. */
export type _Raw = [string, string, string, number];

/** A consumer loop of `tasks()`: the item its last ack took, if any. */
export interface _Stream {
  open: boolean;
  next?: _Raw;
}

/** Options of a put or take: wait (default) or fail at once. */
export type _StepOptions = ClusterWaitOptions & { block?: boolean };

/** The queue name, checked: it sits inside a `{hash tag}` of every key. */
export function _validName(what: string, name: unknown): string {
  if (typeof name !== "string" || name === "" || /[{}\s]/.test(name)) {
    throw new TypeError(
      `Cannot ${what}: "name" must be a non-empty string without braces or spaces, got ${
        String(name)
      }`,
    );
  }
  return name;
}

function count(
  what: string,
  field: string,
  value: unknown,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot ${what}: "${field}" must be an integer >= ${min}, got ${
        String(value)
      }`,
    );
  }
  return value;
}

function deadline(timeout: number | undefined): number {
  return timeout === undefined ? Infinity : Date.now() + Math.max(0, timeout);
}

let consumerSeq = 0;

export class _QueueStore {
  readonly conn: _Connection;
  readonly name: string;
  readonly maxsize: number;
  readonly visibility: number;
  readonly #keys: string[];
  readonly #channel: string;
  readonly #order: QueueOrder;
  readonly #maxDeliveries: number;
  /** This handle's id, recorded with each lease it takes. */
  readonly #consumer: string;

  constructor(
    conn: _Connection,
    options: QueueConnectOptions,
    order: QueueOrder,
  ) {
    const what = "connect queue";
    this.conn = conn;
    this.name = _validName(what, options.name);
    const base = `${options.prefix ?? "weft"}:q:{${this.name}}`;
    this.#keys = _KEY_NAMES.map((part) => `${base}:${part}`);
    this.#channel = `${base}:joined`;
    this.#order = order;
    this.maxsize = count(what, "maxsize", options.maxsize, 0, 0);
    this.visibility = count(
      what,
      "visibilityTimeout",
      options.visibilityTimeout,
      30_000,
      1,
    );
    this.#maxDeliveries = count(
      what,
      "maxDeliveries",
      options.maxDeliveries,
      5,
      0,
    );
    const rand = crypto.getRandomValues(new Uint8Array(6));
    this.#consumer = Array.from(rand, (b) => b.toString(16).padStart(2, "0"))
      .join("") + "-" + (++consumerSeq);
  }

  /**
   * Stores `payload` at `score` (ignored for LIFO), waiting while the queue
   * is full; resolves with the item's id. `meta` is a dead-letter notice
   * `"<list key>\n<message>"` (or "").
   */
  async put(
    payload: string,
    score: number,
    meta: string,
    options: _StepOptions = {},
  ): Promise<string> {
    const { signal } = options;
    signal?.throwIfAborted();
    const until = deadline(options.timeout);
    const lifo = this.#order === "lifo";
    for (;;) {
      const id = await this.conn.script(_PUT, this.#keys, [
        payload,
        lifo ? "0" : String(score),
        String(this.maxsize),
        meta,
        lifo ? "lifo" : "",
      ]) as string | null;
      if (id !== null) return id;
      const left = until - Date.now();
      if (options.block === false || left <= 0) {
        throw new QueueFull(
          `Cannot put item: the queue "${this.name}" is full (maxsize ${this.maxsize})`,
        );
      }
      // the "space" marker: popped by whoever frees a place
      await this.conn.blocking(
        [
          "BZPOPMIN",
          this.#keys[8],
          String(Math.max(1, Math.min(left, 1000)) / 1000),
        ],
        signal,
      );
    }
  }

  /** Leases the next item, waiting while the queue is empty. */
  async take(options: _StepOptions = {}): Promise<_Raw> {
    const { signal } = options;
    signal?.throwIfAborted();
    const until = deadline(options.timeout);
    for (;;) {
      const reply = await this.conn.script(_GET, this.#keys, [
        String(this.visibility),
        this.#consumer,
        String(this.#maxDeliveries),
        this.#channel,
      ]) as _Raw | number;
      if (Array.isArray(reply)) return reply;
      const left = until - Date.now();
      if (options.block === false || left <= 0) {
        throw new QueueEmpty(
          `Cannot get item: the queue "${this.name}" is empty`,
        );
      }
      // the "ready" marker, or the end of the first lease (`reply` ms)
      const wait = Math.max(1, Math.min(left, reply > 0 ? reply : 1000, 1000));
      await this.conn.blocking(
        ["BZPOPMIN", this.#keys[7], String(wait / 1000)],
        signal,
      );
    }
  }

  /**
   * Acknowledges a delivery; with `reply`, also pushes `reply[1]` to the
   * list `reply[0]` in the same step. Inside an open `stream` it also takes
   * the next item into `stream.next` (or gives it back when the loop ended).
   */
  async ack(
    id: string,
    token: string,
    reply?: [string, string],
    stream?: _Stream,
  ): Promise<void> {
    const prefetch = stream !== undefined && stream.open &&
      stream.next === undefined;
    const r = await this.conn.script(
      _DONE,
      reply ? [...this.#keys, reply[0]] : this.#keys,
      [
        id,
        token,
        this.#channel,
        reply ? reply[1] : "",
        String(this.visibility),
        this.#consumer,
        String(this.#maxDeliveries),
        prefetch ? "1" : "",
      ],
    ) as [number, string?, string?, string?, number?];
    if (r.length > 1 && stream) {
      const next = r.slice(1) as _Raw;
      if (stream.open && stream.next === undefined) stream.next = next;
      else await this.unget(next);
    }
    const left = Number(r[0]);
    if (left === -1) throw new LeaseLost();
    if (left === -2) {
      throw new LeaseLost(
        "Cannot acknowledge item: it is no longer in the queue (its lease expired and another consumer finished it)",
      );
    }
  }

  /** Gives back an item taken ahead by a consumer loop (not a delivery). */
  async unget(raw: _Raw): Promise<void> {
    await this.conn.script(_UNGET, this.#keys, [raw[0], raw[2]])
      .catch(() => {});
  }

  /** Extends a lease by `ms`. */
  async touch(id: string, token: string, ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 1) {
      throw new RangeError(`Cannot renew lease: "ms" must be >= 1, got ${ms}`);
    }
    const r = await this.conn.script(_TOUCH, this.#keys, [
      id,
      token,
      String(Math.round(ms)),
    ]);
    if (r === -1) {
      throw new LeaseLost(
        "Cannot renew lease: it expired and the item was delivered again",
      );
    }
  }

  /** Gives a delivery back now (it counts as a delivery). */
  async release(id: string, token: string): Promise<void> {
    const r = await this.conn.script(_RELEASE, this.#keys, [
      id,
      token,
      String(this.#maxDeliveries),
      this.#channel,
    ]);
    if (r === -1) {
      throw new LeaseLost(
        "Cannot release item: its lease expired and it was delivered again",
      );
    }
  }

  /** Removes a waiting item (not one already taken); true if it did. */
  async remove(id: string): Promise<boolean> {
    return Number(
      await this.conn.script(_REMOVE, this.#keys, [id, this.#channel]),
    ) === 1;
  }

  /** Items waiting or leased, after returning expired leases. */
  async unfinished(): Promise<number> {
    const [n] = await this.conn.script(_REAP, this.#keys, [
      String(this.#maxDeliveries),
      this.#channel,
    ]) as [number, number];
    return Number(n);
  }

  /** Waits until nothing is unfinished; false on timeout. */
  async join(options: ClusterWaitOptions = {}): Promise<boolean> {
    const r = await _waitFor(this.conn, this.#channel, async () => ({
      done: (await this.unfinished()) === 0,
    }), options);
    return r.done;
  }

  /** Number of waiting items. */
  async qsize(): Promise<number> {
    return Number(await this.conn.command(["ZCARD", this.#keys[0]]));
  }

  /** The dead letters, oldest first. */
  async deadLetters<T>(): Promise<DeadLetter<T>[]> {
    const raw = await this.conn.command(
      ["LRANGE", this.#keys[9], "0", "-1"],
    ) as string[];
    return raw.map((text) => {
      const entry = JSON.parse(text) as {
        id: string;
        item: string;
        deliveries: number;
      };
      return {
        id: entry.id,
        value: _decode<T>(entry.item),
        deliveries: entry.deliveries,
      };
    });
  }

  /** Deletes every key of the queue. */
  async clear(): Promise<void> {
    await this.conn.command(["DEL", ...this.#keys]);
  }
}
