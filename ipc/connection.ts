/**
 * `Connection`: one end of a message channel, like Python's
 * `multiprocessing.connection.Connection`.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import {
  registerReviver,
  type SharedHandle,
  type ShareTarget,
  TO_HANDLE,
} from "../concurrency/_share.ts";
import {
  EOFError,
  PortTransport,
  StreamTransport,
  type Transport,
} from "./_wire.ts";
import { connectRelay, relayFor, type RelayHandle } from "./_relay.ts";

export { EOFError };

/**
 * Default {@linkcode ConnectionOptions.maxMessageSize}: 64 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_MESSAGE_SIZE, Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * console.log(a.maxMessageSize === DEFAULT_MAX_MESSAGE_SIZE); // true
 * a.close();
 * b.close();
 * ```
 */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 64 * 1024 * 1024;

/** Options of a {@linkcode Connection}. */
export interface ConnectionOptions {
  /**
   * Largest message accepted from the peer, in bytes (default 64 MiB). A
   * longer one closes the connection and rejects the read with a
   * `RangeError`; raise it to receive messages of 2 GiB and more.
   */
  maxMessageSize?: number;
  /** False for the write-only end of a one-way pipe. Default true. */
  readable?: boolean;
  /** False for the read-only end of a one-way pipe. Default true. */
  writable?: boolean;
}

const KIND = "weft.Connection";

/**
 * One end of a message channel: a TCP or Unix socket (from `Client` or
 * `Listener.accept()`), a `Pipe` end, or a worker port. Like Python's
 * `multiprocessing.connection.Connection`, with the same framing on
 * sockets, so `sendBytes`/`recvBytes` interoperate with Python's
 * `send_bytes`/`recv_bytes` byte for byte.
 *
 * `send`/`recv` carry structured values between weft ends, encoded with
 * V8's serializer (`node:v8`): Map, Set, Date, BigInt, RegExp, typed
 * arrays, nested objects and arrays round-trip. Python speaks pickle there,
 * which weft does not, so Python peers must use `send_bytes`/`recv_bytes`
 * and weft must use `sendBytes`/`recvBytes` with them.
 *
 * Messages arrive whole and in order. Concurrent `send` calls never
 * interleave frames; concurrent `recv` calls are served in call order.
 *
 * ## Sharing
 *
 * A connection can be passed to a `Thread` (a worker) or a `Process` as an
 * argument; the end then lives there and this object is closed here (as
 * Python users close the parent's copy after handing an end to a child).
 * To a worker a `Pipe` end that was never read here moves as its
 * `MessagePort` (transferred, no relay; Deno cannot transfer a port once it
 * started receiving); any other end is relayed through a new port by this
 * thread. To a process every
 * end is relayed: this process opens a one-shot listener on 127.0.0.1 port
 * 0 and pumps frames between the end and the child's socket; the child
 * proves itself with the handshake of `deliverChallenge`, keyed by a
 * random 32-byte token that travels inside the (private) handle, never on a
 * command line or in the environment. The relay ends when either side
 * closes. A `Connection` received inside `send()` is not shared: pass ends
 * as arguments.
 *
 * ## EOF
 *
 * `recv()` rejects with {@linkcode EOFError} once the peer closed its end
 * (or its process died) and every message it sent was read. A worker
 * terminated abruptly gives no such signal on a port: close ends
 * explicitly.
 *
 * @example
 * ```ts
 * import { Pipe } from "@weft/weft/ipc";
 *
 * const [a, b] = Pipe();
 * await a.send({ when: new Date(0), tags: new Set(["x"]), big: 2n ** 70n });
 * const value = await b.recv<{ tags: Set<string>; big: bigint }>();
 * console.log(value.tags.has("x"), value.big); // true 1180591620717411303424n
 * await b.sendBytes(new TextEncoder().encode("raw"));
 * console.log(await a.poll(1000), new TextDecoder().decode(await a.recvBytes())); // true raw
 * a.close();
 * b.close();
 * ```
 */
export class Connection implements Disposable {
  #transport: Transport;
  #readable: boolean;
  #writable: boolean;
  #maxMessageSize: number;
  #closed = false;
  #reading: Promise<unknown> = Promise.resolve();

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
  }

  /**
   * Wraps a connected Deno socket (TCP or Unix) with Python's framing, with
   * no handshake.
   *
   * @example
   * ```ts
   * import { Connection } from "@weft/weft/ipc";
   *
   * const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const accepted = server.accept();
   * const { port } = server.addr as Deno.NetAddr;
   * const a = Connection.fromConn(await Deno.connect({ hostname: "127.0.0.1", port }));
   * const b = Connection.fromConn(await accepted);
   * await a.sendBytes(new Uint8Array([1, 2, 3]));
   * console.log(await b.recvBytes()); // Uint8Array(3) [ 1, 2, 3 ]
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
   * @example
   * ```ts
   * import { Connection } from "@weft/weft/ipc";
   *
   * const { port1, port2 } = new MessageChannel();
   * const a = Connection.fromPort(port1);
   * const b = Connection.fromPort(port2);
   * await a.send([1, 2]);
   * console.log(await b.recv()); // [ 1, 2 ]
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
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new Uint8Array([9, 8, 7, 6]), 1, 2);
   * console.log(await b.recvBytes()); // Uint8Array(2) [ 8, 7 ]
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
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.sendBytes(new TextEncoder().encode("hi"));
   * console.log(new TextDecoder().decode(await b.recvBytes())); // hi
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
    const task = this.#reading.then(async () => {
      if (this.#closed) {
        throw new EOFError("Cannot receive: the connection was closed");
      }
      let frame: Uint8Array | null;
      try {
        frame = await this.#transport.readFrame(limit);
      } catch (error) {
        this.close();
        throw error;
      }
      if (frame === null) {
        throw new EOFError(
          this.#closed
            ? "Cannot receive: the connection was closed"
            : undefined,
        );
      }
      return frame;
    });
    this.#reading = task.catch(() => {});
    return task;
  }

  /**
   * Sends a structured value (V8-serialized) to a weft peer: Python's
   * `send`, minus pickle.
   *
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send(new Map([["k", [1, 2]]]));
   * console.log(await b.recv()); // Map(1) { "k" => [ 1, 2 ] }
   * a.close();
   * b.close();
   * ```
   */
  send(value: unknown): Promise<void> {
    let bytes: Uint8Array;
    try {
      this.#checkWritable();
      bytes = serialize(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.writeFrame(bytes);
  }

  /**
   * Receives a value sent with {@linkcode Connection.send}.
   *
   * @throws {EOFError} (rejection) If the peer closed its end.
   * @throws {TypeError} (rejection) If the message is not a weft value (for
   * example bytes from a Python peer: use `recvBytes` for those).
   *
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send({ n: 1n });
   * console.log(await b.recv()); // { n: 1n }
   * a.close();
   * b.close();
   * ```
   */
  async recv<T = unknown>(): Promise<T> {
    const bytes = await this.recvBytes();
    try {
      return deserialize(bytes) as T;
    } catch (error) {
      throw new TypeError(
        "Cannot decode message: it is not a value sent by a weft send()",
        { cause: error },
      );
    }
  }

  /**
   * Resolves `true` once a message (or EOF) can be read without waiting, or
   * `false` after `timeout` ms (default 0: answer at once; `null` or
   * `Infinity` waits forever). Like Python's `poll`, but in milliseconds.
   *
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * console.log(await b.poll()); // false
   * await a.send("x");
   * console.log(await b.poll(1000)); // true
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
   * @example
   * ```ts
   * import { EOFError, Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * a.close();
   * await b.recv().catch((e) => console.log(e instanceof EOFError)); // true
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
   * @example
   * ```ts
   * import { Pipe } from "@weft/weft/ipc";
   *
   * const [a, b] = Pipe();
   * await a.send(1);
   * await a.send(2);
   * a.close();
   * for await (const n of b) console.log(n); // 1, then 2
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
    const meta = {
      readable: this.#readable,
      writable: this.#writable,
      maxMessageSize: this.#maxMessageSize,
    };
    if (
      target === "worker" && this.#transport instanceof PortTransport &&
      this.#transport.transferable
    ) {
      const { port, pending, eof } = this.#transport.detach();
      return { "@@weft": KIND, via: "port", port, pending, eof, ...meta };
    }
    const via = relayFor(this.#transport, target);
    return { "@@weft": KIND, ...via, ...meta };
  }
}

registerReviver(KIND, (handle) => {
  const options: ConnectionOptions = {
    readable: handle.readable as boolean,
    writable: handle.writable as boolean,
    maxMessageSize: handle.maxMessageSize as number,
  };
  if (handle.via === "port") {
    return new Connection(
      new PortTransport(
        handle.port as MessagePort,
        handle.pending as Uint8Array[],
        handle.eof as boolean,
      ),
      options,
    );
  }
  return new Connection(
    connectRelay(handle as unknown as RelayHandle),
    options,
  );
}, import.meta.url);
