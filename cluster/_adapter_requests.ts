// The request/response layer under both Socket.IO Redis buses (the classic
// pub/sub one of `redis_adapter.ts` and the streams one of
// `_adapter_streams.ts`): a node asks the others (fetchSockets, sockets,
// allRooms, serverSideEmit), waits for one answer per other node within a
// deadline, and answers theirs the same way. The buses differ only in
// channels and encodings, which they pass in.
import { type AdapterTarget, type SocketInfo, tuple } from "../net/mod.ts";
import {
  type _RichHost,
  _strings,
  _target,
  _timeoutError,
} from "./_adapter_protocol.ts";

type Data = Record<string, unknown>;

interface Pending {
  what: string;
  expected: number;
  got: number;
  collect(answer: Data): void;
  finish(): void;
  fail(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** `promise` (a node count from Redis), or a TimeoutError after `ms`. */
export function _within<T>(what: string, ms: number, promise: Promise<T>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(
        `Cannot ${what}: Redis did not answer within ${ms} ms`,
      );
      error.name = "TimeoutError";
      reject(error);
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The requests one adapter has sent and not seen all answers to. */
export class _Requests {
  #pending = new Map<string, Pending>();
  #closed = false;

  /** True for the id of a request this node sent (its own, echoed back). */
  has(requestId: string): boolean {
    return this.#pending.has(requestId);
  }

  /**
   * Counts the nodes (`count`, bounded by `ms`), sends the request under a
   * fresh id (`send`) and passes each answer to `collect` until every other
   * node answered; rejects with a TimeoutError when `ms` passed first.
   */
  async ask(
    what: string,
    ms: number,
    count: () => Promise<number>,
    requestId: string,
    send: () => Promise<void>,
    collect: (answer: Data) => void,
  ): Promise<void> {
    if (this.#closed) {
      throw new TypeError(`Cannot ${what}: the adapter is closed`);
    }
    const start = Date.now();
    const expected = (await _within(what, ms, count())) - 1;
    if (expected <= 0) return;
    const left = Math.max(1, ms - (Date.now() - start));
    await new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        what,
        expected,
        got: 0,
        collect,
        finish: resolve,
        fail: reject,
        timer: setTimeout(() => {
          this.#pending.delete(requestId);
          reject(_timeoutError(what, ms, pending.got, expected));
        }, left),
      };
      this.#pending.set(requestId, pending);
      send().catch((error) => {
        clearTimeout(pending.timer);
        this.#pending.delete(requestId);
        reject(error);
      });
    });
  }

  /** One answer to request `requestId` (ignored when it is not ours). */
  answer(requestId: string, answer: Data): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    pending.collect(answer);
    if (++pending.got < pending.expected) return;
    clearTimeout(pending.timer);
    this.#pending.delete(requestId);
    pending.finish();
  }

  /** Rejects every request still waiting: the adapter is closed. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.fail(new TypeError(`Cannot ${p.what}: the adapter is closed`));
    }
    this.#pending.clear();
  }
}

/** A target as it goes on the wire: `{rooms, except}` as arrays. */
export function _wireTarget(
  target: AdapterTarget,
): { rooms: string[]; except: string[] } {
  return { rooms: [...target.rooms], except: [...target.except] };
}

/** The sockets of a fetchSockets answer, appended to `out`. */
export function _collectSockets(out: SocketInfo[], sockets: unknown): void {
  if (!Array.isArray(sockets)) return;
  for (const s of sockets) {
    if (typeof s !== "object" || s === null) continue;
    const r = s as Data;
    out.push({
      ...r,
      id: String(r.id),
      rooms: _strings(r.rooms),
      data:
        (typeof r.data === "object" && r.data !== null ? r.data : {}) as Data,
    });
  }
}

/** This node's sockets as a fetchSockets answer (socket.io's shape). */
export function _socketAnswers(host: _RichHost, infos: SocketInfo[]): Data[] {
  return infos.map((info) => ({
    id: info.id,
    handshake: _handshake(host, info.id),
    rooms: info.rooms,
    data: info.data,
  }));
}

/**
 * Runs a broadcast with acknowledgements from another node on this node's
 * sockets: tells the requester how many clients it reached (`count`), then
 * passes each client's answer to `ack` (a client that does not answer in
 * time is left to the requester's own timeout).
 */
export function _broadcastWithAck(
  host: _RichHost,
  localSids: (target: AdapterTarget) => Set<string>,
  opts: unknown,
  args: unknown[],
  count: (clients: number) => void,
  ack: (answer: unknown) => void,
): void {
  const o = (typeof opts === "object" && opts !== null ? opts : {}) as Data;
  const flags = (o.flags ?? {}) as Data;
  const timeout = typeof flags.timeout === "number" ? flags.timeout : 5000;
  const sids = typeof host.call === "function" && args.length > 0
    ? [...localSids(_target(o))]
    : [];
  count(sids.length);
  for (const sid of sids) {
    host.call!(String(args[0]), tuple(...args.slice(1)), {
      to: sid,
      timeout,
      raw: true,
    }).then((answer) => ack((answer as unknown[])[0]), () => {});
  }
}

/** socket.io's `handshake` shape for a weft socket (fetchSockets answers). */
export function _handshake(host: _RichHost, sid: string): Data {
  const env = host.environ?.(sid);
  if (!env) return {};
  const url = new URL(env.url);
  return {
    headers: Object.fromEntries(env.headers),
    time: env.time.toString(),
    address: env.remoteAddr.hostname,
    xdomain: env.headers.has("origin"),
    secure: url.protocol === "https:",
    issued: env.time.getTime(),
    url: url.pathname + url.search,
    query: Object.fromEntries(env.query),
    auth: {},
  };
}
