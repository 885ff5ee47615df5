/**
 * The ends of a `Pipe` (private) and how an end moves.
 *
 * A new `Pipe` is two {@linkcode PipeEnd}s over an in-memory queue pair:
 * both ends are in this thread, so a frame is handed over with one copy and
 * no event-loop hop. An end moves only as a `Thread` or `Process` argument;
 * while its peer is still the in-memory end here, the pair is rewired so
 * the two ends talk directly:
 *
 * | end moves to | the ends then talk over | the local peer switches to |
 * |---|---|---|
 * | a worker | two shared-memory rings (`_ring.ts`), one per direction | the other side of the rings |
 * | a process | a socket met at a token-keyed meeting point (`_relay.ts`): Unix in a private 0700 directory when both sides may, else TCP loopback | that socket |
 *
 * Frames already queued at either end stay in order: the moving end's are
 * carried in its handle, the staying end's are served before the new
 * transport's. An end whose peer already left moves as it is when it can
 * (a ring end to another worker: the two workers then share the rings);
 * otherwise (to a process) this thread relays it.
 *
 * @module
 */
import { newRing, RingTransport } from "./_ring.ts";
import { DeferredTransport, processMeeting, relayFor } from "./_relay.ts";
import {
  EOFError,
  oversize,
  readWith,
  type Transport,
  writeCopy,
} from "./_wire.ts";
import { PortTransport } from "./_port_transport.ts";

/** One end of an in-memory queue pair (both ends in this thread). */
class MemoryTransport implements Transport {
  inbox: Uint8Array[] = [];
  eof = false;
  closed = false;
  peer!: MemoryTransport;
  /** Where this end was rewired to (see `rewire`). */
  next: Transport | undefined;
  #waiters: (() => void)[] = [];

  deliver(frame: Uint8Array | null): void {
    if (frame === null) this.eof = true;
    else this.inbox.push(frame);
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async readFrame(maxSize: number): Promise<Uint8Array | null> {
    while (this.inbox.length === 0) {
      if (this.next) return await this.next.readFrame(maxSize);
      if (this.eof || this.closed) return null;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const frame = this.inbox.shift()!;
    if (frame.length > maxSize) throw oversize(frame.length, maxSize);
    return frame;
  }

  writeCopy(frame: Uint8Array): Promise<void> {
    return this.next ? writeCopy(this.next, frame) : this.writeFrame(frame);
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    if (this.next) return this.next.writeFrame(frame);
    if (this.closed) {
      return Promise.reject(
        new EOFError("Cannot send: the connection is closed"),
      );
    }
    if (this.peer.closed) {
      return Promise.reject(
        new EOFError("Cannot send: the peer closed the connection"),
      );
    }
    this.peer.deliver(frame.slice());
    return Promise.resolve();
  }

  async poll(timeoutMs: number): Promise<boolean> {
    if (this.next) return await this.next.poll(timeoutMs);
    const ready = () =>
      this.inbox.length > 0 || this.eof || this.closed ||
      this.next !== undefined;
    if (ready()) return true;
    if (timeoutMs <= 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return ready();
    }
    let wake!: () => void;
    const arrived = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.#waiters.push(wake);
    });
    if (!Number.isFinite(timeoutMs)) return await arrived;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        arrived,
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(ready()), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      const i = this.#waiters.indexOf(wake);
      if (i >= 0) this.#waiters.splice(i, 1);
    }
  }

  /**
   * Hands this end over to `next` (reads and writes still pending here go
   * there), or stops it (the end moved away), without telling the peer.
   */
  rewire(next?: Transport): void {
    this.inbox = [];
    if (next) this.next = next;
    else this.closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  close(): void {
    if (this.next) return this.next.close();
    if (this.closed) return;
    this.closed = true;
    this.peer.deliver(null);
    this.deliver(null);
  }
}

/** A `Pipe` end: forwards to its current transport, which can change. */
export class PipeEnd implements Transport {
  /** The transport frames go through now. */
  inner: Transport;

  constructor(inner: Transport) {
    this.inner = inner;
  }

  readFrame(maxSize: number): Promise<Uint8Array | null> {
    return this.inner.readFrame(maxSize);
  }

  readWith<T>(
    maxSize: number,
    use: (frame: Uint8Array) => T,
  ): Promise<T | null> {
    return readWith(this.inner, maxSize, use);
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    return this.inner.writeFrame(frame);
  }

  writeCopy(frame: Uint8Array): Promise<void> {
    return writeCopy(this.inner, frame);
  }

  poll(timeoutMs: number): Promise<boolean> {
    return this.inner.poll(timeoutMs);
  }

  close(): void {
    this.inner.close();
  }

  /** The handle fields for moving this end to `target` (see module doc). */
  share(target: "worker" | "process"): Record<string, unknown> {
    const inner = this.inner;
    if (inner instanceof MemoryTransport) {
      const peer = inner.peer;
      const pending = inner.inbox;
      inner.rewire();
      if (peer.closed) return { via: "closed", pending };
      const kept = peer.inbox;
      let local: Transport;
      let handle: Record<string, unknown>;
      if (target === "worker") {
        const toMover = newRing();
        const fromMover = newRing();
        local = new RingTransport(fromMover, toMover, kept);
        handle = { via: "ring", input: toMover, output: fromMover, pending };
      } else {
        const meeting = processMeeting(pending);
        local = new DeferredTransport(meeting.local, kept);
        handle = { ...meeting.handle };
      }
      peer.rewire(local);
      const peerEnd = owners.get(peer);
      if (peerEnd) peerEnd.inner = local;
      return handle;
    }
    if (target === "worker") {
      if (inner instanceof RingTransport && inner.movable) {
        const { input, output, pending } = inner.detach();
        return { via: "ring", input, output, pending };
      }
      if (inner instanceof PortTransport && inner.transferable) {
        const { port, pending, eof } = inner.detach();
        return { via: "port", port, pending, eof };
      }
    }
    return relayFor(inner, target);
  }
}

const owners = new WeakMap<MemoryTransport, PipeEnd>();

/** Two connected ends, both in this thread. */
export function pipePair(): [PipeEnd, PipeEnd] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  const ends: [PipeEnd, PipeEnd] = [new PipeEnd(a), new PipeEnd(b)];
  owners.set(a, ends[0]);
  owners.set(b, ends[1]);
  return ends;
}

/** The transport of a moved end, from its handle fields. */
export function reviveEnd(handle: Record<string, unknown>): Transport {
  const pending = (handle.pending as Uint8Array[] | undefined) ?? [];
  if (handle.via === "ring") {
    return new PipeEnd(
      new RingTransport(
        handle.input as SharedArrayBuffer,
        handle.output as SharedArrayBuffer,
        pending,
      ),
    );
  }
  // an end whose peer had closed: what it had received, then EOF
  const [end, other] = pipePair();
  (end.inner as MemoryTransport).inbox = pending;
  other.close();
  return end;
}
