/**
 * Carrying a `Connection` end to another worker or process (private).
 *
 * - {@linkcode rendezvous}: a one-shot meeting point on 127.0.0.1 port 0
 *   keyed by a random 32-byte token. With `unix: true` and a fully granted
 *   `--allow-net`, `--allow-read` and `--allow-write` here, it also listens
 *   on a Unix socket in a private (0700) temporary directory; the peer
 *   uses that one when its own permissions allow it (else TCP), and the
 *   directory is removed as soon as the meeting point closes (met,
 *   cancelled or timed out; closing the listener unlinks the socket).
 *   Every connection, on either socket, runs `auth`'s `serverHandshake`
 *   with the token before any other byte (concurrently, each with a
 *   deadline, at most {@linkcode MAX_PENDING_HANDSHAKES} at once, the
 *   oldest dropped first); the first one that passes wins and both
 *   listeners close. A local
 *   process that connects first (silent, or sending garbage) is dropped and
 *   cannot stop the real peer: the token travels only inside the private
 *   handle (or a child's stdin), never on a command line.
 * - A `Pipe` end moved to a process meets its peer directly there (see
 *   `_pipe_transport.ts`); {@linkcode relayFor} is the fallback for any
 *   other end (a socket connection, or a pipe end whose peer already left
 *   this thread): this thread pumps frames between the end and a new port
 *   (to a worker) or a rendezvous socket (to a process).
 * - {@linkcode cancelRelays}: a `Process` whose child exits cancels the
 *   meeting points created for its arguments; an unclaimed one also ends
 *   after {@linkcode RELAY_ACCEPT_TIMEOUT} ms.
 *
 * @module
 */
import { clientHandshake, serverHandshake } from "../auth/handshake.ts";
import type { MessageConnection } from "../auth/handshake.ts";
import { StreamTransport } from "./_stream_transport.ts";
import {
  EOFError,
  oversize,
  readWith,
  type Transport,
  writeCopy,
} from "./_wire.ts";
import { PortTransport } from "./_port_transport.ts";

/** How long a meeting point waits for its peer, in ms. */
export const RELAY_ACCEPT_TIMEOUT = 60_000;
/** Deadline of each handshake at a meeting point, in ms. */
export const HANDSHAKE_TIMEOUT = 20_000;
/** Most handshakes a meeting point runs at once. */
export const MAX_PENDING_HANDSHAKES = 16;
const RELAY_FRAME_LIMIT = Number.MAX_SAFE_INTEGER;

/** The fields of a process handle that meets its peer over a socket. */
export interface RelayHandle {
  via: "tcp";
  hostname: string;
  port: number;
  /** The Unix socket of the same meeting point, when there is one. */
  path?: string;
  token: Uint8Array;
  /** Frames received before the move, served first. */
  pending?: Uint8Array[];
}

/** Frames of a transport as a handshake connection. */
export function messageConnection(
  t: Transport,
): MessageConnection & { close(): void } {
  return {
    sendBytes: (bytes) => t.writeFrame(bytes),
    recvBytes: async (max = RELAY_FRAME_LIMIT) => {
      const frame = await t.readFrame(max);
      if (frame === null) throw new EOFError();
      return frame;
    },
    close: () => t.close(),
  };
}

/** Whether this process may listen on a Unix socket in a new temp dir. */
function unixAllowed(): boolean {
  try {
    return (["net", "read", "write"] as const).every((name) =>
      Deno.permissions.querySync({ name }).state === "granted"
    );
  } catch {
    return false;
  }
}

/** Whether this process may connect to the Unix socket at `path`. */
function unixAllowedFor(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "net", host: `unix:${path}` })
          .state === "granted" &&
      (["read", "write"] as const).every((name) =>
        Deno.permissions.querySync({ name, path }).state === "granted"
      );
  } catch {
    return false;
  }
}

/** Private directories of meeting points still open (removed at unload). */
const unixDirs = new Set<string>();
let unloadHooked = false;

function removeDir(dir: string): void {
  unixDirs.delete(dir);
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
}

/**
 * A Unix listener in a new private directory (mode 0700, made by
 * `makeTempDir`), or `undefined` when not permitted or it fails.
 */
function unixListener():
  | { listener: Deno.Listener; dir: string; path: string }
  | undefined {
  if (Deno.build.os === "windows" || !unixAllowed()) return undefined;
  let dir: string | undefined;
  try {
    dir = Deno.makeTempDirSync({ prefix: "weft-pipe-" });
    Deno.chmodSync(dir, 0o700);
    const path = `${dir}/s`;
    const listener = Deno.listen({ transport: "unix", path });
    unixDirs.add(dir);
    if (!unloadHooked) {
      unloadHooked = true;
      globalThis.addEventListener("unload", () => {
        for (const d of [...unixDirs]) removeDir(d);
      });
    }
    return { listener, dir, path };
  } catch {
    if (dir !== undefined) removeDir(dir);
    return undefined;
  }
}

let lastMeeting: { transport: "tcp" | "unix"; path?: string } | undefined;

/**
 * How the last meeting point opened with `unix: true` was met (for tests):
 * its winner's transport and its Unix socket path, if it had one.
 */
export function lastUnixMeeting():
  | { transport: "tcp" | "unix"; path?: string }
  | undefined {
  return lastMeeting;
}

/** A one-shot authenticated meeting point. */
export interface Rendezvous {
  hostname: string;
  port: number;
  /** Its Unix socket (in a private 0700 directory), if it has one. */
  path?: string;
  /** The first connection that passed the handshake. */
  accepted: Promise<StreamTransport>;
  /** Stops waiting (`accepted` rejects) unless already met. */
  cancel(): void;
}

/** Opens a meeting point on 127.0.0.1 for the holder of `token`. */
export function rendezvous(
  token: Uint8Array,
  acceptTimeout: number = RELAY_ACCEPT_TIMEOUT,
  unix = false,
): Rendezvous {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const local = unix ? unixListener() : undefined;
  const listeners: Deno.Listener[] = [listener];
  if (local) listeners.push(local.listener);
  const handshaking = new Set<StreamTransport>();
  let done = false;
  let resolve!: (t: StreamTransport) => void;
  let reject!: (e: unknown) => void;
  const accepted = new Promise<StreamTransport>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  accepted.catch(() => {});
  const finish = (winner?: StreamTransport, error?: unknown) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    for (const l of listeners) {
      try {
        l.close(); // a Unix listener unlinks its socket file
      } catch {
        // already closed
      }
    }
    if (local) removeDir(local.dir);
    for (const t of handshaking) if (t !== winner) t.close();
    handshaking.clear();
    if (winner) resolve(winner);
    else reject(error);
  };
  const timer = setTimeout(
    () =>
      finish(
        undefined,
        new EOFError(
          `Cannot connect: the peer did not arrive within ${acceptTimeout} ms`,
        ),
      ),
    acceptTimeout,
  );
  Deno.unrefTimer(timer);
  const acceptLoop = async (listener: Deno.Listener, via: "tcp" | "unix") => {
    while (!done) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (done) return;
        // e.g. reset before accept, or out of descriptors: retry shortly
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (done) {
        conn.close();
        return;
      }
      const stream = new StreamTransport(conn);
      if (handshaking.size >= MAX_PENDING_HANDSHAKES) {
        const oldest = handshaking.values().next().value!;
        handshaking.delete(oldest);
        oldest.close();
      }
      handshaking.add(stream);
      serverHandshake(messageConnection(stream), token, {
        allowLegacyMd5: false,
        timeout: HANDSHAKE_TIMEOUT,
      }).then(() => {
        handshaking.delete(stream);
        if (done) stream.close();
        else {
          if (unix) lastMeeting = { transport: via, path: local?.path };
          finish(stream);
        }
      }, () => {
        handshaking.delete(stream);
        stream.close();
      });
    }
  };
  acceptLoop(listener, "tcp");
  if (local) acceptLoop(local.listener, "unix");
  const { port } = listener.addr as Deno.NetAddr;
  return {
    hostname: "127.0.0.1",
    port,
    path: local?.path,
    accepted,
    cancel: () =>
      finish(undefined, new EOFError("Cannot connect: the peer is gone")),
  };
}

/**
 * Connects to a meeting point and proves the token (client side): over its
 * Unix socket `path` when given and this process may, else over TCP.
 */
export async function meet(
  hostname: string,
  port: number,
  token: Uint8Array,
  path?: string,
): Promise<StreamTransport> {
  let conn: Deno.Conn | undefined;
  if (path !== undefined && unixAllowedFor(path)) {
    try {
      conn = await Deno.connect({ transport: "unix", path });
    } catch {
      conn = undefined; // e.g. already met or gone: TCP as without it
    }
  }
  conn ??= await Deno.connect({ hostname, port });
  const stream = new StreamTransport(conn);
  await clientHandshake(messageConnection(stream), token, {
    allowLegacyMd5: false,
    timeout: HANDSHAKE_TIMEOUT,
  });
  return stream;
}

let active = 0;

/** Relays running now (pumps through this thread), for tests. */
export function activeRelays(): number {
  return active;
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
  active++;
  return Promise.race([pump(a, b), pump(b, a)]).finally(() => {
    active--;
    a.close();
    b.close();
  });
}

interface PendingRelay {
  cancel(): void;
}
const pending = new Set<PendingRelay>();

/** Meeting points created so far and not yet met (a snapshot). */
export function pendingRelays(): Set<PendingRelay> {
  return new Set(pending);
}

/** Cancels the given meeting points if they are still waiting. */
export function cancelRelays(relays: Iterable<PendingRelay>): void {
  for (const r of relays) if (pending.has(r)) r.cancel();
}

/**
 * A meeting point for an end moving to a process, registered so that the
 * `Process` can cancel it: the handle fields for the child and the local
 * side's transport (usable at once; it waits for the child).
 */
export function processMeeting(
  pendingFrames: Uint8Array[] = [],
): { handle: RelayHandle; local: Promise<StreamTransport> } {
  const token = crypto.getRandomValues(new Uint8Array(32));
  const rv = rendezvous(token, RELAY_ACCEPT_TIMEOUT, true);
  const entry: PendingRelay = { cancel: () => rv.cancel() };
  pending.add(entry);
  rv.accepted.finally(() => pending.delete(entry)).catch(() => {});
  return {
    handle: {
      via: "tcp",
      hostname: rv.hostname,
      port: rv.port,
      ...(rv.path === undefined ? {} : { path: rv.path }),
      token,
      pending: pendingFrames,
    },
    local: rv.accepted,
  };
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
  const { handle, local } = processMeeting();
  local.then(
    (socket) => relay(transport, socket),
    () => transport.close(),
  );
  return { ...handle };
}

/**
 * A transport whose real one arrives later (a socket being set up); frames
 * received before the move are served first. Operations wait for it; if it
 * never comes, reads see EOF and writes reject with `EOFError`.
 */
export class DeferredTransport implements Transport {
  #ready: Promise<Transport>;
  #inner: Transport | undefined;
  #pending: Uint8Array[];
  #closed = false;
  #queued = 0;

  constructor(ready: Promise<Transport>, pending: Uint8Array[] = []) {
    this.#pending = pending;
    this.#ready = ready.then((t) => {
      this.#inner = t;
      if (this.#closed) t.close();
      return t;
    });
    this.#ready.catch(() => {});
  }

  readFrame(maxSize: number): Promise<Uint8Array | null> {
    const frame = this.#pending.shift();
    if (frame !== undefined) {
      return frame.length > maxSize
        ? Promise.reject(oversize(frame.length, maxSize))
        : Promise.resolve(frame);
    }
    if (this.#inner !== undefined) return this.#inner.readFrame(maxSize);
    return this.#ready.then(
      (t) => t.readFrame(maxSize),
      () => null,
    );
  }

  readWith<T>(
    maxSize: number,
    use: (frame: Uint8Array) => T,
  ): Promise<T | null> {
    if (this.#inner !== undefined && this.#pending.length === 0) {
      return readWith(this.#inner, maxSize, use);
    }
    return this.readFrame(maxSize).then((frame) =>
      frame === null ? null : use(frame)
    );
  }

  writeCopy(frame: Uint8Array): Promise<void> {
    if (this.#inner !== undefined && this.#queued === 0) {
      return writeCopy(this.#inner, frame);
    }
    return this.writeFrame(frame); // copies while queued
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    if (this.#inner !== undefined && this.#queued === 0) {
      return this.#inner.writeFrame(frame);
    }
    const copy = frame.slice(); // the caller may reuse its buffer meanwhile
    this.#queued++;
    return this.#ready.then(
      (t) => {
        this.#queued--;
        return t.writeFrame(copy);
      },
      (error) => {
        this.#queued--;
        throw new EOFError("Cannot send: the peer never connected", {
          cause: error,
        });
      },
    );
  }

  async poll(timeoutMs: number): Promise<boolean> {
    if (this.#pending.length > 0 || this.#closed) return true;
    if (this.#inner !== undefined) return await this.#inner.poll(timeoutMs);
    const polled = this.#ready.then((t) => t.poll(timeoutMs), () => true);
    if (!Number.isFinite(timeoutMs)) return await polled;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        polled,
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner?.close();
  }
}

/** The child side of a process handle. */
export function connectRelay(handle: RelayHandle): Transport {
  return new DeferredTransport(
    meet(handle.hostname, handle.port, handle.token, handle.path).catch(
      (error) => {
        throw new EOFError("Cannot reach the shared connection's peer", {
          cause: error,
        });
      },
    ),
    handle.pending ?? [],
  );
}
