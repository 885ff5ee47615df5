/**
 * The event client's HTTP long-polling transport (private; web APIs only).
 *
 * One `GET` poll outstanding at a time; `POST`s one at a time carrying the
 * queued packets `\x1e`-joined (binary as `b<base64>`), each body at most
 * the server's `maxPayload`. A response body is read only up to the
 * client's `maxPayload`: one whose `Content-Length` announces more is
 * refused before reading, one that streams more is cut off there (close
 * reason `"payload too large"`).
 *
 * For an upgrade, `pause()` stops polling: it resolves once the poll in
 * flight has returned (its packets delivered) and every `POST` is answered,
 * so nothing is in flight when the engine switches to the WebSocket.
 *
 * @module
 */

import { decodePayload, encodePayload } from "./_event_packets.ts";
import { TOO_LARGE } from "./_event_client_websocket.ts";

/** A response body larger than the client's limit. */
class TooLarge extends RangeError {}

/**
 * Reads a response body as UTF-8 text, at most `max` bytes: refused from
 * its `Content-Length` before reading, else cut off once over.
 */
async function readText(r: Response, max: number): Promise<string> {
  const declared = r.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    await r.body?.cancel();
    throw new TooLarge(
      `Cannot receive: a response of ${declared} bytes is over maxPayload (${max} bytes)`,
    );
  }
  if (!r.body) return "";
  const reader = r.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new TooLarge(
        `Cannot receive: a response is over maxPayload (${max} bytes)`,
      );
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0]);
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

/** The polling transport of one Engine.IO session. */
export class PollingTransport {
  readonly name = "polling" as const;
  /** An engine packet (string) or binary message. */
  onpacket: (packet: string | Uint8Array) => void = () => {};
  /** Called once when the transport fails or ends. */
  onclose: (reason: string) => void = () => {};
  #url: string;
  #maxIn: number;
  #maxOut: number;
  #queue: (string | Uint8Array)[] = [];
  #posting?: Promise<void>;
  #polling?: Promise<void>;
  #paused = false;
  #ended = false;
  #abort = new AbortController();
  #tasks = new Set<Promise<unknown>>();

  /**
   * @param url The session's polling URL (with `sid`).
   * @param maxIn Largest response body to read (the client's `maxPayload`).
   * @param maxOut Largest request body (the server's `maxPayload`).
   */
  constructor(url: string, maxIn: number, maxOut: number) {
    this.#url = url;
    this.#maxIn = maxIn;
    this.#maxOut = maxOut;
  }

  /** The handshake `GET`: the open packet's payload (packets as text). */
  static async handshake(
    url: string,
    timeout: number,
    max: number,
  ): Promise<(string | Uint8Array)[]> {
    const signal = AbortSignal.timeout(timeout);
    const response = await fetch(url, { signal });
    let body: string;
    try {
      body = await readText(response, max);
    } catch (error) {
      if (error instanceof TooLarge) {
        throw new Error(`Cannot connect: ${TOO_LARGE}`);
      }
      throw error;
    }
    if (!response.ok) {
      throw new Error(
        `Cannot connect: HTTP ${response.status} ${body.slice(0, 200)}`,
      );
    }
    return decodePayload(body);
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    const p = promise.catch(() => {}).finally(() => this.#tasks.delete(p));
    this.#tasks.add(p);
    return promise;
  }

  /** Starts polling. */
  start(): void {
    this.#polling = this.#track(this.#pollLoop());
  }

  async #pollLoop(): Promise<void> {
    while (!this.#ended && !this.#paused) {
      let body: string;
      try {
        const r = await fetch(this.#url, { signal: this.#abort.signal });
        body = await readText(r, this.#maxIn);
        if (!r.ok) return this.#end("transport error");
      } catch (error) {
        return this.#end(
          error instanceof TooLarge ? TOO_LARGE : "transport error",
        );
      }
      let packets: (string | Uint8Array)[];
      try {
        packets = decodePayload(body);
      } catch {
        return this.#end("parse error");
      }
      for (const p of packets) {
        if (this.#ended) return;
        this.onpacket(p);
      }
    }
  }

  /** Queues packets; one `POST` at a time carries them. */
  send(packets: readonly (string | Uint8Array)[]): void {
    if (this.#ended) return;
    this.#queue.push(...packets);
    this.#posting ??= this.#track(this.#postLoop());
  }

  async #postLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#ended) {
        // one body at most maxPayload bytes (the server refuses more)
        let size = 0, count = 0;
        while (count < this.#queue.length) {
          const next = packetSize(this.#queue[count], false) + 1;
          if (count > 0 && size + next > this.#maxOut) break;
          size += next;
          count++;
        }
        const batch = this.#queue.splice(0, count);
        const r = await fetch(this.#url, {
          method: "POST",
          body: encodePayload(batch),
          headers: { "Content-Type": "text/plain;charset=UTF-8" },
          signal: this.#abort.signal,
        });
        await r.body?.cancel();
        if (!r.ok) return this.#end("transport error");
      }
    } catch {
      this.#end("transport error");
    } finally {
      this.#posting = undefined;
    }
  }

  /**
   * Stops polling for an upgrade: resolves once the poll in flight has
   * returned and every queued packet is posted.
   */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#polling;
    while (this.#posting && !this.#ended) await this.#posting;
  }

  /** Leaves the session to another transport (nothing is in flight). */
  discard(): void {
    this.#ended = true;
    this.#abort.abort();
  }

  /** Ends the session: posts the close packet `1` when `graceful`. */
  close(graceful: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.abort();
    if (!graceful) return;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 2000);
    this.#track(
      fetch(this.#url, { method: "POST", body: "1", signal: abort.signal })
        .then((r) => r.body?.cancel()).finally(() => clearTimeout(timer)),
    );
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.abort();
    this.onclose(reason);
  }

  /** Resolves once every request of this transport has ended (at most ~3 s). */
  async settled(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    while (this.#tasks.size > 0) {
      const late = await Promise.race([
        Promise.all(this.#tasks).then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), 3000)),
      ]);
      clearTimeout(timer);
      if (late) return;
    }
  }
}

/**
 * Bytes of an engine packet on the wire: UTF-8 for text (counted without
 * encoding); binary as `b<base64>` on polling, raw on a WebSocket.
 */
export function packetSize(p: string | Uint8Array, raw: boolean): number {
  if (typeof p !== "string") {
    return raw ? p.length : 1 + Math.ceil(p.length / 3) * 4;
  }
  let n = p.length;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < p.length) {
      n += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}
