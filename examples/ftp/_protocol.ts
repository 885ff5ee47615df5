// The FTP example's wire protocol, shared by server.ts and client.ts.
//
// Transport: one TCP connection carrying frames of weft's
// LengthPrefixCodec (4-byte big-endian length, then the payload), so the
// "sticky packet" problem never reaches this code. A frame is either
//
//   - a control message: UTF-8 JSON, first byte "{"            (MESSAGE)
//   - a chunk of file data: the byte 0x00, then up to 64 KiB    (DATA)
//
// Conversation (C = client, S = server; every request gets one reply
// { ok: true, ... } or { ok: false, error }):
//
//   step | C sends                                  | S replies
//   -----+------------------------------------------+---------------------------------
//    1   | {op:"login", user, password}             | {ok, cwd:"/", quota, used}
//    2   | {op:"pwd"}                               | {ok, cwd}
//        | {op:"cd", path}                          | {ok, cwd}
//        | {op:"ls", path?}                         | {ok, entries:[{name,type,size}]}
//        | {op:"mkdir", path}                       | {ok}
//   put  | {op:"put", path, size, sha256}           | {ok, offset}  (bytes it already has)
//        | DATA frames from `offset` to `size`      |
//        | {op:"end"}                               | {ok, size, sha256}  (after checking)
//   get  | {op:"stat", path}                        | {ok, size, sha256}
//        | {op:"get", path, offset, sha256}         | {ok, size}, DATA frames, {op:"end"}
//    -   | {op:"quit"}                              | {ok}, then S closes
//
// Resuming: an interrupted upload stays on the server as
// ".<name>.<first 16 hex of sha256>.part"; a later put of the same content
// answers with that file's size as `offset`. Downloads resume the same way
// on the client side, which asks for the remaining bytes with `offset`.
// Both ends hash the whole file (SHA-256) and compare at the end; a
// mismatch deletes the partial file.
//
// Security notes: the password crosses the connection as sent (no TLS in
// this example): keep the server on loopback or put it behind TLS. The
// server never trusts client sizes: the quota is checked against the
// announced size before a transfer, an upload that sends more than it
// announced is cut off and deleted, and frames are capped at MAX_FRAME.
// (Two uploads by the same user at the same moment are each checked
// against the same usage, so together they can overshoot the quota.)

import { createHash } from "node:crypto";
import {
  type ByteStream,
  FramedConnection,
  LengthPrefixCodec,
} from "../../net/mod.ts";

/** File data travels in chunks of this size. */
export const CHUNK = 64 * 1024;
/** Largest frame either side accepts. */
export const MAX_FRAME = CHUNK + 1024;

/** A control message: JSON whose fields each step of the table defines. */
export type Message =
  & { op?: string; ok?: boolean; error?: string }
  // deno-lint-ignore no-explicit-any
  & Record<string, any>;

/** One received frame, classified. */
export type Incoming =
  | { kind: "message"; message: Message }
  | { kind: "data"; bytes: Uint8Array };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A framed connection speaking this protocol. */
export class Wire {
  readonly frames: FramedConnection;

  constructor(conn: ByteStream) {
    this.frames = new FramedConnection(
      conn,
      new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: MAX_FRAME }),
    );
  }

  /** Sends a control message. */
  send(message: Message): Promise<void> {
    return this.frames.send(encoder.encode(JSON.stringify(message)));
  }

  /** Sends a chunk of file data. */
  sendData(chunk: Uint8Array): Promise<void> {
    const frame = new Uint8Array(chunk.length + 1);
    frame.set(chunk, 1);
    return this.frames.send(frame);
  }

  /** The next frame, or null when the peer closed between frames. */
  /** Milliseconds a receive may wait before the connection is closed (clients set it). */
  timeout: number | undefined;

  async receive(): Promise<Incoming | null> {
    let frame: Uint8Array | null;
    if (this.timeout === undefined) {
      frame = await this.frames.receive();
    } else {
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        this.frames.close();
      }, this.timeout);
      try {
        frame = await this.frames.receive();
      } catch (error) {
        if (!expired) throw error;
        throw new Deno.errors.TimedOut(
          `No reply from the server within ${this.timeout} ms`,
        );
      } finally {
        clearTimeout(timer);
      }
    }
    if (frame === null) return null;
    if (frame[0] === 0) return { kind: "data", bytes: frame.subarray(1) };
    let message: unknown;
    try {
      message = JSON.parse(decoder.decode(frame));
    } catch {
      throw new TypeError("Cannot read message: it is not JSON");
    }
    if (
      typeof message !== "object" || message === null || Array.isArray(message)
    ) {
      throw new TypeError("Cannot read message: it is not a JSON object");
    }
    return { kind: "message", message: message as Message };
  }

  /** The next control message; throws on data, or on EOF. */
  async receiveMessage(): Promise<Message> {
    const incoming = await this.receive();
    if (incoming === null) {
      throw new Error("Connection closed by the peer");
    }
    if (incoming.kind !== "message") {
      throw new TypeError("Cannot read message: got file data instead");
    }
    return incoming.message;
  }

  /** Sends a request and returns the reply, throwing its error if not ok. */
  async request(message: Message): Promise<Message> {
    await this.send(message);
    const reply = await this.receiveMessage();
    if (!reply.ok) throw new Error(reply.error ?? "Request failed");
    return reply;
  }

  close(): void {
    this.frames.close();
  }
}

/** Name of the partial file that holds an interrupted transfer. */
export function partName(name: string, sha256: string): string {
  return `.${name}.${sha256.slice(0, 16)}.part`;
}

/** Hex SHA-256 of a whole file, read in chunks (node:crypto streams). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(CHUNK);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}

/** A SHA-256 that is fed as bytes go by. */
export function newHash(): {
  update(bytes: Uint8Array): void;
  digest(): string;
} {
  const hash = createHash("sha256");
  return {
    update: (bytes) => hash.update(bytes),
    digest: () => hash.digest("hex"),
  };
}

/** Feeds the first `length` bytes of a file into `hash`. */
export async function hashPrefix(
  path: string,
  length: number,
  hash: { update(bytes: Uint8Array): void },
): Promise<void> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(CHUNK);
  let left = length;
  while (left > 0) {
    const n = await file.read(buffer.subarray(0, Math.min(CHUNK, left)));
    if (n === null) {
      throw new Error(`File "${path}" is shorter than ${length} bytes`);
    }
    hash.update(buffer.subarray(0, n));
    left -= n;
  }
}

/** A progress bar on stderr: `name [#####.....]  52%  1.2 MiB/2.3 MiB`. */
export class Progress {
  #last = 0;
  #done: number;
  constructor(
    readonly label: string,
    readonly total: number,
    start: number,
    readonly enabled: boolean,
  ) {
    this.#done = start;
    this.#draw(true);
  }

  add(n: number): void {
    this.#done += n;
    this.#draw(false);
  }

  finish(): void {
    if (!this.enabled) return;
    this.#draw(true);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }

  #draw(force: boolean): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const fraction = this.total === 0 ? 1 : this.#done / this.total;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    const percent = `${Math.floor(fraction * 100)}`.padStart(3);
    const line = `\r${this.label} [${bar}] ${percent}%  ${mib(this.#done)}/${
      mib(this.total)
    }`;
    Deno.stderr.writeSync(encoder.encode(line));
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
