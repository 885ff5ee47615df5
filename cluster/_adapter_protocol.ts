// The classic `@socket.io/redis-adapter` (8.x) bus, as a weft node speaks
// it. Per namespace `nsp` and `key` (default "socket.io"):
//
// | channel                       | how          | payload                                   |
// | ----------------------------- | ------------ | ----------------------------------------- |
// | `key#nsp#` / `key#nsp#room#`  | PSUBSCRIBE   | msgpack `[uid, packet, {rooms, except, flags}]` (room channel when exactly one room) |
// | `key-request#nsp#`            | SUBSCRIBE    | JSON (`{`-prefixed) or msgpack `{uid, requestId, type, ...}` |
// | `key-response#nsp#` (+`uid#`) | SUBSCRIBE    | JSON `{requestId, ...}`; BROADCAST_ACK msgpack |
//
// Request types and what a node answers (a node that leaves one unanswered
// stalls the requester until its timeout):
//
// | type                  | request fields                  | answer                               |
// | --------------------- | ------------------------------- | ------------------------------------ |
// | 0 SOCKETS             | rooms                           | `{requestId, sockets: [sid...]}`     |
// | 1 ALL_ROOMS           | -                               | `{requestId, rooms: [room...]}`      |
// | 2 REMOTE_JOIN         | opts + rooms, or sid + room     | none (opts form) / `{requestId}`     |
// | 3 REMOTE_LEAVE        | opts + rooms, or sid + room     | none (opts form) / `{requestId}`     |
// | 4 REMOTE_DISCONNECT   | opts + close, or sid + close    | none (opts form) / `{requestId}`     |
// | 5 REMOTE_FETCH        | opts                            | `{requestId, sockets: [{id, handshake, rooms, data}]}` |
// | 6 SERVER_SIDE_EMIT    | data `[event, ...args]` (+requestId: acked) | `{type: 6, requestId, data}` (one answer) |
// | 7 BROADCAST (acked)   | packet, opts (flags.timeout)    | `{type: 8, requestId, clientCount}` then one msgpack `{type: 9, requestId, packet}` per client ack |
//
// `serverCount()` is `PUBSUB NUMSUB key-request#nsp#`; a request waits for
// `serverCount() - 1` answers.
import type { AdapterHost } from "../net/mod.ts";
import { _decode } from "./_msgpack.ts";

export const _SOCKETS = 0;
export const _ALL_ROOMS = 1;
export const _REMOTE_JOIN = 2;
export const _REMOTE_LEAVE = 3;
export const _REMOTE_DISCONNECT = 4;
export const _REMOTE_FETCH = 5;
export const _SERVER_SIDE_EMIT = 6;
export const _BROADCAST = 7;
export const _BROADCAST_CLIENT_COUNT = 8;
export const _BROADCAST_ACK = 9;

/** Channel names of one namespace. */
export interface _Channels {
  broadcast: string;
  request: string;
  response: string;
  specificResponse: string;
}

export function _channels(key: string, nsp: string, uid: string): _Channels {
  const response = `${key}-response#${nsp}#`;
  return {
    broadcast: `${key}#${nsp}#`,
    request: `${key}-request#${nsp}#`,
    response,
    specificResponse: `${response}${uid}#`,
  };
}

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id like the Node adapter's `uid2(n)`. */
export function _uid(n = 6): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** A bus message (JSON when it starts with `{`, else msgpack) as an object. */
export function _parseMessage(
  bytes: Uint8Array,
): Record<string, unknown> | undefined {
  try {
    const value = bytes[0] === 0x7b
      ? JSON.parse(new TextDecoder().decode(bytes))
      : _decode(bytes);
    return typeof value === "object" && value !== null &&
        !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** The strings of a list from the wire (anything else dropped). */
export function _strings(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v) => typeof v === "string" || typeof v === "number")
    .map(String);
}

/** `{rooms, except}` of a request's `opts`. */
export function _target(
  opts: unknown,
): { rooms: Set<string>; except: Set<string> } {
  const o = (typeof opts === "object" && opts !== null ? opts : {}) as Record<
    string,
    unknown
  >;
  return {
    rooms: new Set(_strings(o.rooms)),
    except: new Set(_strings(o.except)),
  };
}

/** Error of a bus request that did not get all its answers in time. */
export function _timeoutError(
  what: string,
  ms: number,
  got: number,
  expected: number,
): Error {
  const error = new Error(
    `Cannot ${what}: timeout reached after ${ms} ms, ${got} of ${expected} node(s) answered`,
  );
  error.name = "TimeoutError";
  return error;
}

// Optional extras of weft's Namespace, used when present.
export interface _RichHost extends AdapterHost {
  call?(
    event: string,
    data: unknown,
    options: { to: string; timeout?: number; raw?: boolean },
  ): Promise<unknown>;
  environ?(sid: string): {
    url: string;
    query: URLSearchParams;
    headers: Headers;
    remoteAddr: { hostname: string };
    time: Date;
  } | undefined;
}

export function _checkOptions(
  options: { key?: unknown; requestsTimeout?: unknown },
): { key: string; timeout: number } {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot create Redis adapter: expected options");
  }
  const key = options.key ?? "socket.io";
  if (typeof key !== "string" || key === "" || /[*?[\]#]/.test(key)) {
    throw new TypeError(
      `Cannot create Redis adapter: invalid key ${JSON.stringify(key)}`,
    );
  }
  const timeout = options.requestsTimeout ?? 5000;
  if (
    typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0
  ) {
    throw new RangeError(
      "Cannot create Redis adapter: requestsTimeout must be a positive number of ms",
    );
  }
  return { key, timeout };
}
