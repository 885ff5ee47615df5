// The `@socket.io/redis-streams-adapter` (0.3.x) bus, as a weft node speaks
// it: socket.io-adapter's ClusterAdapter messages `{uid, nsp, type, data}`.
//
// | what                                   | where                                   | encoding |
// | -------------------------------------- | --------------------------------------- | -------- |
// | BROADCAST 3 (no ack), SOCKETS_JOIN 4, SOCKETS_LEAVE 5, DISCONNECT_SOCKETS 6 | `XADD key MAXLEN ~ 10000 * uid U nsp N type "3" data D`, read by every node with `XREAD BLOCK` | D: JSON, or base64(msgpack) when binary |
// | BROADCAST 3 with requestId, FETCH_SOCKETS 7, SERVER_SIDE_EMIT 9 | `PUBLISH key#nsp#`                   | msgpack of the whole message |
// | responses 8, 10, 11, 12                | `PUBLISH key#nsp#<requester uid>#`      | msgpack |
//
// `serverCount()` is `PUBSUB NUMSUB key#nsp#`. The stream is read from its
// last entry when the adapter starts (like the Node adapter's `$`).
import { Buffer } from "node:buffer";
import {
  type AdapterHost,
  type AdapterPacket,
  type AdapterTarget,
  InMemoryAdapter,
  type SocketInfo,
} from "../net/mod.ts";
import { _Bus, _buses } from "./_adapter_bus.ts";
import {
  _checkOptions,
  type _RichHost,
  _strings,
  _target,
} from "./_adapter_protocol.ts";
import {
  _broadcastWithAck,
  _collectSockets,
  _Requests,
  _socketAnswers,
  _wireTarget,
  _within,
} from "./_adapter_requests.ts";
import { _decode, _encode } from "./_msgpack.ts";
import type { RedisClientLike } from "./redis_client.ts";

const BROADCAST = 3;
const SOCKETS_JOIN = 4;
const SOCKETS_LEAVE = 5;
const DISCONNECT_SOCKETS = 6;
const FETCH_SOCKETS = 7;
const FETCH_SOCKETS_RESPONSE = 8;
const SERVER_SIDE_EMIT = 9;
const SERVER_SIDE_EMIT_RESPONSE = 10;
const BROADCAST_CLIENT_COUNT = 11;
const BROADCAST_ACK = 12;
const MAX_LEN = "10000";

type Message = { uid?: unknown; nsp?: unknown; type: number; data?: unknown };
type Data = Record<string, unknown>;

function hasBinary(value: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  if (ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some((v) => hasBinary(v, depth + 1));
  }
  return false;
}

function encodeData(data: unknown): string {
  return hasBinary(data)
    ? Buffer.from(_encode(data)).toString("base64")
    : JSON.stringify(data);
}

function decodeData(text: string): unknown {
  if (text.startsWith("{")) return JSON.parse(text);
  return _decode(Buffer.from(text, "base64"));
}

/** The XADD command of one stream entry (the Node adapter's field layout). */
export function _xadd(
  stream: string,
  uid: string,
  nsp: string,
  type: number,
  data: unknown,
): string[] {
  return [
    "XADD",
    stream,
    "MAXLEN",
    "~",
    MAX_LEN,
    "*",
    "uid",
    uid,
    "nsp",
    nsp,
    "type",
    String(type),
    "data",
    encodeData(data),
  ];
}

/** Stream entries of an XREAD reply (RESP2 arrays or RESP3 maps). */
function entries(reply: unknown): [string, string[]][] {
  if (reply === null || typeof reply !== "object") return [];
  const streams = Array.isArray(reply)
    ? reply.map((s) => (s as unknown[])[1])
    : Object.values(reply as Record<string, unknown>);
  const out: [string, string[]][] = [];
  for (const list of streams) {
    if (!Array.isArray(list)) continue;
    for (const e of list) {
      if (Array.isArray(e) && Array.isArray(e[1])) {
        out.push([String(e[0]), (e[1] as unknown[]).map(String)]);
      }
    }
  }
  return out;
}

function hexId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * A namespace's adapter on `@socket.io/redis-streams-adapter`'s bus (made
 * by `redisAdapter({ protocol: "socket.io-streams" })`): broadcasts and
 * room changes go through a Redis stream, so a node cut from Redis for a
 * moment reads what it missed when it reconnects (pub/sub would lose it);
 * requests (fetchSockets, serverSideEmit) use pub/sub and time out like
 * {@linkcode RedisAdapter}'s. `allRooms()` and `sockets()` are answered
 * from `fetchSockets()` (the streams protocol has no request of their own).
 *
 * @example One node on the streams bus
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveEvents } from "@weft/weft/net";
 * import { redisAdapter, RedisServer, type RedisStreamsAdapter } from "@weft/weft/cluster";
 *
 * await using redis = await RedisServer.start();
 * await using server = serveEvents({
 *   adapter: redisAdapter({ url: redis.url, protocol: "socket.io-streams" }),
 * });
 * await (server.of("/").adapter as RedisStreamsAdapter).ready;
 * assert.equal(await server.of("/").adapter.serverCount(), 1);
 * ```
 */
export class RedisStreamsAdapter extends InMemoryAdapter {
  /** This node's id on the bus (16 hex digits, like socket.io-adapter's). */
  readonly uid: string = hexId();
  /** Resolves once this node listens on the bus and reads the stream. */
  readonly ready: Promise<void>;
  #bus: _Bus;
  #stream: string;
  #public: string;
  #prefix: string;
  #timeout: number;
  #requests = new _Requests();
  #reader: RedisClientLike | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #polling: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Usually made by `redisAdapter({ protocol: "socket.io-streams" })`.
   *
   * @param host The namespace.
   * @param options Where Redis is, the stream / channel prefix (`key`), the requests' deadline.
   */
  constructor(
    host: AdapterHost,
    options: {
      url?: string | URL;
      client?: RedisClientLike;
      key?: string;
      requestsTimeout?: number;
    },
  ) {
    super(host);
    const { key, timeout } = _checkOptions(options);
    const bus = _buses.get(options) ??
      new _Bus(options, "create Redis adapter");
    this.#bus = bus;
    this.#stream = key;
    this.#prefix = `${key}#${host.name}#`;
    this.#public = this.#prefix;
    this.#timeout = timeout;
    bus.ref();
    this.ready = this.#start();
    this.ready.catch(() => {});
  }

  async #start(): Promise<void> {
    const unlisten = await this.#bus.listen(
      undefined,
      [this.#public, `${this.#prefix}${this.uid}#`],
      (_channel, bytes) => this.#onPubSub(bytes),
    );
    if (this.#closed) return void unlisten();
    this.#unlisten = unlisten;
    const last = await this.#bus.command([
      "XREVRANGE",
      this.#stream,
      "+",
      "-",
      "COUNT",
      "1",
    ]) as unknown[];
    const offset = Array.isArray(last?.[0])
      ? String((last[0] as unknown[])[0])
      : "0-0";
    this.#reader = await this.#bus.reader();
    if (this.#closed) return void this.#reader.destroy();
    this.#polling = this.#poll(this.#reader, offset);
  }

  async #poll(reader: RedisClientLike, offset: string): Promise<void> {
    while (!this.#closed) {
      let reply: unknown;
      try {
        reply = await reader.sendCommand([
          "XREAD",
          "BLOCK",
          "5000",
          "COUNT",
          "100",
          "STREAMS",
          this.#stream,
          offset,
        ]);
      } catch (error) {
        if (this.#closed) return;
        this.#bus.lastError = error;
        await new Promise((r) => setTimeout(r, 200)); // Redis away: retry
        continue;
      }
      for (const [id, fields] of entries(reply)) {
        offset = id;
        const raw: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) {
          raw[fields[i]] = fields[i + 1];
        }
        if (raw.nsp !== this.host.name || raw.uid === this.uid) continue;
        try {
          const data = raw.data === undefined
            ? undefined
            : decodeData(raw.data);
          this.#dispatch({ uid: raw.uid, type: Number(raw.type), data });
        } catch (error) {
          this.#bus.lastError = error; // malformed entry: skipped
        }
      }
    }
  }

  #onPubSub(bytes: Uint8Array): void {
    if (this.#closed) return;
    let m: unknown;
    try {
      m = _decode(bytes);
    } catch {
      return;
    }
    if (typeof m !== "object" || m === null) return;
    const msg = m as Message;
    if (msg.nsp !== this.host.name || msg.uid === this.uid) return;
    this.#dispatch(msg);
  }

  #dispatch(msg: Message): void {
    const data =
      (typeof msg.data === "object" && msg.data !== null
        ? msg.data
        : {}) as Data;
    switch (msg.type) {
      case BROADCAST: {
        const packet = data.packet as Data | undefined;
        if (!packet || !Array.isArray(packet.data)) return;
        if (data.requestId !== undefined) {
          return this.#broadcastWithAck(String(msg.uid), data, packet.data);
        }
        return super.broadcast(
          {
            type: Number(packet.type ?? 2),
            nsp: this.host.name,
            data: packet.data,
          },
          _target(data.opts),
        );
      }
      case SOCKETS_JOIN:
        return super.addSockets(_target(data.opts), _strings(data.rooms));
      case SOCKETS_LEAVE:
        return super.delSockets(_target(data.opts), _strings(data.rooms));
      case DISCONNECT_SOCKETS:
        return super.disconnectSockets(_target(data.opts), data.close === true);
      case FETCH_SOCKETS:
        void super.fetchSockets(_target(data.opts)).then((infos) =>
          this.#respond(String(msg.uid), FETCH_SOCKETS_RESPONSE, {
            requestId: data.requestId,
            sockets: _socketAnswers(this.host as _RichHost, infos),
          })
        );
        return;
      case SERVER_SIDE_EMIT: {
        const packet = Array.isArray(data.packet) ? data.packet : [];
        if (packet.length === 0) return;
        void this.host.runServerSideEmit(packet).then((answers) => {
          if (data.requestId === undefined) return;
          this.#respond(String(msg.uid), SERVER_SIDE_EMIT_RESPONSE, {
            requestId: data.requestId,
            packet: answers.length <= 1 ? answers[0] : answers,
          });
        });
        return;
      }
      case FETCH_SOCKETS_RESPONSE:
      case SERVER_SIDE_EMIT_RESPONSE:
        return this.#requests.answer(String(data.requestId), data);
    }
  }

  #broadcastWithAck(requester: string, data: Data, args: unknown[]): void {
    const { requestId } = data;
    _broadcastWithAck(
      this.host as _RichHost,
      (target) => this.localSids(target),
      data.opts,
      args,
      (clientCount) =>
        this.#respond(requester, BROADCAST_CLIENT_COUNT, {
          requestId,
          clientCount,
        }),
      (packet) =>
        this.#respond(requester, BROADCAST_ACK, { requestId, packet }),
    );
  }

  #respond(uid: string, type: number, data: Data): void {
    if (this.#closed) return;
    const msg = { uid: this.uid, nsp: this.host.name, type, data };
    this.#bus.publish(`${this.#prefix}${uid}#`, _encode(msg))
      .catch((e) => this.#bus.lastError = e);
  }

  #append(type: number, data: unknown): void {
    if (this.#closed) return;
    this.#bus.command(
      _xadd(this.#stream, this.uid, this.host.name, type, data),
    ).catch((e) => this.#bus.lastError = e);
  }

  /** Sends `packet` to the target's sockets on every node (through the stream). */
  override broadcast(packet: AdapterPacket, target: AdapterTarget): void {
    this.#append(BROADCAST, {
      packet: { type: packet.type, data: packet.data, nsp: this.host.name },
      opts: { ..._wireTarget(target), flags: {} },
    });
    super.broadcast(packet, target);
  }

  /** Makes the target's sockets join `rooms`, on every node. */
  override addSockets(target: AdapterTarget, rooms: string[]): void {
    super.addSockets(target, rooms);
    this.#append(SOCKETS_JOIN, {
      opts: _wireTarget(target),
      rooms,
    });
  }

  /** Makes the target's sockets leave `rooms`, on every node. */
  override delSockets(target: AdapterTarget, rooms: string[]): void {
    super.delSockets(target, rooms);
    this.#append(SOCKETS_LEAVE, {
      opts: _wireTarget(target),
      rooms,
    });
  }

  /** Disconnects the target's sockets, on every node. */
  override disconnectSockets(target: AdapterTarget, close: boolean): void {
    super.disconnectSockets(target, close);
    this.#append(DISCONNECT_SOCKETS, {
      opts: _wireTarget(target),
      close,
    });
  }

  /** Number of nodes on the bus (`PUBSUB NUMSUB key#nsp#`). */
  override serverCount(): Promise<number> {
    return this.#nodes("count servers", this.#timeout);
  }

  #nodes(what: string, ms: number): Promise<number> {
    return _within(
      what,
      ms,
      this.ready.then(() => this.#bus.numsub(this.#public)),
    );
  }

  /** The target's sockets on every node. */
  override async fetchSockets(target: AdapterTarget): Promise<SocketInfo[]> {
    const out = await super.fetchSockets(target);
    await this.#ask(
      "fetch sockets",
      FETCH_SOCKETS,
      {
        opts: _wireTarget(target),
      },
      this.#timeout,
      (data) => _collectSockets(out, data.sockets),
    );
    return out;
  }

  /** Sids of the rooms' sockets on every node (from `fetchSockets`). */
  override async sockets(rooms: ReadonlySet<string>): Promise<Set<string>> {
    const all = await this.fetchSockets({ rooms, except: new Set() });
    return new Set(all.map((s) => s.id));
  }

  /** Rooms with members on any node (from `fetchSockets`). */
  override async allRooms(): Promise<Set<string>> {
    const all = await this.fetchSockets({
      rooms: new Set(),
      except: new Set(),
    });
    return new Set(all.flatMap((s) => s.rooms));
  }

  /** Runs `[event, ...args]` on the other nodes' handlers; one answer per node. */
  override async serverSideEmit(
    args: unknown[],
    timeout: number,
  ): Promise<unknown[]> {
    const answers: unknown[] = [];
    await this.#ask(
      "emit to other servers",
      SERVER_SIDE_EMIT,
      { packet: args },
      timeout,
      (data) => answers.push(data.packet),
    );
    return answers;
  }

  #ask(
    what: string,
    type: number,
    body: Data,
    ms: number,
    collect: (data: Data) => void,
  ): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(`Cannot ${what}: the adapter is closed`),
      );
    }
    const requestId = hexId();
    const msg = {
      uid: this.uid,
      nsp: this.host.name,
      type,
      data: { ...body, requestId },
    };
    return this.#requests.ask(
      what,
      ms,
      () => this.#nodes(what, ms),
      requestId,
      () => this.#bus.publish(this.#public, _encode(msg)),
      collect,
    );
  }

  /** Leaves the bus (the last namespace closes the Redis connections it opened). */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#requests.close();
    try {
      this.#reader?.destroy();
    } catch {
      // already closed
    }
    await this.#polling.catch(() => {});
    await this.#unlisten?.();
    await this.#bus.close();
  }
}
