/**
 * Frames over a `MessagePort` (private): a socket `Connection` relayed to a
 * worker, or a port wrapped with `Connection.fromPort`. Each message is one
 * frame (`Uint8Array`); `null` announces EOF, because a port gives no
 * signal when its peer closes.
 *
 * @module
 */
import { EOFError, oversize, type Transport } from "./_wire.ts";

interface RefPort extends MessagePort {
  ref?(): void;
  unref?(): void;
}

/** Frames over a MessagePort; the port holds the event loop only while a
 * read waits. */
export class PortTransport implements Transport {
  #port: RefPort;
  #queue: Uint8Array[];
  #eof: boolean;
  #waiters: (() => void)[] = [];
  #closed = false;
  #unrefTimer: ReturnType<typeof setTimeout> | undefined;

  #started = false;
  #refd = false;

  constructor(port: MessagePort, pending: Uint8Array[] = [], eof = false) {
    this.#port = port;
    this.#queue = pending;
    this.#eof = eof;
  }

  // The port starts receiving on the first read or poll only: Deno cannot
  // transfer a port that has started, and an end that was never read here
  // (the usual case for a Pipe end handed to a worker) moves as it is.
  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#port.onmessage = (event: MessageEvent) => {
      const data = event.data;
      if (data === null) this.#eof = true;
      else if (data instanceof Uint8Array) this.#queue.push(data);
      else this.#eof = true; // not a weft peer: treat as a broken channel
      this.#wake();
    };
    this.#port.onmessageerror = () => {
      this.#eof = true;
      this.#wake();
    };
    this.#port.unref?.();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    this.#releaseLater();
  }

  #wait(): { promise: Promise<void>; cancel(): void } {
    // A pending unref timer stays: it re-checks for waiters when it fires,
    // so a busy channel never pays a ref()/unref() pair per message.
    if (!this.#refd) {
      this.#refd = true;
      this.#port.ref?.();
    }
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => wake = resolve);
    this.#waiters.push(wake);
    const cancel = () => {
      const i = this.#waiters.indexOf(wake);
      if (i >= 0) this.#waiters.splice(i, 1);
      this.#releaseLater();
    };
    return { promise, cancel };
  }

  // Deno re-arms (and re-refs) the port's receive op after each message, so
  // the unref must run a macrotask later to stick.
  #releaseLater(): void {
    if (this.#waiters.length > 0 || this.#unrefTimer !== undefined) return;
    this.#unrefTimer = setTimeout(() => {
      this.#unrefTimer = undefined;
      if (this.#waiters.length === 0 && !this.#closed && this.#refd) {
        this.#refd = false;
        this.#port.unref?.();
      }
    }, 0);
  }

  async readFrame(maxSize: number): Promise<Uint8Array | null> {
    this.#start();
    while (this.#queue.length === 0) {
      if (this.#eof || this.#closed) return null;
      await this.#wait().promise;
    }
    const frame = this.#queue.shift()!;
    if (frame.length > maxSize) throw oversize(frame.length, maxSize);
    return frame;
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new EOFError("Cannot send: the connection is closed"),
      );
    }
    // A view into a larger buffer would clone the whole buffer: copy it.
    const whole = frame.byteOffset === 0 &&
        frame.byteLength === frame.buffer.byteLength
      ? frame
      : frame.slice();
    this.#port.postMessage(whole);
    return Promise.resolve();
  }

  async poll(timeoutMs: number): Promise<boolean> {
    this.#start();
    if (this.#queue.length > 0 || this.#eof || this.#closed) return true;
    if (timeoutMs <= 0) {
      // let messages already posted to the port be delivered
      await new Promise((resolve) => setTimeout(resolve, 0));
      return this.#queue.length > 0 || this.#eof || this.#closed;
    }
    const wait = this.#wait();
    const arrived = wait.promise.then(() => true);
    if (!Number.isFinite(timeoutMs)) return await arrived;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([arrived, timedOut]);
    } finally {
      clearTimeout(timer);
      wait.cancel();
    }
  }

  /** True while the port can still be transferred as it is. */
  get transferable(): boolean {
    return !this.#started && !this.#closed;
  }

  /** Gives up the port without announcing EOF (it moves elsewhere). */
  detach(): { port: MessagePort; pending: Uint8Array[]; eof: boolean } {
    this.#closed = true;
    this.#port.onmessage = null;
    this.#port.onmessageerror = null;
    if (this.#unrefTimer !== undefined) clearTimeout(this.#unrefTimer);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return { port: this.#port, pending: this.#queue, eof: this.#eof };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#unrefTimer !== undefined) clearTimeout(this.#unrefTimer);
    try {
      this.#port.postMessage(null);
    } catch {
      // peer already gone
    }
    this.#port.close();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
