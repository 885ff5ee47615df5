/**
 * Relays that carry a `Connection` end to another worker or process
 * (private).
 *
 * - To a worker: a new `MessageChannel`; this side pumps frames between the
 *   end's transport and one port, the other port travels in the handle.
 * - To a process: a one-shot listener on 127.0.0.1 port 0. The handle holds
 *   its address and a random 32-byte token. The child connects, both sides
 *   run the `multiprocessing.connection` handshake keyed by the token (the
 *   child answers, then challenges), and this side pumps frames between the
 *   end's transport and the socket. If nobody connects within
 *   {@linkcode RELAY_ACCEPT_TIMEOUT} ms, or {@linkcode cancelRelays} is
 *   called (a `Process` does so when its child exits), the listener closes
 *   and the end is closed.
 *
 * @module
 */
import { answerChallenge, deliverChallenge } from "../auth/handshake.ts";
import type { MessageConnection } from "../auth/handshake.ts";
import {
  EOFError,
  PortTransport,
  StreamTransport,
  type Transport,
} from "./_wire.ts";

/** How long a relay listener waits for its child, in ms. */
export const RELAY_ACCEPT_TIMEOUT = 60_000;
const HANDSHAKE_TIMEOUT = 20_000;
const RELAY_FRAME_LIMIT = Number.MAX_SAFE_INTEGER;

/** The fields of a process relay handle. */
export interface RelayHandle {
  via: "tcp";
  hostname: string;
  port: number;
  token: Uint8Array;
}

/** Frames of a transport as a handshake connection. */
export function messageConnection(t: Transport): MessageConnection {
  return {
    sendBytes: (bytes) => t.writeFrame(bytes),
    recvBytes: async (max = RELAY_FRAME_LIMIT) => {
      const frame = await t.readFrame(max);
      if (frame === null) throw new EOFError();
      return frame;
    },
  };
}

async function pump(from: Transport, to: Transport): Promise<void> {
  try {
    while (true) {
      const frame = await from.readFrame(RELAY_FRAME_LIMIT);
      if (frame === null) break;
      await to.writeFrame(frame);
    }
  } catch {
    // either side failed: the relay ends
  }
}

/** Pumps frames both ways until either side ends, then closes both. */
export function relay(a: Transport, b: Transport): Promise<void> {
  return Promise.race([pump(a, b), pump(b, a)]).finally(() => {
    a.close();
    b.close();
  });
}

interface PendingRelay {
  cancel(): void;
}
const pending = new Set<PendingRelay>();

/** Relays created so far and not yet connected (a snapshot). */
export function pendingRelays(): Set<PendingRelay> {
  return new Set(pending);
}

/** Cancels the given relays if they are still waiting for their child. */
export function cancelRelays(relays: Iterable<PendingRelay>): void {
  for (const r of relays) if (pending.has(r)) r.cancel();
}

/** Starts a relay for `transport` towards `target`; returns handle fields. */
export function relayFor(
  transport: Transport,
  target: "worker" | "process",
): Record<string, unknown> {
  if (target === "worker") {
    const { port1, port2 } = new MessageChannel();
    relay(transport, new PortTransport(port1));
    return { via: "port", port: port2, pending: [], eof: false };
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const token = crypto.getRandomValues(new Uint8Array(32));
  const entry: PendingRelay = {
    cancel() {
      pending.delete(entry);
      clearTimeout(timer);
      try {
        listener.close();
      } catch {
        // already closed
      }
      transport.close();
    },
  };
  pending.add(entry);
  const timer = setTimeout(() => entry.cancel(), RELAY_ACCEPT_TIMEOUT);
  Deno.unrefTimer(timer);
  (async () => {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch {
      return; // cancelled
    }
    pending.delete(entry);
    clearTimeout(timer);
    listener.close();
    const socket = new StreamTransport(conn);
    const guard = setTimeout(() => socket.close(), HANDSHAKE_TIMEOUT);
    try {
      const mc = messageConnection(socket);
      await deliverChallenge(mc, token, { allowLegacyMd5: false });
      await answerChallenge(mc, token, { allowLegacyMd5: false });
    } catch {
      socket.close();
      transport.close();
      return;
    } finally {
      clearTimeout(guard);
    }
    await relay(transport, socket);
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return { via: "tcp", hostname: "127.0.0.1", port, token };
}

/** A transport that connects to a relay first; operations wait for it. */
class RelayClientTransport implements Transport {
  #ready: Promise<StreamTransport>;
  #closed = false;
  #inner: StreamTransport | undefined;

  constructor(handle: RelayHandle) {
    this.#ready = (async () => {
      const conn = await Deno.connect({
        hostname: handle.hostname,
        port: handle.port,
      });
      const socket = new StreamTransport(conn);
      this.#inner = socket;
      if (this.#closed) {
        socket.close();
        throw new EOFError("Cannot use connection: it was closed");
      }
      const mc = messageConnection(socket);
      try {
        await answerChallenge(mc, handle.token, { allowLegacyMd5: false });
        await deliverChallenge(mc, handle.token, { allowLegacyMd5: false });
      } catch (error) {
        socket.close();
        throw new EOFError("Cannot reach the shared connection's relay", {
          cause: error,
        });
      }
      return socket;
    })();
    this.#ready.catch(() => {});
  }

  async readFrame(maxSize: number): Promise<Uint8Array | null> {
    const t = await this.#ready.catch(() => null);
    return t === null ? null : t.readFrame(maxSize);
  }

  async writeFrame(frame: Uint8Array): Promise<void> {
    return (await this.#ready).writeFrame(frame);
  }

  async poll(timeoutMs: number): Promise<boolean> {
    const t = await this.#ready.catch(() => null);
    return t === null ? true : t.poll(timeoutMs);
  }

  close(): void {
    this.#closed = true;
    this.#inner?.close();
    this.#ready.then((t) => t.close(), () => {});
  }
}

/** The child side of a process relay. */
export function connectRelay(handle: RelayHandle): Transport {
  return new RelayClientTransport(handle);
}
