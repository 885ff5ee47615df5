/**
 * The storage of a shared-memory queue (private): three SharedArrayBuffers,
 * all rebuilt from a handle in another worker, and the internal mutex that
 * guards them.
 *
 * | buffer  | growable | content                                          |
 * | ------- | -------- | ------------------------------------------------ |
 * | header  | no       | 24 Int32 words (`H_*`), 1 Float64 (seq counter), |
 * |         |          | then the two waiter rings (`_queue_core.ts`)     |
 * | slots   | yes      | one 48-byte slot per queued item                 |
 * | data    | yes      | the encoded bytes of queued items (an arena)     |
 *
 * `LOCK` is an internal mutex (0 free, 1 held, 2 held with sleepers) that
 * guards every other word, the slots and the data; it is only ever held for
 * a copy, never while waiting (and its waits are never interrupted, not
 * even by a thread stop, so no state is ever left half-updated).
 *
 * A slot holds `offset`, `length`, `tag` (Int32 words 0..2) and `priority`,
 * `seq`, `number`, `low` (Float64 words 2..5; `low` is the exact remainder
 * of a bigint priority beyond 2^53, compared after `priority`). FIFO slots
 * form a ring starting at `HEAD`; LIFO slots a stack; priority slots a
 * binary min-heap on `(priority, low, seq)`, so equal priorities leave in
 * insertion order.
 *
 * The data arena is bump-allocated at `TOP`. Freed bytes are only counted
 * (`LIVE`); when an item does not fit at the top the live records are
 * compacted to the start, and if it still does not fit the buffer grows (up
 * to `maxBufferSize`). When the queue becomes empty `TOP` returns to 0.
 *
 * @module
 */

import {
  decodeText,
  EMPTY_BYTES,
  type Encoded,
  type Popped,
  TAG_JSON,
  TAG_STRING,
} from "./_queue_codec.ts";
import { HANDLE_KIND, type SharedHandle } from "../_internal/share.ts";

export const KIND_FIFO = 0;
export const KIND_LIFO = 1;
export const KIND_PRIORITY = 2;
export type QueueKind =
  | typeof KIND_FIFO
  | typeof KIND_LIFO
  | typeof KIND_PRIORITY;

/**
 * A stored priority: a number, or `[high, low]` where `high` is the nearest
 * double and `low` the exact remainder (bigint priorities beyond 2^53).
 */
export type Priority = number | readonly [number, number];

const MAGIC = 0x57715545; // "WqUE"
export const H_MAGIC = 0;
export const H_LOCK = 1;
export const H_COUNT = 2;
export const H_MAXSIZE = 3;
export const H_UNFINISHED = 4;
export const H_CLOSED = 5;
/** Wake words (sequence numbers) of the overflow waiters and of join(). */
export const H_NOT_EMPTY = 6;
export const H_NOT_FULL = 7;
export const H_ALL_DONE = 8;
/** Overflow waiters (when a waiter ring is full). */
export const H_GET_WAITERS = 9;
export const H_PUT_WAITERS = 10;
export const H_KIND = 11;
const H_HEAD = 12;
const H_TOP = 13;
const H_LIVE = 14;
const H_SLOT_CAP = 15;
const H_DATA_CAP = 16;
export const H_MAX_DATA = 17;
/** Tickets of the getter and putter rings (`_queue_core.ts`). */
export const H_GET_NEXT = 18;
export const H_GET_SERVE = 19;
export const H_PUT_NEXT = 20;
export const H_PUT_SERVE = 21;
const HEADER_WORDS = 24;
/** Waiters each ring holds at once (more wait on the overflow words). */
export const RING = 128;
/** Int32 index of the getter ring's first word in the header. */
export const GET_RING = HEADER_WORDS + 2;
/** Int32 index of the putter ring's first word in the header. */
export const PUT_RING = GET_RING + RING;
const HEADER_BYTES = (PUT_RING + RING) * 4;

const SLOT_BYTES = 48;
const SLOT_I32 = SLOT_BYTES / 4;
const SLOT_F64 = SLOT_BYTES / 8;
const MAX_SLOTS = 1 << 24;
const INITIAL_SLOTS = 64;
/** Lock attempts before the internal mutex sleeps. */
const SPIN = 200;

/** Options shared by every queue constructor. */
export interface QueueOptions {
  /**
   * Most items the queue holds at once; `0` (the default) means unbounded
   * (limited only by memory: the slot table grows on demand).
   *
   * @default {0}
   */
  maxsize?: number;
  /**
   * Initial size in bytes of the shared buffer that holds encoded items
   * (64 KiB by default, or `maxBufferSize` if that is smaller). It grows on
   * demand up to `maxBufferSize`.
   *
   * @default {65536}
   */
  bufferSize?: number;
  /**
   * Largest the item buffer may grow, in bytes (default 256 MiB). One
   * encoded item larger than this is refused with a `RangeError`.
   *
   * @default {256 * 1024 * 1024}
   */
  maxBufferSize?: number;
}

/** The handle a queue crosses workers as. */
export interface QueueHandle extends SharedHandle {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  data: SharedArrayBuffer;
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

/** The buffers of one queue and the operations on them (see the module doc). */
export class QueueStore {
  readonly header: SharedArrayBuffer;
  readonly slotsBuf: SharedArrayBuffer;
  readonly dataBuf: SharedArrayBuffer;
  /** The header words (the rings included). */
  readonly h: Int32Array;
  #hf: Float64Array;
  #si: Int32Array;
  #sf: Float64Array;
  #data: Uint8Array;
  #kind: QueueKind;

  constructor(
    kind: QueueKind,
    handleKind: string,
    options: QueueOptions | QueueHandle | undefined,
  ) {
    this.#kind = kind;
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
      this.header = handle.header;
      this.slotsBuf = handle.slots;
      this.dataBuf = handle.data;
      this.h = new Int32Array(this.header, 0, HEADER_BYTES / 4);
      if (this.h[H_MAGIC] !== MAGIC || this.h[H_KIND] !== kind) {
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
      this.header = new SharedArrayBuffer(HEADER_BYTES);
      this.slotsBuf = new SharedArrayBuffer(slots * SLOT_BYTES, {
        maxByteLength: (maxsize > 0 ? maxsize : MAX_SLOTS) * SLOT_BYTES,
      });
      this.dataBuf = new SharedArrayBuffer(bufferSize, {
        maxByteLength: maxBuffer,
      });
      this.h = new Int32Array(this.header, 0, HEADER_BYTES / 4);
      this.h[H_MAXSIZE] = maxsize;
      this.h[H_KIND] = kind;
      this.h[H_SLOT_CAP] = slots;
      this.h[H_DATA_CAP] = bufferSize;
      this.h[H_MAX_DATA] = maxBuffer;
      Atomics.store(this.h, H_MAGIC, MAGIC);
    }
    this.#hf = new Float64Array(this.header, HEADER_WORDS * 4, 1);
    this.#si = new Int32Array(this.slotsBuf);
    this.#sf = new Float64Array(this.slotsBuf);
    this.#data = new Uint8Array(this.dataBuf);
  }

  /** Takes the internal mutex (never interrupted, see the module doc). */
  lock(): void {
    const h = this.h;
    if (Atomics.compareExchange(h, H_LOCK, 0, 1) === 0) return;
    for (let i = 0; i < SPIN; i++) {
      if (
        Atomics.load(h, H_LOCK) === 0 &&
        Atomics.compareExchange(h, H_LOCK, 0, 1) === 0
      ) {
        return;
      }
    }
    while (Atomics.exchange(h, H_LOCK, 2) !== 0) Atomics.wait(h, H_LOCK, 2);
  }

  /** Releases the internal mutex. */
  unlock(): void {
    const h = this.h;
    if (Atomics.sub(h, H_LOCK, 1) !== 1) {
      Atomics.store(h, H_LOCK, 0);
      Atomics.notify(h, H_LOCK, 1);
    }
  }

  // ---- storage (all under the lock) ------------------------------------

  /** True if one more item fits (a snapshot outside the lock). */
  hasRoom(): boolean {
    const max = Atomics.load(this.h, H_MAXSIZE);
    return max === 0 || Atomics.load(this.h, H_COUNT) < max;
  }

  /** Current data view; refreshed if another thread grew the buffer. */
  #dataView(): Uint8Array {
    if (this.#data.length < this.h[H_DATA_CAP]) {
      this.#data = new Uint8Array(this.dataBuf);
    }
    return this.#data;
  }

  #slotViews(): void {
    if (this.#si.length < this.h[H_SLOT_CAP] * SLOT_I32) {
      this.#si = new Int32Array(this.slotsBuf);
      this.#sf = new Float64Array(this.slotsBuf);
    }
  }

  /** Slot indices of the live items, in storage order. */
  #liveSlots(): number[] {
    const h = this.h;
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
    const h = this.h;
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
    const h = this.h;
    if (size === 0) return 0;
    let cap = h[H_DATA_CAP];
    if (h[H_TOP] + size > cap) {
      const live = h[H_LIVE];
      // Compact when that frees enough room and leaves slack; else grow.
      if (live + size > cap * 0.75 && cap < h[H_MAX_DATA]) {
        let next = cap;
        while (next < live + size + (live + size) / 3) next *= 2;
        next = Math.min(next, h[H_MAX_DATA]);
        this.dataBuf.grow(next);
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
    const h = this.h;
    const count = h[H_COUNT];
    const maxsize = h[H_MAXSIZE];
    if (maxsize > 0) return count < maxsize;
    const cap = h[H_SLOT_CAP];
    if (count < cap) return true;
    if (cap >= MAX_SLOTS) return false;
    const next = Math.min(cap * 2, MAX_SLOTS);
    this.slotsBuf.grow(next * SLOT_BYTES);
    this.#si = new Int32Array(this.slotsBuf);
    this.#sf = new Float64Array(this.slotsBuf);
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
    if (pa !== pb) return pa < pb;
    const la = sf[a * SLOT_F64 + 5];
    const lb = sf[b * SLOT_F64 + 5];
    if (la !== lb) return la < lb;
    return sf[a * SLOT_F64 + 3] < sf[b * SLOT_F64 + 3];
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

  /** Stores an encoded item (under the lock); false when there is no room. */
  push(enc: Encoded, priority: Priority): boolean {
    const h = this.h;
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
      if (typeof priority === "number") {
        sf[slot * SLOT_F64 + 2] = priority;
        sf[slot * SLOT_F64 + 5] = 0;
      } else {
        sf[slot * SLOT_F64 + 2] = priority[0];
        sf[slot * SLOT_F64 + 5] = priority[1];
      }
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

  /** Removes the next item (under the lock; the queue is not empty). */
  pop(): Popped {
    const h = this.h;
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
}
