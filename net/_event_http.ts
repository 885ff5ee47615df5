/**
 * A small HTTP/1.1 server connection for the event server (private).
 *
 * The event server reads HTTP itself, on `Deno.listen`, instead of using
 * `Deno.serve`, so that every limit holds before bytes are buffered: a
 * request head is capped at `maxHeaderSize` and must arrive within
 * `headerTimeout` (a half-sent request or upgrade is closed then), a body
 * announcing more than the limit is refused from its `Content-Length`
 * without reading it, and WebSocket frames are checked from their header
 * (see `_event_websocket.ts`).
 *
 * Supported: keep-alive, `Content-Length` bodies (chunked request bodies
 * get 411), any `Response` for the fallback handler (its body is streamed
 * with chunked encoding).
 *
 * @module
 */

const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A parsed request head. */
export interface Head {
  method: string;
  target: string;
  headers: Headers;
  keepAlive: boolean;
}

/** A refusal with an HTTP status. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Buffered reader + serialized writer over one TCP connection. */
export class HttpConn {
  readonly conn: Deno.Conn;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes already read but not consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Takes the buffered, unconsumed bytes. */
  takeBuffered(): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return out;
  }

  /** Reads more bytes into the buffer; `false` at EOF. */
  async fill(limit: number): Promise<boolean> {
    if (this.#start > 0 && this.#start === this.#end) {
      this.#start = this.#end = 0;
    }
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        if (this.#buf.length >= limit) {
          throw new HttpError(431, "Request head too large");
        }
        const bigger = new Uint8Array(Math.min(this.#buf.length * 2, limit));
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** The buffered, unconsumed bytes: a view, valid until the next read. */
  peek(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Consumes `n` buffered bytes (at most {@linkcode buffered}). */
  skip(n: number): void {
    this.#start += n;
  }

  /** `n` bytes at once if they are already buffered (a copy), else `undefined`. */
  takeSync(n: number): Uint8Array | undefined {
    if (this.#end - this.#start < n) return undefined;
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Reads exactly `n` bytes (n is already capped by the caller). */
  async readExactly(n: number): Promise<Uint8Array | null> {
    if (n <= this.#buf.length) {
      // small reads go through the buffer: one syscall serves many frames
      while (this.#end - this.#start < n) {
        if (this.#start > 0 && this.#buf.length - this.#start < n) {
          this.#buf.copyWithin(0, this.#start, this.#end);
          this.#end -= this.#start;
          this.#start = 0;
        }
        const r = await this.conn.read(this.#buf.subarray(this.#end));
        if (r === null) return null;
        this.#end += r;
      }
      const out = this.#buf.slice(this.#start, this.#start + n);
      this.#start += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = Math.min(n, this.#end - this.#start);
    out.set(this.#buf.subarray(this.#start, this.#start + got));
    this.#start += got;
    while (got < n) {
      const r = await this.conn.read(out.subarray(got));
      if (r === null) return null;
      got += r;
    }
    return out;
  }

  /** Reads up to `into.length` bytes (at least 1); `null` at EOF. */
  async readSome(into: Uint8Array): Promise<number | null> {
    if (this.#end === this.#start) {
      this.#start = this.#end = 0;
      const r = await this.conn.read(this.#buf);
      if (r === null) return null;
      this.#end = r;
    }
    const n = Math.min(into.length, this.#end - this.#start);
    into.set(this.#buf.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /**
   * Reads one request head, at most `maxSize` bytes; `null` on a clean EOF
   * before any byte. Throws {@linkcode HttpError} on a bad or oversize head.
   */
  async readHead(maxSize: number): Promise<Head | null> {
    const text = await this.#headText(maxSize, "request");
    return text === null ? null : parseHead(text);
  }

  /**
   * Reads one response head (the client's WebSocket handshake), at most
   * `maxSize` bytes, with the same checks as {@linkcode readHead}.
   */
  async readResponseHead(
    maxSize: number,
  ): Promise<{ status: number; headers: Headers }> {
    const text = await this.#headText(maxSize, "response");
    if (text === null) {
      throw new HttpError(400, "Connection closed before the response head");
    }
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.[01] ([0-9]{3})(?: .*)?$/.exec(lines[0]);
    if (!m) throw new HttpError(400, "Malformed status line");
    return { status: Number(m[1]), headers: parseHeaders(lines) };
  }

  async #headText(maxSize: number, kind: string): Promise<string | null> {
    let scanned = 0; // bytes after #start already known not to start CRLFCRLF
    for (;;) {
      const at = indexOf(this.#buf, CRLF2, this.#start + scanned, this.#end);
      if (at >= 0) {
        const text = decoder.decode(this.#buf.subarray(this.#start, at));
        this.#start = at + 4;
        return text;
      }
      const before = this.#end - this.#start;
      if (before > maxSize) {
        throw new HttpError(
          431,
          `${kind === "request" ? "Request" : "Response"} head too large`,
        );
      }
      scanned = Math.max(0, before - 3);
      if (!await this.fill(maxSize + 4)) {
        if (before === 0) return null;
        throw new HttpError(400, `Connection closed inside the ${kind} head`);
      }
    }
  }

  /** Writes bytes; writes are serialized. Rejects once closed. */
  write(bytes: Uint8Array): Promise<void> {
    const next = this.#writing.then(async () => {
      let off = 0;
      while (off < bytes.length) {
        off += await this.conn.write(bytes.subarray(off));
      }
    });
    this.#writing = next.catch(() => {});
    return next;
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

function indexOf(
  buf: Uint8Array,
  needle: Uint8Array,
  from: number,
  end: number,
): number {
  outer: for (let i = from; i <= end - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (buf[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const m = /^([A-Z]{1,16}) (\S{1,8000}) HTTP\/1\.([01])$/.exec(lines[0]);
  if (!m) throw new HttpError(400, "Malformed request line");
  const headers = parseHeaders(lines);
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const keepAlive = m[3] === "1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  return { method: m[1], target: m[2], headers, keepAlive };
}

/** The header lines after the first line of a head. */
function parseHeaders(lines: string[]): Headers {
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpError(400, "Malformed header");
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      throw new HttpError(400, "Malformed header");
    }
  }
  return headers;
}

/** Reads a request body of at most `max` bytes (checked before reading). */
export async function readBody(
  http: HttpConn,
  head: Head,
  max: number,
): Promise<Uint8Array> {
  if (head.headers.has("transfer-encoding")) {
    throw new HttpError(411, "Length required");
  }
  const raw = head.headers.get("content-length");
  if (raw === null) return new Uint8Array(0);
  if (!/^[0-9]{1,12}$/.test(raw)) {
    throw new HttpError(400, "Bad Content-Length");
  }
  const length = Number(raw);
  if (length > max) throw new HttpError(413, "Payload too large");
  const body = await http.readExactly(length);
  if (!body) throw new HttpError(400, "Connection closed inside the body");
  return body;
}

const STATUS_TEXT: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  411: "Length Required",
  413: "Payload Too Large",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Writes a whole response (body known), with Content-Length. */
export function writeSimple(
  http: HttpConn,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
  keepAlive: boolean,
): Promise<void> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${bytes.length}\r\n`;
  head += keepAlive
    ? "Connection: keep-alive\r\n\r\n"
    : "Connection: close\r\n\r\n";
  const h = encoder.encode(head);
  const out = new Uint8Array(h.length + bytes.length);
  out.set(h);
  out.set(bytes, h.length);
  return http.write(out);
}

/** Writes a fetch `Response` (the fallback handler's), streaming its body. */
export async function writeResponse(
  http: HttpConn,
  response: Response,
  keepAlive: boolean,
  isHead: boolean,
): Promise<void> {
  let head = `HTTP/1.1 ${response.status} ${
    response.statusText || STATUS_TEXT[response.status] || "Unknown"
  }\r\n`;
  response.headers.forEach((v, k) => {
    if (
      k !== "content-length" && k !== "transfer-encoding" && k !== "connection"
    ) {
      head += `${k}: ${v}\r\n`;
    }
  });
  if (!response.body || isHead) {
    await response.body?.cancel();
    head += "Content-Length: 0\r\n";
    head += keepAlive
      ? "Connection: keep-alive\r\n\r\n"
      : "Connection: close\r\n\r\n";
    return http.write(encoder.encode(head));
  }
  head += "Transfer-Encoding: chunked\r\n";
  head += keepAlive
    ? "Connection: keep-alive\r\n\r\n"
    : "Connection: close\r\n\r\n";
  await http.write(encoder.encode(head));
  for await (const chunk of response.body) {
    if (chunk.length === 0) continue;
    await http.write(encoder.encode(chunk.length.toString(16) + "\r\n"));
    await http.write(chunk);
    await http.write(encoder.encode("\r\n"));
  }
  await http.write(encoder.encode("0\r\n\r\n"));
}
