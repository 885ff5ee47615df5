// Messages of the distributed Pool. A task goes through the queue
// `<prefix>:q:{pool:<name>}` (the cluster Queue's data model and leases);
// its result comes back on the client's reply list
// `<prefix>:q:{pool:<name>}:reply:<client>` (RPUSHed by the worker in the
// same Lua step as its ack, so a worker whose lease expired cannot answer;
// BLPOP + LPOP by the client; expiring after an hour so a dead client
// leaves nothing). A cancelled task still waiting is removed from the
// queue; a running one is told on the channel `<prefix>:q:{pool:<name>}:cancel`
// (a task taken at the very moment of its cancellation may still run; its
// result is then ignored).
import { Queue } from "./queue.ts";
import type { ClusterTask, QueueConnectOptions } from "./queue_options.ts";
import type { _Connection } from "./_connection.ts";

/** A task on the wire. */
export interface _TaskMessage {
  /** module, as given by the client (must match the worker's). */
  m: string;
  /** exported function name */
  f: string;
  /** arguments (mode 0) or the chunk of items (modes 1, 2) */
  a: unknown[];
  /** 0 apply, 1 map chunk, 2 starmap chunk */
  k: 0 | 1 | 2;
  /** reply list key */
  r: string;
  /** task id, unique per client: "<client>:<n>" */
  t: string;
  /** deadline (epoch ms) or 0 */
  d: number;
}

/** A reply on the wire (encoded with _codec); a dead letter is "D<task id>". */
export interface _Reply {
  t: string;
  ok: boolean;
  v: unknown;
}

export function _poolKeys(prefix: string, name: string) {
  // Same hash tag as the task queue's keys: one Redis Cluster slot.
  const base = `${prefix}:q:{pool:${name}}`;
  return {
    queue: `pool:${name}`,
    reply: (client: string) => `${base}:reply:${client}`,
    cancel: `${base}:cancel`,
  };
}

/** The Pool's task queue: a cluster Queue opened on an existing connection. */
export class _TaskQueue extends Queue<_TaskMessage> {
  static attach(conn: _Connection, options: QueueConnectOptions): _TaskQueue {
    return new _TaskQueue(conn, options, "fifo");
  }
  /** put with a dead-letter notice pushed to `replyKey` */
  send(task: _TaskMessage): Promise<string> {
    return this._put(task, { meta: `${task.r}\nD${task.t}` });
  }
  /** removes a task nobody took yet */
  remove(id: string): Promise<boolean> {
    return this._remove(id);
  }
  /** ack + reply in one step (refused with LeaseLost for a stale lease) */
  answer(task: ClusterTask<_TaskMessage>, reply: string): Promise<void> {
    return this._ackWithReply(task, [task.value.r, reply]);
  }
}

export function _moduleId(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      `Cannot create Pool: "module" must be a URL or a non-empty string, got ${
        String(module)
      }`,
    );
  }
  return module;
}

/** An error as it crosses the wire: name and message, no stack or paths. */
export function _wireError(error: unknown): { name: string; message: string } {
  if (error instanceof Error || error instanceof DOMException) {
    return { name: error.name, message: error.message };
  }
  return { name: "Error", message: String(error) };
}
