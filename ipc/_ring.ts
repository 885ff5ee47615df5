/**
 * Frames over shared memory (private): the transport of a `Pipe` whose ends
 * live in different workers of one process.
 *
 * A ring is one direction: a `SharedArrayBuffer` holding a control block of
 * Int32 words and a power-of-two byte buffer. The writer appends
 * `[u32 length][bytes]` and may wrap; a frame longer than the free space
 * streams through in pieces. `head` and `tail` count bytes written and read
 * (mod 2^32); `wseq` / `rseq` are bumped after every publish / consume and
 * on close, and are the words a sleeping side waits on (`Atomics.waitAsync`),
 * so a wake is never lost. A side with nothing to do spins briefly (at
 * most {@linkcode SPIN_MS}, adaptively: see `Spinner`) before it
 * sleeps: a ping-pong between two busy workers then rarely sleeps at all.
 *
 * @module
 */
import { EOFError, oversize, type Transport } from "./_wire.ts";

const HEAD = 0;
const TAIL = 1;
const WSEQ = 2;
const RSEQ = 3;
const WCLOSED = 4;
const RCLOSED = 5;
const CONTROL_BYTES = 64;

/** Bytes of data per direction. */
export const RING_CAPACITY = 256 * 1024;
/** How long a side spins on an empty (or full) ring before sleeping, in ms. */
export const SPIN_MS = 0.05;

/** One direction's shared memory. */
export function newRing(capacity: number = RING_CAPACITY): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + capacity);
}

let pendingWaits = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/**
 * A pending `Atomics.waitAsync` does not hold Deno's event loop
 * (denoland/deno#15358): one idle interval does, ref'd only while a wait
 * is pending (cheaper than a new timer per wait).
 */
function hold(): () => void {
  if (pendingWaits++ === 0) {
    keepAlive ??= setInterval(() => {}, 1 << 30);
    Deno.refTimer(keepAlive as unknown as number);
  }
  return () => {
    if (--pendingWaits === 0) Deno.unrefTimer(keepAlive as unknown as number);
  };
}

/** Waits while `ctl[index] === value`, at most `ms`; true unless timed out. */
async function sleep(
  ctl: Int32Array,
  index: number,
  value: number,
  ms: number,
): Promise<boolean> {
  const result = Atomics.waitAsync(
    ctl,
    index,
    value,
    Number.isFinite(ms) ? ms : undefined,
  );
  if (!result.async) return true;
  const release = hold();
  try {
    return (await result.value) !== "timed-out";
  } finally {
    release();
  }
}

/**
 * Adaptive spinning. A wait first spins for the current budget; if the
 * peer answers within it, nothing sleeps. A hit doubles the budget (up to
 * {@linkcode SPIN_MS}), a miss halves it (down to {@linkcode MIN_SPIN_MS}),
 * and every {@linkcode PROBE_EVERY}th wait on a reduced budget probes with
 * the full one. A busy ping-pong on a machine with a core to spare thus
 * spins and never sleeps, while an idle pipe, or one whose peer thread is
 * not scheduled (an oversubscribed machine, where spinning would only take
 * the CPU the peer needs), costs little more than a plain sleep.
 */
class Spinner {
  #budget = SPIN_MS;
  #waits = 0;

  /** Spins until `ctl[index] !== value` or the budget is spent. */
  spin(ctl: Int32Array, index: number, value: number): boolean {
    const probe = this.#budget < SPIN_MS && ++this.#waits % PROBE_EVERY === 0;
    const budget = probe ? SPIN_MS : this.#budget;
    const until = performance.now() + budget;
    do {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(ctl, index) !== value) {
          this.#budget = probe ? SPIN_MS : Math.min(SPIN_MS, budget * 2);
          return true;
        }
      }
    } while (performance.now() < until);
    this.#budget = Math.max(MIN_SPIN_MS, this.#budget / 2);
    return false;
  }
}

/** See `Spinner`. */
const PROBE_EVERY = 32;
/** The least a side spins, in ms. */
const MIN_SPIN_MS = 0.002;

/** Reads frames from one ring and writes frames to another. */
export class RingTransport implements Transport {
  #inCtl: Int32Array;
  #inData: Uint8Array;
  #outCtl: Int32Array;
  #outData: Uint8Array;
  #inSab: SharedArrayBuffer;
  #outSab: SharedArrayBuffer;
  #pending: Uint8Array[];
  #closed = false;
  #writing: Promise<void> | undefined;
  #reading = false;
  #header = new Uint8Array(4);
  #spinner = new Spinner();

  /**
   * `input` is the ring this end reads, `output` the one it writes;
   * `pending` are frames received before (served first).
   */
  constructor(
    input: SharedArrayBuffer,
    output: SharedArrayBuffer,
    pending: Uint8Array[] = [],
  ) {
    this.#inSab = input;
    this.#outSab = output;
    this.#inCtl = new Int32Array(input, 0, CONTROL_BYTES / 4);
    this.#inData = new Uint8Array(input, CONTROL_BYTES);
    this.#outCtl = new Int32Array(output, 0, CONTROL_BYTES / 4);
    this.#outData = new Uint8Array(output, CONTROL_BYTES);
    this.#pending = pending;
  }

  // ---- reading

  #available(): number {
    return (Atomics.load(this.#inCtl, HEAD) - this.#inCtl[TAIL]) | 0;
  }

  /**
   * Copies `n` available bytes (after skipping `skip`) into `dst` at `at`
   * and releases them (and the skipped ones).
   */
  #consume(dst: Uint8Array, at: number, n: number, skip = 0): void {
    const ctl = this.#inCtl;
    const data = this.#inData;
    const tail = ctl[TAIL];
    const pos = (tail + skip) & (data.length - 1);
    const first = Math.min(n, data.length - pos);
    if (first > 0) dst.set(data.subarray(pos, pos + first), at);
    if (first < n) dst.set(data.subarray(0, n - first), at + first);
    Atomics.store(ctl, TAIL, (tail + skip + n) | 0);
    Atomics.add(ctl, RSEQ, 1);
    Atomics.notify(ctl, RSEQ);
  }

  /** Waits until input bytes arrive or the writer closed; false at EOF. */
  async #waitInput(timeoutMs = Infinity): Promise<boolean> {
    const ctl = this.#inCtl;
    while (true) {
      const seq = Atomics.load(ctl, WSEQ);
      if (this.#available() > 0) return true;
      if (Atomics.load(ctl, WCLOSED) !== 0 || this.#closed) return false;
      if (this.#spinner.spin(ctl, WSEQ, seq)) continue;
      if (!await sleep(ctl, WSEQ, seq, timeoutMs)) return true; // timed out
    }
  }

  /** Fills `dst` entirely from the ring; false at a clean EOF before any byte. */
  async #readExactly(dst: Uint8Array, frameStart: boolean): Promise<boolean> {
    let filled = 0;
    while (filled < dst.length) {
      const n = Math.min(this.#available(), dst.length - filled);
      if (n > 0) {
        this.#consume(dst, filled, n);
        filled += n;
        continue;
      }
      if (!await this.#waitInput()) {
        if (filled === 0 && frameStart) return false;
        throw new EOFError(
          "Cannot receive: the peer closed the connection in the middle of a message",
        );
      }
    }
    return true;
  }

  readFrame(maxSize: number): Promise<Uint8Array | null> {
    if (this.#pending.length > 0) {
      const frame = this.#pending.shift()!;
      if (frame.length > maxSize) {
        return Promise.reject(oversize(frame.length, maxSize));
      }
      return Promise.resolve(frame);
    }
    if (this.#closed) return Promise.resolve(null);
    // fast path: a whole frame is there
    const available = this.#available();
    if (available >= 4) {
      const size = this.#peekSize();
      if (size <= maxSize && available - 4 >= size) {
        // header and payload released together (one publish, one notify)
        const out = new Uint8Array(size);
        this.#consume(out, 0, size, 4);
        return Promise.resolve(out);
      }
      this.#consume(this.#header, 0, 4);
      if (size > maxSize) return Promise.reject(oversize(size, maxSize));
      return this.#readRest(new Uint8Array(size));
    }
    return this.#readSlow(maxSize);
  }

  /** The length in the header at the read position (4 bytes available). */
  #peekSize(): number {
    const data = this.#inData;
    const mask = data.length - 1;
    const tail = this.#inCtl[TAIL];
    return ((data[tail & mask] << 24) | (data[(tail + 1) & mask] << 16) |
      (data[(tail + 2) & mask] << 8) | data[(tail + 3) & mask]) >>> 0;
  }

  #headerSize(): number {
    const h = this.#header;
    return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  }

  async #readRest(out: Uint8Array): Promise<Uint8Array> {
    this.#reading = true;
    try {
      await this.#readExactly(out, false);
      return out;
    } finally {
      this.#reading = false;
    }
  }

  async #readSlow(maxSize: number): Promise<Uint8Array | null> {
    this.#reading = true;
    try {
      if (!await this.#readExactly(this.#header, true)) return null;
      const size = this.#headerSize();
      if (size > maxSize) throw oversize(size, maxSize);
      const out = new Uint8Array(size);
      await this.#readExactly(out, false);
      return out;
    } finally {
      this.#reading = false;
    }
  }

  async poll(timeoutMs: number): Promise<boolean> {
    if (this.#pending.length > 0 || this.#closed) return true;
    if (this.#available() > 0 || Atomics.load(this.#inCtl, WCLOSED) !== 0) {
      return true;
    }
    if (timeoutMs <= 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return this.#available() > 0 ||
        Atomics.load(this.#inCtl, WCLOSED) !== 0;
    }
    await this.#waitInput(timeoutMs);
    return this.#available() > 0 || Atomics.load(this.#inCtl, WCLOSED) !== 0;
  }

  // ---- writing

  #free(): number {
    return this.#outData.length -
      ((this.#outCtl[HEAD] - Atomics.load(this.#outCtl, TAIL)) | 0);
  }

  /** Appends `n` bytes of `src` from `at` (there is room) and publishes them. */
  #produce(src: Uint8Array, at: number, n: number): void {
    const ctl = this.#outCtl;
    const data = this.#outData;
    const head = ctl[HEAD];
    const pos = head & (data.length - 1);
    const first = Math.min(n, data.length - pos);
    data.set(src.subarray(at, at + first), pos);
    if (first < n) data.set(src.subarray(at + first, at + n), 0);
    Atomics.store(ctl, HEAD, (head + n) | 0);
    Atomics.add(ctl, WSEQ, 1);
    Atomics.notify(ctl, WSEQ);
  }

  #peerGone(): boolean {
    return Atomics.load(this.#outCtl, RCLOSED) !== 0;
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new EOFError("Cannot send: the connection is closed"),
      );
    }
    if (this.#peerGone()) {
      return Promise.reject(
        new EOFError("Cannot send: the peer closed the connection"),
      );
    }
    if (this.#writing === undefined && this.#free() >= 4 + frame.length) {
      this.#produceFrame(frame);
      return Promise.resolve();
    }
    const previous = this.#writing ?? Promise.resolve();
    const task = previous.then(() => this.#writeSlow(frame));
    const tracked = task.catch(() => {});
    this.#writing = tracked;
    tracked.then(() => {
      if (this.#writing === tracked) this.#writing = undefined;
    });
    return task;
  }

  /** Header and payload in one publish (the ring has room for both). */
  #produceFrame(frame: Uint8Array): void {
    const ctl = this.#outCtl;
    const data = this.#outData;
    const mask = data.length - 1;
    const head = ctl[HEAD];
    const size = frame.length;
    data[head & mask] = size >>> 24;
    data[(head + 1) & mask] = (size >>> 16) & 255;
    data[(head + 2) & mask] = (size >>> 8) & 255;
    data[(head + 3) & mask] = size & 255;
    const pos = (head + 4) & mask;
    const first = Math.min(frame.length, data.length - pos);
    data.set(frame.subarray(0, first), pos);
    if (first < frame.length) data.set(frame.subarray(first), 0);
    Atomics.store(ctl, HEAD, (head + 4 + frame.length) | 0);
    Atomics.add(ctl, WSEQ, 1);
    Atomics.notify(ctl, WSEQ);
  }

  async #writeSlow(frame: Uint8Array): Promise<void> {
    if (this.#free() >= 4 + frame.length) {
      this.#produceFrame(frame);
      return;
    }
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, frame.length);
    await this.#writeBytes(header);
    await this.#writeBytes(frame);
  }

  async #writeBytes(bytes: Uint8Array): Promise<void> {
    const ctl = this.#outCtl;
    let written = 0;
    while (written < bytes.length) {
      if (this.#closed) {
        throw new EOFError("Cannot send: the connection is closed");
      }
      if (this.#peerGone()) {
        throw new EOFError("Cannot send: the peer closed the connection");
      }
      const seq = Atomics.load(ctl, RSEQ);
      const n = Math.min(this.#free(), bytes.length - written);
      if (n > 0) {
        this.#produce(bytes, written, n);
        written += n;
        continue;
      }
      if (!this.#spinner.spin(ctl, RSEQ, seq)) {
        await sleep(ctl, RSEQ, seq, Infinity);
      }
    }
  }

  // ---- moving and closing

  /** True while no read or write is in progress here. */
  get movable(): boolean {
    return !this.#closed && !this.#reading && this.#writing === undefined;
  }

  /** Gives up this end without closing it (it moves to another worker). */
  detach(): {
    input: SharedArrayBuffer;
    output: SharedArrayBuffer;
    pending: Uint8Array[];
  } {
    this.#closed = true;
    return { input: this.#inSab, output: this.#outSab, pending: this.#pending };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#outCtl, WCLOSED, 1);
    Atomics.add(this.#outCtl, WSEQ, 1);
    Atomics.notify(this.#outCtl, WSEQ);
    Atomics.store(this.#inCtl, RCLOSED, 1);
    Atomics.add(this.#inCtl, RSEQ, 1);
    Atomics.notify(this.#inCtl, RSEQ);
    // our own sleeping reads and writes wake and see #closed
    Atomics.notify(this.#inCtl, WSEQ);
    Atomics.notify(this.#outCtl, RSEQ);
  }
}
