/**
 * `Connection`: one end of a message channel, like Python's
 * `multiprocessing.connection.Connection`.
 *
 * @module
 */
import {
  registerReviver,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../_internal/share.ts";
import { StreamTransport } from "./_stream_transport.ts";
import { EOFError, type Transport, writeCopy } from "./_wire.ts";
import { PortTransport } from "./_port_transport.ts";
import { type _Codec, _codecFor, NOT_FAST } from "./_pickle_serializer.ts";
import {
  CONNECTION_KIND,
  reviveTransport,
  shareTransport,
} from "./_connection_share.ts";

export { EOFError };

/**
 * Default {@linkcode ConnectionOptions.maxMessageSize}: 64 MiB.
 *
 * @example The limit a connection gets unless told otherwise
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_MESSAGE_SIZE, Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * assert.equal(a.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
 * assert.equal(DEFAULT_MAX_MESSAGE_SIZE, 64 * 1024 * 1024);
 * a.close();
 * b.close();
 * ```
 */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 64 * 1024 * 1024;

/**
 * Options of a {@linkcode Connection}.
 *
 * @example A receiving end that refuses messages over 4 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { Connection, type ConnectionOptions } from "@weft/weft/ipc";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using sender = Connection.fromConn(await Deno.connect({ port: listener.addr.port }));
 * const options: ConnectionOptions = { maxMessageSize: 4 };
 * using receiver = Connection.fromConn(await listener.accept(), options);
 * await sender.sendBytes(new Uint8Array(5));
 * await assert.rejects(receiver.recvBytes(), RangeError);
 * assert.equal(receiver.closed, true);
 * ```
 */
export interface ConnectionOptions {
  /**
   * Largest message accepted from the peer, in bytes (64 MiB by default,
   * {@linkcode DEFAULT_MAX_MESSAGE_SIZE}). A longer one closes the
   * connection and rejects the read with a `RangeError`; raise it to
   * receive messages of 2 GiB and more.
   *
   * @default {64 * 1024 * 1024}
   */
  maxMessageSize?: number;
  /**
   * False for the write-only end of a one-way pipe.
   *
   * @default {true}
   */
  readable?: boolean;
  /**
   * False for the read-only end of a one-way pipe.
   *
   * @default {true}
   */
  writable?: boolean;
  /**
   * What `send`/`recv` speak: `"v8"` (V8's serializer, for weft peers: Map,
   * Date, BigInt, typed arrays... round-trip) or `"pickle"` (Python's
   * pickle, for Python's `Connection.send`/`recv`; see `dumps` and `loads`
   * for the value mapping). `sendBytes`/`recvBytes` are the same either
   * way.
   *
   * @default {"v8"}
   */
  serializer?: "v8" | "pickle";
}

/**
 * One end of a message channel: a TCP or Unix socket (from `Client` or
 * `Listener.accept()`), a `Pipe` end, or a worker port. Like Python's
 * `multiprocessing.connection.Connection`, with the same framing on
 * sockets, so `sendBytes`/`recvBytes` interoperate with Python's
 * `send_bytes`/`recv_bytes` byte for byte.
 *
 * `send`/`recv` carry structured values. By default (`serializer: "v8"`)
 * they are encoded with V8's serializer (`node:v8`), for weft peers: Map,
 * Set, Date, BigInt, RegExp, typed arrays, nested objects and arrays
 * round-trip. With `serializer: "pickle"` they speak Python's pickle, so a
 * Python `Connection.send(obj)` / `recv()` is the other end (see `dumps` and
 * `loads` for the value mapping; nothing received is ever imported or
 * run). A pickle `recv()` refuses what `loads` refuses with an
 * `UnpicklingError`; the message is consumed and the connection stays
 * usable.
 *
 * Messages arrive whole and in order. Concurrent `send` calls never
 * interleave frames; concurrent `recv` calls are served in call order.
 *
 * ## Sharing
 *
 * A connection can be passed to a `Thread` (a worker) or a `Process` as an
 * argument; the end then lives there and this object is closed here (as
 * Python users close the parent's copy after handing an end to a child).
 * Messages already queued at either end stay in order.
 *
 * - A `Pipe` end whose peer is still in this thread is rewired so the two
 *   ends talk directly: to a worker, over two shared-memory rings (one per
 *   direction, `Atomics` with brief spinning before sleeping), so the peer
 *   here and the worker exchange frames without an event-loop message; to
 *   a process, over a socket of its own (below), never relayed by this
 *   process. A `Pipe` end whose peer already lives in a worker moves to
 *   another worker as it is (the two workers then share the rings).
 * - Any other end (a socket from `Client`/`Listener`, or a pipe end whose
 *   peer is elsewhere, going to a process) is relayed by this thread: it
 *   pumps frames between the end and a new port (worker) or socket
 *   (process) until either side closes.
 *
 * A process reaches its end over a Unix socket in a private 0700 directory
 * when both processes may use one (a plain `--allow-net` with `--allow-read`
 * and `--allow-write`), else over TCP on 127.0.0.1: this process opens a
 * one-shot meeting point (on port 0 for TCP) keyed by a random 32-byte
 * token that travels inside the (private) handle, never on a command line
 * or in the environment. Every connection there must pass the handshake of
 * `serverHandshake` with that token; connections that do not (another
 * local process connecting first, silent or not) are dropped without
 * disturbing the real child. A `Connection` received inside `send()` is
 * not shared: pass ends as arguments.
 *
 * ## EOF
 *
 * `recv()` rejects with {@linkcode EOFError} once the peer closed its end
 * (or its process died) and every message it sent was read. A worker
 * terminated abruptly gives no such signal on a port: close ends
 * explicitly.
 *
 * @example Objects and raw bytes over one pipe
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * await a.send({ when: new Date(0), tags: new Set(["x"]), big: 2n ** 70n });
 * const value = await b.recv<{ when: Date; tags: Set<string>; big: bigint }>();
 * assert.deepEqual(value, { when: new Date(0), tags: new Set(["x"]), big: 2n ** 70n });
 * await b.sendBytes(new TextEncoder().encode("raw"));
 * assert.equal(await a.poll(1000), true);
 * assert.equal(new TextDecoder().decode(await a.recvBytes()), "raw");
 * a.close();
 * b.close();
 * ```
 */
export class Connection implements Disposable {
  #transport: Transport;
  #readable: boolean;
  #writable: boolean;
  #maxMessageSize: number;
  #codec: _Codec;
  #closed = false;
  #reading: Promise<unknown> = Promise.resolve();
  #readsPending = 0;

  /**
   * Wraps a transport. Most code gets connections from `Client`,
   * `Listener.accept()`, `Pipe()` or {@linkcode Connection.fromConn}.
   */
  constructor(transport: Transport, options: ConnectionOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(
        `Invalid maxMessageSize: expected a non-negative integer, got ${max}`,
      );
    }
    this.#transport = transport;
    this.#readable = options.readable ?? true;
    this.#writable = options.writable ?? true;
    this.#maxMessageSize = max;
    this.#codec = _codecFor(options.serializer);
  }

  /**
   * Wraps a connected Deno socket (TCP or Unix) with Python's framing, with
   * no handshake.
   *
   * @example Both ends of a TCP connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "@weft/weft/ipc";
   *
   * const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const accepted = server.accept();
   * const { port } = server.addr as Deno.NetAddr;
   * const a = Connection.fromConn(await Deno.connect({ hostname: "127.0.0.1", port }));
   * const b = Connection.fromConn(await accepted);
   * await a.sendBytes(new Uint8Array([1, 2, 3]));
   * assert.deepEqual(await b.recvBytes(), new Uint8Array([1, 2, 3]));
   * a.close();
   * b.close();
   * server.close();
   * ```
   */
  static fromConn(conn: Deno.Conn, options?: ConnectionOptions): Connection {
    return new Connection(new StreamTransport(conn), options);
  }

  /**
   * Wraps a `MessagePort` whose other end is also wrapped by a weft
   * `Connection` (in this or another worker): each message is one frame,
   * and `close()` tells the peer (EOF). `Pipe()` is this over a fresh
   * `MessageChannel`.
   *
   * @example Both ends of a MessageChannel
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "@weft/weft/ipc";
   *
   * const { port1, port2 } = new MessageChannel();
   * const a = Connection.fromPort(port1);
   * const b = Connection.fromPort(port2);
   * await a.send([1, 2]);
   * assert.deepEqual(await b.recv(), [1, 2]);
   * a.close();
   * b.close();
   * ```
   */
  static fromPort(port: MessagePort, options?: ConnectionOptions): Connection {
    return new Connection(new PortTransport(port), options);
  }

  /** True once {@linkcode Connection.close} ran (or the end was shared away). */
  get closed(): boolean {
    return this.#closed;
  }

  /** False for the write-only end of a one-way pipe. */
  get readable(): boolean {
    return this.#readable;
  }

  /** False for the read-only end of a one-way pipe. */
  get writable(): boolean {
    return this.#writable;
  }

  /** The largest message this end accepts, in bytes. */
  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  /** What `send`/`recv` speak: `"v8"` or `"pickle"`. */
  get serializer(): "v8" | "pickle" {
    return this.#codec.name;
  }

  #checkWritable(): void {
    if (this.#closed) {
      throw new TypeError("Cannot send: the connection is closed");
    }
    if (!this.#writable) {
      throw new TypeError("Cannot send: this end of the pipe is read-only");
    }
  }

  #checkReadable(): void {
    if (this.#closed) {
      throw new TypeError("Cannot receive: the connection is closed");
    }
    if (!this.#readable) {
      throw new TypeError("Cannot receive: this end of the pipe is write-only");
    }
  }

  /**
   * Sends `bytes` (or `size` bytes of it from `offset`) as one message:
   * Python's `send_bytes`.
   *
   * @throws {TypeError} If the connection is closed or read-only.
   * @throws {EOFError} (rejection) If the peer is gone.
   *
   * @example Sending a slice: `offset` 1, `size` 2
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new Uint8Array([9, 8, 7, 6]), 1, 2);
   * assert.deepEqual(await b.recvBytes(), new Uint8Array([8, 7]));
   * a.close();
   * b.close();
   * ```
   */
  sendBytes(
    bytes: Uint8Array | ArrayBuffer,
    offset = 0,
    size?: number,
  ): Promise<void> {
    try {
      this.#checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    if (offset === 0 && size === undefined) {
      return this.#transport.writeFrame(view);
    }
    if (offset < 0 || offset > view.length) {
      return Promise.reject(
        new RangeError(`Invalid offset: ${offset} is outside the buffer`),
      );
    }
    const length = size ?? view.length - offset;
    if (length < 0 || offset + length > view.length) {
      return Promise.reject(
        new RangeError(`Invalid size: ${length} bytes do not fit the buffer`),
      );
    }
    return this.#transport.writeFrame(view.subarray(offset, offset + length));
  }

  /**
   * Receives one message as bytes: Python's `recv_bytes`. A message longer
   * than `maxLength` (or than `maxMessageSize`) closes the connection and
   * rejects with a `RangeError`.
   *
   * @throws {EOFError} (rejection) If the peer closed its end.
   *
   * @example Receiving one byte message
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new TextEncoder().encode("hi"));
   * assert.equal(new TextDecoder().decode(await b.recvBytes()), "hi");
   * a.close();
   * b.close();
   * ```
   */
  recvBytes(maxLength?: number): Promise<Uint8Array> {
    try {
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const limit = maxLength === undefined
      ? this.#maxMessageSize
      : Math.min(maxLength, this.#maxMessageSize);
    return this.#read(limit, false) as Promise<Uint8Array>;
  }

  /** One read in call order: bytes, or (`decode`) a value. */
  #read(limit: number, decode: boolean): Promise<unknown> {
    this.#readsPending++;
    // no read in flight: start at once (the common case); else after it
    const start = () => this.#startRead(limit, decode);
    const task = this.#readsPending === 1
      ? start()
      : this.#reading.then(start, start);
    this.#reading = task;
    return task;
  }

  #startRead(limit: number, decode: boolean): Promise<unknown> {
    if (this.#closed) {
      this.#readsPending--;
      return Promise.reject(
        new EOFError("Cannot receive: the connection was closed"),
      );
    }
    const transport = this.#transport;
    if (!decode) {
      return transport.readFrame(limit).then(this.#onFrame, this.#onError);
    }
    if (transport.readWith === undefined || !this.#codec.decodeView) {
      return transport.readFrame(limit).then(this.#onFrame, this.#onError)
        .then(this.#decode);
    }
    // decoded straight from the transport's buffer when the codec can
    // (no copy); else copied, then decoded
    return transport.readWith(limit, this.#decodeView).then(
      this.#onDecoded,
      this.#onError,
    );
  }

  #decodeView = (view: Uint8Array): { value: unknown } | Uint8Array => {
    const value = this.#codec.decodeView!(view);
    return value === NOT_FAST ? view.slice() : { value };
  };

  #onDecoded = (got: { value: unknown } | Uint8Array | null): unknown => {
    if (got === null) return this.#onFrame(got);
    this.#readsPending--;
    return got instanceof Uint8Array ? this.#codec.decode(got) : got.value;
  };

  #onFrame = (frame: Uint8Array | null): Uint8Array => {
    this.#readsPending--;
    if (frame === null) {
      throw new EOFError(
        this.#closed ? "Cannot receive: the connection was closed" : undefined,
      );
    }
    return frame;
  };

  #onError = (error: unknown): never => {
    this.#readsPending--;
    this.close();
    throw error;
  };

  /**
   * Sends a structured value: Python's `send`. V8-serialized for a weft
   * peer, or pickled (protocol 4) with `serializer: "pickle"`.
   *
   * @throws {PicklingError} (rejection) With `"pickle"`, for a value that
   * has no Python counterpart.
   *
   * @example A Map arrives as a Map
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send(new Map([["k", [1, 2]]]));
   * assert.deepEqual(await b.recv(), new Map([["k", [1, 2]]]));
   * a.close();
   * b.close();
   * ```
   */
  send(value: unknown): Promise<void> {
    const codec = this.#codec;
    let bytes: Uint8Array;
    try {
      this.#checkWritable();
      if (codec.encodeView === undefined) {
        bytes = codec.encode(value);
      } else {
        // encoded into the codec's reused buffer, copied by the transport
        const view = codec.encodeView(value);
        if (view !== undefined) return writeCopy(this.#transport, view);
        bytes = codec.encodeRest!(value);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.writeFrame(bytes);
  }

  /**
   * Receives a value sent with {@linkcode Connection.send}.
   *
   * @throws {EOFError} (rejection) If the peer closed its end.
   * @throws {TypeError} (rejection) With `"v8"`, if the message is not a
   * weft value (a pickle from Python: use `serializer: "pickle"`).
   * @throws {UnpicklingError} (rejection) With `"pickle"`, for a pickle that
   * `loads` refuses; the connection stays usable.
   *
   * @example A bigint survives the trip
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send({ n: 1n });
   * assert.deepEqual(await b.recv(), { n: 1n });
   * a.close();
   * b.close();
   * ```
   */
  recv<T = unknown>(): Promise<T> {
    try {
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read(this.#maxMessageSize, true) as Promise<T>;
  }

  #decode = (bytes: Uint8Array): unknown => this.#codec.decode(bytes);

  /**
   * Resolves `true` once a message (or EOF) can be read without waiting, or
   * `false` after `timeout` ms (default 0: answer at once; `null` or
   * `Infinity` waits forever). Like Python's `poll`, but in milliseconds.
   *
   * @example Nothing to read, then a message
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * assert.equal(await b.poll(), false);
   * await a.send("x");
   * assert.equal(await b.poll(1000), true);
   * a.close();
   * b.close();
   * ```
   */
  poll(timeout: number | null = 0): Promise<boolean> {
    try {
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.poll(timeout === null ? Infinity : timeout);
  }

  /**
   * Closes this end; the peer's reads then end with `EOFError`. Reads
   * pending here reject with `EOFError`. Idempotent.
   *
   * @example The other end sees EOF
   * ```ts
   * import assert from "node:assert/strict";
   * import { EOFError, Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * a.close();
   * assert.equal(a.closed, true);
   * await assert.rejects(b.recv(), EOFError);
   * b.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
  }

  /** Same as {@linkcode Connection.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Yields received values (as `recv()`) until the peer closes.
   *
   * @example Reading until the other end closes
   * ```ts
   * import assert from "node:assert/strict";
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send(1);
   * await a.send(2);
   * a.close();
   * const received: unknown[] = [];
   * for await (const n of b) received.push(n);
   * assert.deepEqual(received, [1, 2]);
   * b.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<unknown, void, undefined> {
    while (true) {
      try {
        yield await this.recv();
      } catch (error) {
        if (error instanceof EOFError) return;
        throw error;
      }
    }
  }

  /** Moves this end to a worker or a process (see "Sharing" above). */
  [TO_HANDLE](target: ShareTarget): SharedHandle {
    if (this.#closed) {
      throw new TypeError("Cannot share connection: it is closed");
    }
    this.#closed = true;
    return shareTransport(this.#transport, target, {
      readable: this.#readable,
      writable: this.#writable,
      maxMessageSize: this.#maxMessageSize,
      serializer: this.#codec.name,
    });
  }
}

registerReviver(CONNECTION_KIND, (handle) => {
  const { transport, meta } = reviveTransport(handle);
  return new Connection(transport, meta);
}, import.meta.url);
