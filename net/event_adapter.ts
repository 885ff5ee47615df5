/**
 * Rooms and broadcasts of one namespace, behind an interface shaped like
 * Socket.IO's `Adapter` (socket.io-adapter): the in-memory
 * {@linkcode InMemoryAdapter} is the default; a multi-node adapter (e.g. on
 * Socket.IO's Redis bus) implements the same methods and routes what other
 * nodes ask for through the namespace's {@linkcode AdapterHost} side.
 *
 * @module
 */

/**
 * Event names a program cannot emit: Socket.IO reserves them for its own
 * life-cycle events (the server, the client and emitters all refuse them).
 *
 * @example Check a name before emitting it
 * ```ts
 * import assert from "node:assert/strict";
 * import { RESERVED_EVENTS } from "@weft/weft/net";
 *
 * assert.ok(RESERVED_EVENTS.has("disconnect"));
 * assert.ok(!RESERVED_EVENTS.has("chat"));
 * ```
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/**
 * A Socket.IO packet as adapters pass it around (socket.io-parser's shape):
 * `type` 2 EVENT, `data` `[event, ...args]`.
 *
 * @example An EVENT packet on the main namespace
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdapterPacket } from "@weft/weft/net";
 *
 * const packet: AdapterPacket = { type: 2, nsp: "/", data: ["news", 1] };
 * assert.equal(packet.data[0], "news");
 * ```
 */
export interface AdapterPacket {
  /** Socket.IO packet type (2 = EVENT). */
  type: number;
  /** Namespace name. */
  nsp: string;
  /** `[event, ...args]`. */
  data: unknown[];
}

/**
 * Whom a broadcast reaches: members of any of `rooms` (all sockets when
 * empty), minus members of any room in `except` (a sid is its own room).
 *
 * @example A room, minus one socket
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdapterTarget } from "@weft/weft/net";
 *
 * const target: AdapterTarget = { rooms: new Set(["lobby"]), except: new Set(["sid1"]) };
 * assert.equal(target.rooms.has("lobby"), true);
 * ```
 */
export interface AdapterTarget {
  /** Rooms to reach; empty: every socket of the namespace. */
  rooms: ReadonlySet<string>;
  /** Rooms (or sids) to leave out. */
  except: ReadonlySet<string>;
}

/**
 * What `fetchSockets` returns for each socket (Socket.IO's remote socket
 * shape, minus methods).
 *
 * @example A socket in its own room and `lobby`
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SocketInfo } from "@weft/weft/net";
 *
 * const info: SocketInfo = { id: "abc", rooms: ["abc", "lobby"], data: {} };
 * assert.equal(info.rooms.length, 2);
 * ```
 */
export interface SocketInfo {
  /** The socket's sid. */
  id: string;
  /** Its rooms (its own sid first). */
  rooms: string[];
  /** Its session data. */
  data: Record<string, unknown>;
}

/**
 * The namespace side an adapter calls: local delivery, local socket
 * information and handlers, for its own broadcasts and for requests routed
 * from other nodes.
 *
 * @example Every namespace is an adapter host
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * const host = server.of("/"); // a Namespace is an AdapterHost
 * assert.equal(host.name, "/");
 * ```
 */
export interface AdapterHost {
  /** Namespace name. */
  readonly name: string;
  /** Sends `packet` to these local sids (encoded once); returns how many got it. */
  deliver(packet: AdapterPacket, sids: Iterable<string>): number;
  /** Information about a local socket, or `undefined`. */
  socketInfo(sid: string): SocketInfo | undefined;
  /** Disconnects a local socket (from this namespace, or the whole connection with `close`). */
  disconnectLocal(sid: string, close: boolean): void;
  /** Runs this node's `serverSideEmit` handlers; resolves with their answers. */
  runServerSideEmit(args: unknown[]): Promise<unknown[]>;
}

/**
 * The adapter interface (Socket.IO's `Adapter`, with promises where a
 * multi-node adapter must ask other nodes).
 *
 * @example A custom adapter that logs broadcasts
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AdapterHost, InMemoryAdapter, serveEvents } from "@weft/weft/net";
 *
 * const seen: string[] = [];
 * class LoggingAdapter extends InMemoryAdapter {
 *   override broadcast(...args: Parameters<InMemoryAdapter["broadcast"]>) {
 *     seen.push(String(args[0].data[0]));
 *     super.broadcast(...args);
 *   }
 * }
 * await using server = serveEvents({ adapter: (host: AdapterHost) => new LoggingAdapter(host) });
 * server.emit("news", "hi");
 * assert.deepEqual(seen, ["news"]);
 * ```
 */
export interface EventAdapter {
  /** Adds `sid` to `rooms`. */
  addAll(sid: string, rooms: Iterable<string>): void | Promise<void>;
  /** Removes `sid` from `room`. */
  del(sid: string, room: string): void | Promise<void>;
  /** Removes `sid` from every room. */
  delAll(sid: string): void | Promise<void>;
  /** Sends `packet` to the target, on every node. */
  broadcast(packet: AdapterPacket, target: AdapterTarget): void;
  /** Sids of the target's sockets (every node). */
  sockets(rooms: ReadonlySet<string>): Promise<Set<string>>;
  /** Rooms of a local socket. */
  socketRooms(sid: string): ReadonlySet<string> | undefined;
  /** Room names with at least one local member. */
  allRooms(): Promise<Set<string>>;
  /** The target's sockets, on every node. */
  fetchSockets(target: AdapterTarget): Promise<SocketInfo[]>;
  /** Makes the target's sockets join `rooms`, on every node. */
  addSockets(target: AdapterTarget, rooms: string[]): void | Promise<void>;
  /** Makes the target's sockets leave `rooms`, on every node. */
  delSockets(target: AdapterTarget, rooms: string[]): void | Promise<void>;
  /** Disconnects the target's sockets, on every node. */
  disconnectSockets(
    target: AdapterTarget,
    close: boolean,
  ): void | Promise<void>;
  /** Sends `[event, ...args]` to the other nodes' handlers; resolves with their answers. */
  serverSideEmit(args: unknown[], timeout: number): Promise<unknown[]>;
  /** Number of nodes (1 for the in-memory adapter). */
  serverCount(): Promise<number>;
  /** Called when the server shuts down. */
  close(): void | Promise<void>;
}

/**
 * The default adapter: rooms in this process's memory (Socket.IO's
 * in-memory `Adapter`).
 *
 * @example Finding the sockets of a room
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectEvents, serveEvents } from "@weft/weft/net";
 *
 * await using server = serveEvents();
 * server.on("connect", (sid) => server.enterRoom(sid, "lobby"));
 * await using client = await connectEvents(server.url);
 * const [info] = await server.of("/").adapter.fetchSockets({
 *   rooms: new Set(["lobby"]),
 *   except: new Set(),
 * });
 * assert.equal(info.id, client.sid);
 * ```
 */
export class InMemoryAdapter implements EventAdapter {
  /** The namespace this adapter serves. */
  readonly host: AdapterHost;
  /** Members of each room. */
  readonly rooms: Map<string, Set<string>> = new Map();
  /** Rooms of each socket. */
  readonly sids: Map<string, Set<string>> = new Map();

  /**
   * Creates the adapter for a namespace.
   *
   * @param host The namespace.
   */
  constructor(host: AdapterHost) {
    this.host = host;
  }

  /** Adds `sid` to `rooms`. */
  addAll(sid: string, rooms: Iterable<string>): void {
    let mine = this.sids.get(sid);
    if (!mine) this.sids.set(sid, mine = new Set());
    for (const room of rooms) {
      mine.add(room);
      let members = this.rooms.get(room);
      if (!members) this.rooms.set(room, members = new Set());
      members.add(sid);
    }
  }

  /** Removes `sid` from `room`. */
  del(sid: string, room: string): void {
    this.sids.get(sid)?.delete(room);
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(sid);
    if (members.size === 0) this.rooms.delete(room);
  }

  /** Removes `sid` from every room. */
  delAll(sid: string): void {
    const mine = this.sids.get(sid);
    if (!mine) return;
    for (const room of mine) {
      const members = this.rooms.get(room);
      members?.delete(sid);
      if (members?.size === 0) this.rooms.delete(room);
    }
    this.sids.delete(sid);
  }

  /** Local sids of a target. */
  localSids(target: AdapterTarget): Set<string> {
    const out = new Set<string>();
    const excluded = new Set<string>();
    for (const room of target.except) {
      for (const sid of this.rooms.get(room) ?? []) excluded.add(sid);
    }
    if (target.rooms.size === 0) {
      for (const sid of this.sids.keys()) if (!excluded.has(sid)) out.add(sid);
      return out;
    }
    for (const room of target.rooms) {
      for (const sid of this.rooms.get(room) ?? []) {
        if (!excluded.has(sid)) out.add(sid);
      }
    }
    return out;
  }

  /** Sends `packet` to the target's local sockets. */
  broadcast(packet: AdapterPacket, target: AdapterTarget): void {
    this.host.deliver(packet, this.localSids(target));
  }

  /** Sids of the target's sockets. */
  sockets(rooms: ReadonlySet<string>): Promise<Set<string>> {
    return Promise.resolve(this.localSids({ rooms, except: new Set() }));
  }

  /** Rooms of a local socket. */
  socketRooms(sid: string): ReadonlySet<string> | undefined {
    return this.sids.get(sid);
  }

  /** Room names with at least one member. */
  allRooms(): Promise<Set<string>> {
    return Promise.resolve(new Set(this.rooms.keys()));
  }

  /** The target's sockets. */
  fetchSockets(target: AdapterTarget): Promise<SocketInfo[]> {
    const out: SocketInfo[] = [];
    for (const sid of this.localSids(target)) {
      const info = this.host.socketInfo(sid);
      if (info) out.push(info);
    }
    return Promise.resolve(out);
  }

  /** Makes the target's sockets join `rooms`. */
  addSockets(target: AdapterTarget, rooms: string[]): void {
    for (const sid of this.localSids(target)) this.addAll(sid, rooms);
  }

  /** Makes the target's sockets leave `rooms`. */
  delSockets(target: AdapterTarget, rooms: string[]): void {
    for (const sid of this.localSids(target)) {
      for (const room of rooms) this.del(sid, room);
    }
  }

  /** Disconnects the target's sockets. */
  disconnectSockets(target: AdapterTarget, close: boolean): void {
    for (const sid of this.localSids(target)) {
      this.host.disconnectLocal(sid, close);
    }
  }

  /** No other node: resolves with no answers. */
  serverSideEmit(_args: unknown[], _timeout: number): Promise<unknown[]> {
    return Promise.resolve([]);
  }

  /** Always 1. */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /** Nothing to release. */
  close(): void {}
}
