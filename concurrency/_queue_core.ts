/**
 * The shared-memory engine behind Queue, LifoQueue and PriorityQueue
 * (private).
 *
 * ## Memory
 *
 * Three SharedArrayBuffers, all rebuilt from a handle in another worker:
 *
 * | buffer  | growable | content                                          |
 * | ------- | -------- | ------------------------------------------------ |
 * | header  | no       | 24 Int32 words (below) + 1 Float64 (seq counter) |
 * | slots   | yes      | one 48-byte slot per queued item                 |
 * | data    | yes      | the encoded bytes of queued items (an arena)     |
 *
 * Header words: see the `H_*` constants. `LOCK` is an internal mutex
 * (0 free, 1 held, 2 held with sleepers) that guards every other word, the
 * slots and the data; it is only ever held for a copy, never while waiting.
 * `NOT_EMPTY`, `NOT_FULL` and `ALL_DONE` are wake words: sequence numbers
 * bumped under the lock whenever the condition may have changed; sleepers
 * read the sequence under the lock, release it, and wait while it is
 * unchanged, so no wake-up is lost.
 *
 * A slot holds `offset`, `length`, `tag` (Int32 words 0..2) and `priority`,
 * `seq`, `number` (Float64 words 2..4). FIFO slots form a ring starting at
 * `HEAD`; LIFO slots a stack; priority slots a binary min-heap on
 * `(priority, seq)`, so equal priorities leave in insertion order.
 *
 * The data arena is bump-allocated at `TOP`. Freed bytes are only counted
 * (`LIVE`); when an item does not fit at the top the live records are
 * compacted to the start, and if it still does not fit the buffer grows (up
 * to `maxBufferSize`). When the queue becomes empty `TOP` returns to 0.
 *
 * ## Encodings (per value kind, chosen for speed)
 *
 * undefined / null / booleans / numbers live in the slot itself; strings are
 * UTF-8; `Uint8Array`s are copied raw; plain JSON-safe trees (plain objects
 * and arrays of strings, finite numbers, booleans and null) are JSON; every
 * other structured-cloneable value goes through `node:v8` serialization.
 *
 * @module
 */

import {
  deserialize as v8Deserialize,
  serialize as v8Serialize,
} from "node:v8";
import { QueueClosed, QueueEmpty, QueueFull } from "./queue_errors.ts";
import {
  checkTimeout,
  deadlineOf,
  remaining,
  throwIfAborted,
  waitAsync,
  type WaitOptions,
  waitSync,
} from "./_wait.ts";
import { HANDLE_KIND, type SharedHandle, type ShareTarget } from "./_share.ts";

/**
 * Static key on `Queue` and its subclasses: which order a class serves
 * items in and the name its handles and errors use.
 */
export const QUEUE_ORDER: unique symbol = Symbol("weft.queueOrder");
/** Method key on `Queue` and its subclasses: the priority of an item. */
export const PRIORITY_OF: unique symbol = Symbol("weft.priorityOf");

/** What {@linkcode QUEUE_ORDER} holds. */
export interface QueueOrder {
  readonly kind: QueueKind;
  readonly name: string;
}

export const KIND_FIFO = 0;
export const KIND_LIFO = 1;
export const KIND_PRIORITY = 2;
export type QueueKind =
  | typeof KIND_FIFO
  | typeof KIND_LIFO
  | typeof KIND_PRIORITY;

const MAGIC = 0x57715545; // "WqUE"
const H_MAGIC = 0;
const H_LOCK = 1;
const H_COUNT = 2;
const H_MAXSIZE = 3;
const H_UNFINISHED = 4;
const H_CLOSED = 5;
const H_NOT_EMPTY = 6;
const H_NOT_FULL = 7;
const H_ALL_DONE = 8;
const H_GET_WAITERS = 9;
const H_PUT_WAITERS = 10;
const H_KIND = 11;
const H_HEAD = 12;
const H_TOP = 13;
const H_LIVE = 14;
const H_SLOT_CAP = 15;
const H_DATA_CAP = 16;
const H_MAX_DATA = 17;
const HEADER_WORDS = 24;
const HEADER_BYTES = HEADER_WORDS * 4 + 8;

const SLOT_BYTES = 48;
const SLOT_I32 = SLOT_BYTES / 4;
const SLOT_F64 = SLOT_BYTES / 8;
const MAX_SLOTS = 1 << 24;
const INITIAL_SLOTS = 64;

const TAG_UNDEFINED = 0;
const TAG_NULL = 1;
const TAG_TRUE = 2;
const TAG_FALSE = 3;
const TAG_NUMBER = 4;
const TAG_STRING = 5;
const TAG_BYTES = 6;
const TAG_JSON = 7;
const TAG_V8 = 8;

const SPIN = 200;
/** Loads of the count before a blocking waiter sleeps (a wake costs far more). */
const SPIN_WAIT = 4000;
const SCRATCH_MAX = 16384;
const scratch = new Uint8Array(SCRATCH_MAX * 3);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY_BYTES = new Uint8Array(0);

/** Options shared by every queue constructor. */
export interface QueueOptions {
  /**
   * Most items the queue holds at once; `0` (the default) means unbounded
   * (limited only by memory: the slot table grows on demand).
   */
  maxsize?: number;
  /**
   * Initial size in bytes of the shared buffer that holds encoded items
   * (default 64 KiB). It grows on demand up to `maxBufferSize`.
   */
  bufferSize?: number;
  /**
   * Largest the item buffer may grow, in bytes (default 256 MiB). One
   * encoded item larger than this is refused with a `RangeError`.
   */
  maxBufferSize?: number;
}

interface Encoded {
  tag: number;
  bytes: Uint8Array;
  number: number;
}

function isJsonSafe(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isJsonSafe(value[i], depth + 1)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        if (!isJsonSafe((value as Record<string, unknown>)[key], depth + 1)) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
  }
}

const SHORT_TEXT = 256;
const units: number[] = [];

/**
 * UTF-8 of `text`; short texts go into a per-thread scratch buffer (no
 * allocation), which the caller copies into the queue before encoding again.
 * Short ASCII is written by hand: faster than `encodeInto` at this size.
 */
function encodeText(text: string): Uint8Array {
  const n = text.length;
  if (n <= SHORT_TEXT) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      scratch[i] = c;
    }
    if (i === n) return scratch.subarray(0, n);
  }
  if (n <= SCRATCH_MAX) {
    const { written } = encoder.encodeInto(text, scratch);
    return scratch.subarray(0, written);
  }
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 written by {@linkcode encodeText} (so well-formed) from
 * shared memory. Short texts are decoded by hand: `TextDecoder` is several
 * times slower on a SharedArrayBuffer view than the copy it would need.
 */
function decodeText(data: Uint8Array, offset: number, size: number): string {
  if (size > SHORT_TEXT) {
    return decoder.decode(data.slice(offset, offset + size));
  }
  units.length = 0;
  const end = offset + size;
  for (let i = offset; i < end;) {
    const b = data[i++];
    if (b < 0x80) {
      units.push(b);
    } else if (b < 0xe0) {
      units.push(((b & 0x1f) << 6) | (data[i++] & 0x3f));
    } else if (b < 0xf0) {
      units.push(
        ((b & 0x0f) << 12) | ((data[i++] & 0x3f) << 6) | (data[i++] & 0x3f),
      );
    } else {
      const cp = (((b & 0x07) << 18) | ((data[i++] & 0x3f) << 12) |
        ((data[i++] & 0x3f) << 6) |
        (data[i++] & 0x3f)) - 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    }
  }
  return String.fromCharCode.apply(null, units);
}

/** Encodes one item (outside the lock). */
export function encodeItem(value: unknown): Encoded {
  switch (typeof value) {
    case "undefined":
      return { tag: TAG_UNDEFINED, bytes: EMPTY_BYTES, number: 0 };
    case "boolean":
      return {
        tag: value ? TAG_TRUE : TAG_FALSE,
        bytes: EMPTY_BYTES,
        number: 0,
      };
    case "number":
      return { tag: TAG_NUMBER, bytes: EMPTY_BYTES, number: value };
    case "string":
      // UTF-8 cannot carry lone surrogates: those strings take the v8 path.
      if (value.isWellFormed()) {
        return { tag: TAG_STRING, bytes: encodeText(value), number: 0 };
      }
      break;
  }
  if (value === null) return { tag: TAG_NULL, bytes: EMPTY_BYTES, number: 0 };
  if (
    value instanceof Uint8Array && value.constructor === Uint8Array &&
    !(value.buffer instanceof SharedArrayBuffer)
  ) {
    return { tag: TAG_BYTES, bytes: value, number: 0 };
  }
  if (isJsonSafe(value, 0)) {
    return {
      tag: TAG_JSON,
      bytes: encodeText(JSON.stringify(value)),
      number: 0,
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = v8Serialize(value);
  } catch (error) {
    throw new TypeError(
      "Cannot put item: it is not structured-cloneable into bytes " +
        "(functions, symbols, SharedArrayBuffers and weft objects cannot be queued)",
      { cause: error },
    );
  }
  return { tag: TAG_V8, bytes, number: 0 };
}

function decodeItem({ tag, bytes, number, text }: Popped): unknown {
  switch (tag) {
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_TRUE:
      return true;
    case TAG_FALSE:
      return false;
    case TAG_NUMBER:
      return number;
    case TAG_STRING:
      return text;
    case TAG_BYTES:
      return bytes;
    case TAG_JSON:
      return JSON.parse(text!);
    case TAG_V8:
      return v8Deserialize(bytes);
  }
  throw new RangeError(`Cannot get item: unknown encoding tag ${tag}`);
}

function checkSize(
  name: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot create queue: "${name}" must be an integer, got ${String(value)}`,
    );
  }
  if (value < min) {
    throw new RangeError(
      `Cannot create queue: "${name}" must be >= ${min}, got ${value}`,
    );
  }
  return value;
}

/** The handle a queue crosses workers as. */
export interface QueueHandle extends SharedHandle {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Options for the waiting async calls of a queue (`put`, `get`, `join`). */
export interface QueueWaitOptions {
  /** Give up after this many milliseconds (`put`/`get` throw `QueueFull` /
   * `QueueEmpty`; `join` resolves `false`). */
  timeout?: number;
  /** Abort the wait; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options for the blocking `...Sync` calls of a queue. */
export interface QueueSyncOptions {
  /** Give up after this many milliseconds (throws `QueueEmpty`/`QueueFull`). */
  timeout?: number;
  /** `false` never waits: same as `getNowait()` / `putNowait()`. */
  blocking?: boolean;
}

/** Where one popped item is, read under the lock. */
interface Popped {
  tag: number;
  bytes: Uint8Array;
  number: number;
  /** Strings and JSON are decoded straight from shared memory. */
  text?: string;
}

/**
 * The engine: a view over the three buffers. The public classes extend it
 * and only choose the kind and the item type.
 */
export class QueueCore {
  #header: SharedArrayBuffer;
  #slotsBuf: SharedArrayBuffer;
  #dataBuf: SharedArrayBuffer;
  #h: Int32Array;
  #hf: Float64Array;
  #si: Int32Array;
  #sf: Float64Array;
  #data: Uint8Array;
  #kind: QueueKind;
  #handleKind: string;

  constructor(
    kind: QueueKind,
    handleKind: string,
    options: QueueOptions | QueueHandle | undefined,
  ) {
    this.#kind = kind;
    this.#handleKind = handleKind;
    if (
      options !== undefined &&
      (options as QueueHandle)[HANDLE_KIND] === handleKind
    ) {
      const handle = options as QueueHandle;
      if (
        !(handle.header instanceof SharedArrayBuffer) ||
        handle.header.byteLength < HEADER_BYTES ||
        !(handle.slots instanceof SharedArrayBuffer) ||
        !(handle.data instanceof SharedArrayBuffer)
      ) {
        throw new RangeError(
          `Cannot revive ${handleKind}: the handle's buffers are malformed`,
        );
      }
      this.#header = handle.header;
      this.#slotsBuf = handle.slots;
      this.#dataBuf = handle.data;
      this.#h = new Int32Array(this.#header, 0, HEADER_WORDS);
      if (this.#h[H_MAGIC] !== MAGIC || this.#h[H_KIND] !== kind) {
        throw new RangeError(
          `Cannot revive ${handleKind}: the buffer does not hold a ${handleKind}`,
        );
      }
    } else {
      if (
        options !== undefined &&
        (typeof options !== "object" || options === null)
      ) {
        throw new TypeError(
          `Cannot create ${handleKind}: options must be an object`,
        );
      }
      const o = (options ?? {}) as QueueOptions;
      const maxsize = checkSize("maxsize", o.maxsize, 0, 0);
      if (maxsize > MAX_SLOTS) {
        throw new RangeError(
          `Cannot create queue: "maxsize" must be <= ${MAX_SLOTS}, got ${maxsize}`,
        );
      }
      const maxBuffer = checkSize(
        "maxBufferSize",
        o.maxBufferSize,
        1,
        256 * 1024 * 1024,
      );
      const bufferSize = checkSize(
        "bufferSize",
        o.bufferSize,
        1,
        Math.min(65536, maxBuffer),
      );
      if (bufferSize > maxBuffer) {
        throw new RangeError(
          `Cannot create queue: "bufferSize" (${bufferSize}) must be <= "maxBufferSize" (${maxBuffer})`,
        );
      }
      const slots = maxsize > 0 ? maxsize : INITIAL_SLOTS;
      this.#header = new SharedArrayBuffer(HEADER_BYTES);
      this.#slotsBuf = new SharedArrayBuffer(slots * SLOT_BYTES, {
        maxByteLength: (maxsize > 0 ? maxsize : MAX_SLOTS) * SLOT_BYTES,
      });
      this.#dataBuf = new SharedArrayBuffer(bufferSize, {
        maxByteLength: maxBuffer,
      });
      this.#h = new Int32Array(this.#header, 0, HEADER_WORDS);
      this.#h[H_MAXSIZE] = maxsize;
      this.#h[H_KIND] = kind;
      this.#h[H_SLOT_CAP] = slots;
      this.#h[H_DATA_CAP] = bufferSize;
      this.#h[H_MAX_DATA] = maxBuffer;
      Atomics.store(this.#h, H_MAGIC, MAGIC);
    }
    this.#hf = new Float64Array(this.#header, HEADER_WORDS * 4, 1);
    this.#si = new Int32Array(this.#slotsBuf);
    this.#sf = new Float64Array(this.#slotsBuf);
    this.#data = new Uint8Array(this.#dataBuf);
  }

  /** The handle for `target` (workers only). */
  toHandle(target: ShareTarget): QueueHandle {
    if (target !== "worker") {
      throw new TypeError(
        `Cannot share ${this.#handleKind} with another process: it lives in shared memory (use a Manager queue)`,
      );
    }
    return {
      [HANDLE_KIND]: this.#handleKind,
      header: this.#header,
      slots: this.#slotsBuf,
      data: this.#dataBuf,
    };
  }

  // ---- internal mutex --------------------------------------------------

  #lock(): void {
    const h = this.#h;
    if (Atomics.compareExchange(h, H_LOCK, 0, 1) === 0) return;
    for (let i = 0; i < SPIN; i++) {
      if (
        Atomics.load(h, H_LOCK) === 0 &&
        Atomics.compareExchange(h, H_LOCK, 0, 1) === 0
      ) {
        return;
      }
    }
    while (Atomics.exchange(h, H_LOCK, 2) !== 0) waitSync(h, H_LOCK, 2);
  }

  #unlock(): void {
    const h = this.#h;
    if (Atomics.sub(h, H_LOCK, 1) !== 1) {
      Atomics.store(h, H_LOCK, 0);
      Atomics.notify(h, H_LOCK, 1);
    }
  }

  // ---- storage (all under the lock) ------------------------------------

  #hasRoom(): boolean {
    const max = Atomics.load(this.#h, H_MAXSIZE);
    return max === 0 || Atomics.load(this.#h, H_COUNT) < max;
  }

  /** Current data view; refreshed if another thread grew the buffer. */
  #dataView(): Uint8Array {
    if (this.#data.length < this.#h[H_DATA_CAP]) {
      this.#data = new Uint8Array(this.#dataBuf);
    }
    return this.#data;
  }

  #slotViews(): void {
    if (this.#si.length < this.#h[H_SLOT_CAP] * SLOT_I32) {
      this.#si = new Int32Array(this.#slotsBuf);
      this.#sf = new Float64Array(this.#slotsBuf);
    }
  }

  /** Slot indices of the live items, in storage order. */
  #liveSlots(): number[] {
    const h = this.#h;
    const count = h[H_COUNT];
    const out: number[] = new Array(count);
    if (this.#kind === KIND_FIFO) {
      const cap = h[H_SLOT_CAP];
      const head = h[H_HEAD];
      for (let i = 0; i < count; i++) out[i] = (head + i) % cap;
    } else {
      for (let i = 0; i < count; i++) out[i] = i;
    }
    return out;
  }

  #compact(): void {
    const h = this.#h;
    const si = this.#si;
    const data = this.#dataView();
    const slots = this.#liveSlots().filter((s) => si[s * SLOT_I32 + 1] > 0);
    slots.sort((a, b) => si[a * SLOT_I32] - si[b * SLOT_I32]);
    let top = 0;
    for (const s of slots) {
      const off = si[s * SLOT_I32];
      const len = si[s * SLOT_I32 + 1];
      if (off !== top) data.copyWithin(top, off, off + len);
      si[s * SLOT_I32] = top;
      top += len;
    }
    h[H_TOP] = top;
    h[H_LIVE] = top;
  }

  /** Byte offset for `size` bytes, or -1 when there is no room right now. */
  #alloc(size: number): number {
    const h = this.#h;
    if (size === 0) return 0;
    let cap = h[H_DATA_CAP];
    if (h[H_TOP] + size > cap) {
      const live = h[H_LIVE];
      // Compact when that frees enough room and leaves slack; else grow.
      if (live + size > cap * 0.75 && cap < h[H_MAX_DATA]) {
        let next = cap;
        while (next < live + size + (live + size) / 3) next *= 2;
        next = Math.min(next, h[H_MAX_DATA]);
        this.#dataBuf.grow(next);
        h[H_DATA_CAP] = next;
        cap = next;
      }
      if (h[H_TOP] + size > cap) {
        if (live + size > cap) return -1;
        this.#compact();
      }
    }
    const offset = h[H_TOP];
    h[H_TOP] = offset + size;
    h[H_LIVE] += size;
    return offset;
  }

  /** True if there is a free slot (growing the table if unbounded). */
  #ensureSlot(): boolean {
    const h = this.#h;
    const count = h[H_COUNT];
    const maxsize = h[H_MAXSIZE];
    if (maxsize > 0) return count < maxsize;
    const cap = h[H_SLOT_CAP];
    if (count < cap) return true;
    if (cap >= MAX_SLOTS) return false;
    const next = Math.min(cap * 2, MAX_SLOTS);
    this.#slotsBuf.grow(next * SLOT_BYTES);
    this.#si = new Int32Array(this.#slotsBuf);
    this.#sf = new Float64Array(this.#slotsBuf);
    if (this.#kind === KIND_FIFO) {
      // Unwrap the ring: move the wrapped-around part after the old end.
      const head = h[H_HEAD];
      const wrapped = head + count - cap;
      if (wrapped > 0) {
        this.#si.copyWithin(cap * SLOT_I32, 0, wrapped * SLOT_I32);
      }
    }
    h[H_SLOT_CAP] = next;
    return true;
  }

  #less(a: number, b: number): boolean {
    const sf = this.#sf;
    const pa = sf[a * SLOT_F64 + 2];
    const pb = sf[b * SLOT_F64 + 2];
    return pa < pb ||
      (pa === pb && sf[a * SLOT_F64 + 3] < sf[b * SLOT_F64 + 3]);
  }

  #swap(a: number, b: number): void {
    const si = this.#si;
    const ao = a * SLOT_I32;
    const bo = b * SLOT_I32;
    for (let k = 0; k < SLOT_I32; k++) {
      const t = si[ao + k];
      si[ao + k] = si[bo + k];
      si[bo + k] = t;
    }
  }

  /** Stores an encoded item; false when there is no room. */
  #pushLocked(enc: Encoded, priority: number): boolean {
    const h = this.#h;
    this.#slotViews();
    if (!this.#ensureSlot()) return false;
    const size = enc.bytes.length;
    const offset = this.#alloc(size);
    if (offset < 0) return false;
    if (size > 0) this.#dataView().set(enc.bytes, offset);
    const count = h[H_COUNT];
    let slot: number;
    if (this.#kind === KIND_FIFO) slot = (h[H_HEAD] + count) % h[H_SLOT_CAP];
    else slot = count;
    const si = this.#si;
    const sf = this.#sf;
    si[slot * SLOT_I32] = offset;
    si[slot * SLOT_I32 + 1] = size;
    si[slot * SLOT_I32 + 2] = enc.tag;
    sf[slot * SLOT_F64 + 4] = enc.number;
    if (this.#kind === KIND_PRIORITY) {
      sf[slot * SLOT_F64 + 2] = priority;
      sf[slot * SLOT_F64 + 3] = this.#hf[0]++;
      let i = slot;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.#less(i, parent)) break;
        this.#swap(i, parent);
        i = parent;
      }
    }
    h[H_COUNT] = count + 1;
    h[H_UNFINISHED]++;
    h[H_NOT_EMPTY]++;
    return true;
  }

  #popLocked(): Popped {
    const h = this.#h;
    this.#slotViews();
    const count = h[H_COUNT];
    let slot: number;
    if (this.#kind === KIND_FIFO) {
      slot = h[H_HEAD];
      h[H_HEAD] = (slot + 1) % h[H_SLOT_CAP];
    } else if (this.#kind === KIND_LIFO) {
      slot = count - 1;
    } else {
      slot = 0;
    }
    const si = this.#si;
    const offset = si[slot * SLOT_I32];
    const size = si[slot * SLOT_I32 + 1];
    const tag = si[slot * SLOT_I32 + 2];
    const number = this.#sf[slot * SLOT_F64 + 4];
    // Copy out while we hold the lock: the bytes may move afterwards.
    let bytes = EMPTY_BYTES;
    let text: string | undefined;
    if (tag === TAG_STRING || tag === TAG_JSON) {
      text = decodeText(this.#dataView(), offset, size);
    } else if (size > 0) {
      bytes = this.#dataView().slice(offset, offset + size);
    }
    if (this.#kind === KIND_PRIORITY && count > 1) {
      this.#swap(0, count - 1);
      const n = count - 1;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.#less(l, m)) m = l;
        if (r < n && this.#less(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    h[H_COUNT] = count - 1;
    h[H_LIVE] -= size;
    if (count === 1) {
      h[H_TOP] = 0;
      h[H_LIVE] = 0;
      h[H_HEAD] = 0;
    }
    h[H_NOT_FULL]++;
    return { tag, bytes, number, text };
  }

  // ---- operations ------------------------------------------------------

  #checkFits(enc: Encoded): void {
    if (enc.bytes.length > this.#h[H_MAX_DATA]) {
      throw new RangeError(
        `Cannot put item: it encodes to ${enc.bytes.length} bytes, more than the queue's "maxBufferSize" (${
          this.#h[H_MAX_DATA]
        })`,
      );
    }
  }

  /**
   * Leaves the waiter count after a wait on `word` that started at `seq`,
   * unless a notifier already woke (and so unregistered) every waiter: any
   * change of the sequence means it did.
   */
  #unregister(word: number, waiters: number, seq: number): void {
    const h = this.#h;
    if (Atomics.load(h, word) !== seq) return;
    this.#lock();
    if (h[word] === seq && h[waiters] > 0) h[waiters]--;
    this.#unlock();
  }

  /**
   * Under one hold of the lock: stores the item (returns `null`), or, if
   * there is no room and `register` is set, registers as a put waiter and
   * returns the `NOT_FULL` sequence to wait on (or `false` without
   * `register`). Throws QueueClosed.
   */
  #putOrPrepare(
    enc: Encoded,
    priority: number,
    register: boolean,
  ): number | null | false {
    const h = this.#h;
    this.#lock();
    let wake = false;
    let result: number | null | false;
    try {
      if (h[H_CLOSED]) {
        throw new QueueClosed("Cannot put item: the queue is closed");
      }
      if (this.#pushLocked(enc, priority)) {
        // Every registered getter is woken (and unregistered) at once.
        wake = h[H_GET_WAITERS] > 0;
        if (wake) h[H_GET_WAITERS] = 0;
        result = null;
      } else if (register) {
        h[H_PUT_WAITERS]++;
        result = h[H_NOT_FULL];
      } else {
        result = false;
      }
    } finally {
      this.#unlock();
    }
    if (wake) Atomics.notify(h, H_NOT_EMPTY);
    return result;
  }

  /**
   * Under one hold of the lock: takes an item, or registers as a get waiter
   * and returns the `NOT_EMPTY` sequence (or `false` without `register`).
   * Throws QueueClosed once closed and drained.
   */
  #getOrPrepare(register: boolean): Popped | number | false {
    const h = this.#h;
    if (
      !register && Atomics.load(h, H_COUNT) === 0 && !Atomics.load(h, H_CLOSED)
    ) return false;
    this.#lock();
    let result: Popped | number | false;
    let wake = false;
    try {
      if (h[H_COUNT] > 0) {
        result = this.#popLocked();
        wake = h[H_PUT_WAITERS] > 0;
        if (wake) h[H_PUT_WAITERS] = 0;
      } else if (h[H_CLOSED]) {
        throw new QueueClosed("Cannot get item: the queue is closed");
      } else if (register) {
        h[H_GET_WAITERS]++;
        result = h[H_NOT_EMPTY];
      } else {
        result = false;
      }
    } finally {
      this.#unlock();
    }
    if (wake) Atomics.notify(h, H_NOT_FULL);
    return result;
  }

  async putItem(
    item: unknown,
    priority: number,
    options?: WaitOptions,
  ): Promise<void> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    const enc = encodeItem(item);
    this.#checkFits(enc);
    const deadline = deadlineOf(timeout);
    const h = this.#h;
    for (;;) {
      const waitTime = remaining(deadline);
      const seq = this.#putOrPrepare(enc, priority, waitTime > 0);
      if (seq === null) return;
      if (seq === false) {
        throw new QueueFull(
          `Cannot put item: the queue is still full after ${timeout} ms`,
        );
      }
      // Other puts of this thread may reuse the scratch buffer meanwhile.
      if (enc.bytes.buffer === scratch.buffer) enc.bytes = enc.bytes.slice();
      try {
        await waitAsync(h, H_NOT_FULL, seq, waitTime, signal);
      } finally {
        this.#unregister(H_NOT_FULL, H_PUT_WAITERS, seq);
      }
    }
  }

  putItemSync(
    item: unknown,
    priority: number,
    options?: QueueSyncOptions,
  ): void {
    const timeout = checkTimeout(options?.timeout);
    const enc = encodeItem(item);
    this.#checkFits(enc);
    if (this.#putOrPrepare(enc, priority, false) === null) return;
    if (options?.blocking === false) throw new QueueFull();
    const deadline = deadlineOf(timeout);
    const h = this.#h;
    for (;;) {
      for (let i = 0; i < SPIN_WAIT && !this.#hasRoom(); i++) {
        if (Atomics.load(h, H_CLOSED)) break;
      }
      const waitTime = remaining(deadline);
      const seq = this.#putOrPrepare(enc, priority, waitTime > 0);
      if (seq === null) return;
      if (seq === false) {
        throw new QueueFull(
          `Cannot put item: the queue is still full after ${timeout} ms`,
        );
      }
      try {
        waitSync(h, H_NOT_FULL, seq, waitTime);
      } finally {
        this.#unregister(H_NOT_FULL, H_PUT_WAITERS, seq);
      }
    }
  }

  putItemNowait(item: unknown, priority: number): void {
    const enc = encodeItem(item);
    this.#checkFits(enc);
    if (this.#putOrPrepare(enc, priority, false) !== null) {
      throw new QueueFull();
    }
  }

  async getItem(options?: WaitOptions): Promise<unknown> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    const deadline = deadlineOf(timeout);
    const h = this.#h;
    for (;;) {
      const waitTime = remaining(deadline);
      const got = this.#getOrPrepare(waitTime > 0);
      if (typeof got === "object") {
        return decodeItem(got);
      }
      if (got === false) {
        throw new QueueEmpty(
          `Cannot get item: the queue is still empty after ${timeout} ms`,
        );
      }
      try {
        await waitAsync(h, H_NOT_EMPTY, got, waitTime, signal);
      } finally {
        this.#unregister(H_NOT_EMPTY, H_GET_WAITERS, got);
      }
    }
  }

  getItemSync(options?: QueueSyncOptions): unknown {
    const timeout = checkTimeout(options?.timeout);
    const h = this.#h;
    let got = this.#getOrPrepare(false);
    if (typeof got === "object") {
      return decodeItem(got);
    }
    if (options?.blocking === false) throw new QueueEmpty();
    const deadline = deadlineOf(timeout);
    for (;;) {
      for (let i = 0; i < SPIN_WAIT && Atomics.load(h, H_COUNT) === 0; i++) {
        if (Atomics.load(h, H_CLOSED)) break;
      }
      const waitTime = remaining(deadline);
      got = this.#getOrPrepare(waitTime > 0);
      if (typeof got === "object") {
        return decodeItem(got);
      }
      if (got === false) {
        throw new QueueEmpty(
          `Cannot get item: the queue is still empty after ${timeout} ms`,
        );
      }
      try {
        waitSync(h, H_NOT_EMPTY, got, waitTime);
      } finally {
        this.#unregister(H_NOT_EMPTY, H_GET_WAITERS, got);
      }
    }
  }

  getItemNowait(): unknown {
    const got = this.#getOrPrepare(false);
    if (typeof got !== "object") throw new QueueEmpty();
    return decodeItem(got);
  }

  /** Number of items queued right now (a snapshot, like Python's). */
  qsize(): number {
    return Atomics.load(this.#h, H_COUNT);
  }

  /** True if no item is queued right now (a snapshot). */
  empty(): boolean {
    return Atomics.load(this.#h, H_COUNT) === 0;
  }

  /** True if `maxsize` items are queued right now (a snapshot). */
  full(): boolean {
    const max = Atomics.load(this.#h, H_MAXSIZE);
    return max > 0 && Atomics.load(this.#h, H_COUNT) >= max;
  }

  /** The `maxsize` given at construction (`0`: unbounded). */
  get maxsize(): number {
    return this.#h[H_MAXSIZE];
  }

  /** True once `close()` was called by any thread. */
  get closed(): boolean {
    return Atomics.load(this.#h, H_CLOSED) !== 0;
  }

  /** Marks one formerly queued item as processed (see `join`). */
  taskDone(): void {
    const h = this.#h;
    let done = false;
    this.#lock();
    try {
      if (h[H_UNFINISHED] <= 0) {
        throw new RangeError(
          "Cannot mark task done: taskDone() was called more times than items were put",
        );
      }
      if (--h[H_UNFINISHED] === 0) {
        h[H_ALL_DONE]++;
        done = true;
      }
    } finally {
      this.#unlock();
    }
    if (done) Atomics.notify(h, H_ALL_DONE);
  }

  /** Number of items put but not yet marked done with `taskDone()`. */
  get unfinishedTasks(): number {
    return Atomics.load(this.#h, H_UNFINISHED);
  }

  /** Under the lock: `true` when nothing is unfinished, else the
   * `ALL_DONE` sequence to wait on. Throws QueueClosed once closed. */
  #joinOrPrepare(): number | true {
    const h = this.#h;
    this.#lock();
    try {
      if (h[H_UNFINISHED] === 0) return true;
      if (h[H_CLOSED]) {
        throw new QueueClosed(
          "Cannot join queue: it was closed with unfinished tasks",
        );
      }
      return h[H_ALL_DONE];
    } finally {
      this.#unlock();
    }
  }

  /**
   * Waits until every item put has been marked done with `taskDone()`.
   * Resolves `true`, or `false` if `timeout` passed first.
   */
  async join(options?: WaitOptions): Promise<boolean> {
    const timeout = checkTimeout(options?.timeout);
    const signal = options?.signal;
    throwIfAborted(signal);
    const deadline = deadlineOf(timeout);
    for (;;) {
      const seq = this.#joinOrPrepare();
      if (seq === true) return true;
      const waitTime = remaining(deadline);
      if (waitTime === 0) return false;
      await waitAsync(this.#h, H_ALL_DONE, seq, waitTime, signal);
    }
  }

  /** Like `join()` but blocks the calling thread (workers). */
  joinSync(options?: { timeout?: number }): boolean {
    const timeout = checkTimeout(options?.timeout);
    const deadline = deadlineOf(timeout);
    for (;;) {
      const seq = this.#joinOrPrepare();
      if (seq === true) return true;
      const waitTime = remaining(deadline);
      if (waitTime === 0) return false;
      waitSync(this.#h, H_ALL_DONE, seq, waitTime);
    }
  }

  /** Closes the queue for every thread and wakes every waiter. Idempotent. */
  close(): void {
    const h = this.#h;
    this.#lock();
    try {
      if (h[H_CLOSED]) return;
      h[H_CLOSED] = 1;
      h[H_GET_WAITERS] = 0;
      h[H_PUT_WAITERS] = 0;
      h[H_NOT_EMPTY]++;
      h[H_NOT_FULL]++;
      h[H_ALL_DONE]++;
    } finally {
      this.#unlock();
    }
    Atomics.notify(h, H_NOT_EMPTY);
    Atomics.notify(h, H_NOT_FULL);
    Atomics.notify(h, H_ALL_DONE);
  }
}

/** Shared by the three queue classes' async iterators. */
export async function* iterate<T>(
  queue: { get(): Promise<T>; taskDone(): void },
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    let item: T;
    try {
      item = await queue.get();
    } catch (error) {
      if (error instanceof QueueClosed) return;
      throw error;
    }
    try {
      yield item;
    } finally {
      queue.taskDone();
    }
  }
}
