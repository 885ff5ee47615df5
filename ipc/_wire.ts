/**
 * Frame transports under `Connection` (private).
 *
 * A transport moves whole frames (byte strings). Two kinds:
 *
 * - {@linkcode StreamTransport}: a byte stream (TCP or Unix socket) with
 *   Python's `multiprocessing.connection` framing: a 4-byte big-endian
 *   signed length, then the bytes; for a frame of 2 GiB or more the length
 *   is -1 followed by an 8-byte big-endian unsigned length.
 * - {@linkcode PortTransport}: a `MessagePort` (a `Pipe` end, a worker
 *   port). Each message is one frame (`Uint8Array`); `null` announces EOF,
 *   because a port gives no signal when its peer closes.
 *
 * @module
 */

/**
 * Thrown by `recv()`/`recvBytes()` when the peer has closed its end (or its
 * process died) and every message it sent was read; like Python's
 * `EOFError` from `Connection.recv()`.
 *
 * @example
 * ```ts
 * import { EOFError, Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * a.close();
 * try {
 *   await b.recvBytes();
 * } catch (e) {
 *   console.log(e instanceof EOFError); // true
 * }
 * b.close();
 * ```
 */
export class EOFError extends Error {
  /** Creates the error. */
  constructor(
    message = "Cannot receive: the peer closed the connection",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "EOFError";
  }
}

/** Moves whole frames. `readFrame` resolves `null` at a clean EOF. */
export interface Transport {
  readFrame(maxSize: number): Promise<Uint8Array | null>;
  writeFrame(frame: Uint8Array): Promise<void>;
  /** True once a frame (or EOF) can be read without waiting. */
  poll(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Largest length that fits the 4-byte header. */
export const SMALL_FRAME_LIMIT = 0x7fffffff;

/** The header for a frame of `size` bytes (4 bytes, or 12 with the escape). */
export function encodeHeader(size: number): Uint8Array {
  if (size <= SMALL_FRAME_LIMIT) {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setInt32(0, size);
    return header;
  }
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setInt32(0, -1);
  view.setBigUint64(4, BigInt(size));
  return header;
}

function oversize(size: number | bigint, maxSize: number): RangeError {
  return new RangeError(
    `Cannot receive message: its length ${size} exceeds the maximum of ${maxSize} bytes`,
  );
}

/** Python-framed frames over a Deno socket. */
export class StreamTransport implements Transport {
  #conn: Deno.Conn;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;
  #filling: Promise<void> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  get #buffered(): number {
    return this.#end - this.#start;
  }

  /** Reads more bytes into the buffer (one read in flight at a time). */
  #fill(): Promise<void> {
    this.#filling ??= (async () => {
      if (this.#start === this.#end) this.#start = this.#end = 0;
      if (this.#end === this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      try {
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) this.#eof = true;
        else this.#end += n;
      } catch (error) {
        if (this.#closed || isPeerGone(error)) this.#eof = true;
        else throw error;
      } finally {
        this.#filling = undefined;
      }
    })();
    return this.#filling;
  }

  /** Ensures `n` (≤ buffer size) bytes are buffered; false at EOF. */
  async #need(n: number, partial: boolean): Promise<boolean> {
    while (this.#buffered < n) {
      if (this.#eof) {
        if (this.#buffered === 0 && !partial) return false;
        throw new EOFError(
          "Cannot receive: the peer closed the connection in the middle of a message",
        );
      }
      if (this.#buf.length - this.#start < n) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      await this.#fill();
    }
    return true;
  }

  async readFrame(maxSize: number): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    if (!await this.#need(4, false)) return null;
    const view = new DataView(this.#buf.buffer);
    let size: number = view.getInt32(this.#start);
    this.#start += 4;
    if (size === -1) {
      await this.#need(8, true);
      const big = view.getBigUint64(this.#start);
      this.#start += 8;
      if (big > BigInt(maxSize)) throw oversize(big, maxSize);
      size = Number(big);
    } else if (size < 0) {
      throw new RangeError(
        `Cannot receive message: invalid length ${size} in its header`,
      );
    }
    if (size > maxSize) throw oversize(size, maxSize);
    const out = new Uint8Array(size);
    const fromBuffer = Math.min(size, this.#buffered);
    out.set(this.#buf.subarray(this.#start, this.#start + fromBuffer));
    this.#start += fromBuffer;
    let filled = fromBuffer;
    while (filled < size) {
      if (this.#filling) await this.#filling;
      if (this.#buffered > 0) {
        const n = Math.min(size - filled, this.#buffered);
        out.set(this.#buf.subarray(this.#start, this.#start + n), filled);
        this.#start += n;
        filled += n;
        continue;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(out.subarray(filled));
      } catch (error) {
        if (this.#closed || isPeerGone(error)) n = null;
        else throw error;
      }
      if (n === null) {
        this.#eof = true;
        throw new EOFError(
          "Cannot receive: the peer closed the connection in the middle of a message",
        );
      }
      filled += n;
    }
    return out;
  }

  writeFrame(frame: Uint8Array): Promise<void> {
    const header = encodeHeader(frame.length);
    const task = this.#writing.then(async () => {
      if (frame.length <= 16384) {
        const whole = new Uint8Array(header.length + frame.length);
        whole.set(header);
        whole.set(frame, header.length);
        await this.#writeAll(whole);
      } else {
        await this.#writeAll(header);
        await this.#writeAll(frame);
      }
    });
    this.#writing = task.catch(() => {});
    return task;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      try {
        written += await this.#conn.write(bytes.subarray(written));
      } catch (error) {
        if (this.#closed || isPeerGone(error)) {
          throw new EOFError(
            "Cannot send: the peer closed the connection",
            { cause: error },
          );
        }
        throw error;
      }
    }
  }

  async poll(timeoutMs: number): Promise<boolean> {
    if (this.#buffered > 0 || this.#eof || this.#closed) return true;
    const filled = this.#fill().then(() => true, () => true);
    if (!Number.isFinite(timeoutMs)) return await filled;
    // timeout 0 still lets one event-loop turn deliver bytes already sent
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([filled, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}

function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionAborted;
}

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
