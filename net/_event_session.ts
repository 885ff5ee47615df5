/**
 * One Engine.IO session seen by Socket.IO (private): decodes packets,
 * reassembles binary attachments, multiplexes namespaces, and enforces the
 * per-session limits (CONNECT deadline, attachments, handlers in flight).
 *
 * | event                                           | result                                              |
 * | ----------------------------------------------- | --------------------------------------------------- |
 * | no namespace connected within `connectTimeout`   | session closed ("connect timeout")                   |
 * | malformed packet, unexpected binary, bad placeholders | session closed ("parse error: ...")            |
 * | CONNECT to a namespace the server does not serve | `CONNECT_ERROR {"message":"Invalid namespace"}` for that namespace only |
 * | more than `maxPendingHandlers` async handlers in flight | session closed ("too many pending handlers") |
 * | more than 16 namespaces on one session           | `CONNECT_ERROR`                                     |
 *
 * @module
 */

import type { EngineSocket, Environ } from "./_event_engine.ts";
import { Prepared } from "./_event_engine.ts";
import {
  encodePacket,
  PacketError,
  Reassembler,
  SIO,
  type SioPacket,
} from "./_event_packets.ts";
import { PendingAcks, randomId } from "./_event_common.ts";

/** What a session needs from the server. */
export interface SessionHost {
  /** The namespace object for `name`, or `undefined` if not served. */
  namespace(name: string): NamespaceCore | undefined;
  readonly limits: {
    connectTimeout: number;
    maxAttachments: number;
    maxPendingHandlers: number;
  };
}

/** What a session needs from a namespace. */
export interface NamespaceCore {
  connect(socket: ServerSocket, auth: Record<string, unknown>): void;
  event(socket: ServerSocket, args: unknown[], id: number | undefined): void;
  remove(socket: ServerSocket, reason: string): void;
}

/** The session-facing side of each namespace (not public). */
export const CORES: WeakMap<object, NamespaceCore> = new WeakMap();

/** One client in one namespace. */
export class ServerSocket {
  readonly sid: string = randomId(15);
  readonly nsp: string;
  readonly session: Session;
  readonly acks: PendingAcks = new PendingAcks();
  /** Per-session data (`getSession`/`saveSession`). */
  data: Record<string, unknown> = {};
  auth: Record<string, unknown> = {};
  connected = false;
  closed = false;
  #held: Prepared[] = [];

  constructor(session: Session, nsp: string) {
    this.session = session;
    this.nsp = nsp;
  }

  get environ(): Environ {
    return this.session.engine.environ;
  }

  /** Sends a packet (held until the CONNECT answer went out). */
  send(packet: SioPacket): void {
    this.sendPrepared(new Prepared(encodePacket(packet)));
  }

  sendPrepared(p: Prepared): void {
    if (this.closed) return;
    if (!this.connected) {
      this.#held.push(p);
      return;
    }
    this.session.engine.sendPrepared(p);
  }

  /** Sends the CONNECT answer, then what was held. */
  accept(extra: Record<string, unknown> = {}): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    this.session.engine.send(
      encodePacket({
        type: SIO.connect,
        nsp: this.nsp,
        data: { sid: this.sid, ...extra },
      }),
    );
    for (const p of this.#held) this.session.engine.sendPrepared(p);
    this.#held = [];
  }

  /** Sends CONNECT_ERROR and forgets this socket. */
  refuse(message: string, data?: unknown): void {
    this.#held = [];
    const body: Record<string, unknown> = { message };
    if (data !== undefined) body.data = data;
    this.session.engine.send(
      encodePacket({ type: SIO.connectError, nsp: this.nsp, data: body }),
    );
    this.session.sockets.delete(this.nsp);
    this.closed = true;
  }
}

/** The Socket.IO side of one Engine.IO session. */
export class Session {
  readonly engine: EngineSocket;
  readonly sockets: Map<string, ServerSocket> = new Map();
  /** Auth nonces accepted on this session (replay guard). */
  readonly nonces: Set<string> = new Set();
  #host: SessionHost;
  #reassembler: Reassembler;
  #timer?: ReturnType<typeof setTimeout>;
  #pending = 0;

  constructor(engine: EngineSocket, host: SessionHost) {
    this.engine = engine;
    this.#host = host;
    this.#reassembler = new Reassembler(host.limits.maxAttachments);
    engine.onmessage = (m) => this.#receive(m);
    engine.onclose = (reason) => this.#closed(reason);
    this.#arm();
  }

  /** Closes the session if no namespace is connected in time. */
  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (![...this.sockets.values()].some((s) => s.connected)) {
        this.close("connect timeout");
      }
    }, this.#host.limits.connectTimeout);
  }

  /** Tracks an async handler; closes the session past the limit. */
  track(promise: Promise<unknown>): void {
    if (++this.#pending > this.#host.limits.maxPendingHandlers) {
      this.close("too many pending handlers");
    }
    promise.finally(() => this.#pending--);
  }

  #receive(message: string | Uint8Array): void {
    try {
      const packet = this.#reassembler.feed(message);
      if (packet) this.#dispatch(packet);
    } catch (error) {
      this.close(`parse error: ${(error as Error).message}`);
    }
  }

  #dispatch(packet: SioPacket): void {
    const nsp = packet.nsp;
    switch (packet.type) {
      case SIO.connect: {
        if (this.sockets.has(nsp)) return;
        const core = this.#host.namespace(nsp);
        const socket = new ServerSocket(this, nsp);
        if (!core) {
          this.sockets.set(nsp, socket);
          return socket.refuse("Invalid namespace");
        }
        if (this.sockets.size >= 16) {
          this.sockets.set(nsp, socket);
          return socket.refuse("Too many namespaces on one connection");
        }
        this.sockets.set(nsp, socket);
        socket.auth = (packet.data ?? {}) as Record<string, unknown>;
        core.connect(socket, socket.auth);
        return;
      }
      case SIO.disconnect: {
        const socket = this.sockets.get(nsp);
        if (socket) this.#remove(socket, "client namespace disconnect");
        return;
      }
      case SIO.event:
      case SIO.binaryEvent: {
        const socket = this.sockets.get(nsp);
        if (!socket?.connected) return;
        this.#host.namespace(nsp)?.event(
          socket,
          packet.data as unknown[],
          packet.id,
        );
        return;
      }
      case SIO.ack:
      case SIO.binaryAck: {
        this.sockets.get(nsp)?.acks.settle(
          packet.id!,
          packet.data as unknown[],
        );
        return;
      }
      default:
        throw new PacketError("Unexpected packet type from a client");
    }
  }

  #remove(socket: ServerSocket, reason: string): void {
    if (socket.closed) return;
    socket.closed = true;
    this.sockets.delete(socket.nsp);
    socket.acks.rejectAll(`the client disconnected (${reason})`);
    if (socket.connected) {
      this.#host.namespace(socket.nsp)?.remove(socket, reason);
    }
  }

  /** Server-side disconnect of one namespace (sends DISCONNECT). */
  disconnect(
    socket: ServerSocket,
    reason = "server namespace disconnect",
  ): void {
    if (socket.closed) return;
    if (socket.connected) {
      socket.send({ type: SIO.disconnect, nsp: socket.nsp });
    }
    this.#remove(socket, reason);
    if (this.sockets.size === 0) this.#arm();
  }

  /** Ends the whole session. */
  close(reason: string): void {
    this.engine.close(reason);
  }

  #closed(reason: string): void {
    clearTimeout(this.#timer);
    for (const socket of [...this.sockets.values()]) {
      this.#remove(socket, reason);
    }
  }
}
