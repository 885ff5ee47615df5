/**
 * Shared-memory layout helpers (private): every weft primitive is a view of
 * Int32 words over `(SharedArrayBuffer, byteOffset)` whose first word is a
 * magic number naming its kind. A wrong buffer, a misaligned offset, a block
 * that does not fit, or a block of another kind fails with a `RangeError`.
 *
 * Reusable by any shared structure: {@linkcode attachBlock} either claims a
 * zeroed block (initializing it) or attaches to one already initialized.
 *
 * @module
 */

/** Where a primitive's shared words live. */
export interface BlockLocation {
  /** The shared memory holding the block. */
  buffer: SharedArrayBuffer;
  /** Byte offset of the block; must be a multiple of 4. */
  byteOffset?: number;
}

/** Header word 0 of every block: the kind's magic number. */
export const MAGIC_WORD = 0;

/** Stable magic numbers of the synchronization primitives. */
export const MAGIC = {
  Lock: 0x57464c4b, // "WFLK"
  RLock: 0x5746524c, // "WFRL"
  Semaphore: 0x57465345, // "WFSE"
  Event: 0x57464556, // "WFEV"
  Condition: 0x5746434e, // "WFCN"
  Barrier: 0x57464252, // "WFBR"
  Registry: 0x57465247, // "WFRG"
} as const;

/** Magic written while a block is being initialized by another thread. */
const INITIALIZING = -1;

/**
 * Returns an Int32 view of `words` words at `location`, initializing it with
 * `init` if the block is still zero, or validating its magic otherwise.
 * Without a location, a fresh SharedArrayBuffer is allocated.
 *
 * @throws {RangeError} On a non-shared buffer, misalignment, a block that
 * does not fit, or a block initialized as another kind.
 */
export function attachBlock(
  kind: string,
  magic: number,
  words: number,
  location: BlockLocation | undefined,
  init: (view: Int32Array) => void,
): Int32Array {
  let buffer: SharedArrayBuffer;
  let byteOffset = 0;
  if (location === undefined) {
    buffer = new SharedArrayBuffer(words * 4);
  } else {
    buffer = location.buffer;
    byteOffset = location.byteOffset ?? 0;
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new RangeError(
        `Cannot create ${kind}: "buffer" must be a SharedArrayBuffer`,
      );
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4) {
      throw new RangeError(
        `Cannot create ${kind}: "byteOffset" must be a non-negative multiple of 4, got ${byteOffset}`,
      );
    }
    if (byteOffset + words * 4 > buffer.byteLength) {
      throw new RangeError(
        `Cannot create ${kind}: it needs ${
          words * 4
        } bytes at offset ${byteOffset}, the buffer has ${buffer.byteLength}`,
      );
    }
  }
  const view = new Int32Array(buffer, byteOffset, words);
  const found = Atomics.compareExchange(view, MAGIC_WORD, 0, INITIALIZING);
  if (found === 0) {
    init(view);
    Atomics.store(view, MAGIC_WORD, magic);
    Atomics.notify(view, MAGIC_WORD);
    return view;
  }
  if (found === INITIALIZING) {
    Atomics.wait(view, MAGIC_WORD, INITIALIZING, 1000);
  }
  const now = Atomics.load(view, MAGIC_WORD);
  if (now !== magic) {
    throw new RangeError(
      `Cannot attach ${kind}: the block at offset ${byteOffset} holds another kind of object (header 0x${
        (now >>> 0).toString(16)
      })`,
    );
  }
  return view;
}

/** Validates a block received in a handle (no initialization). */
export function reattachBlock(
  kind: string,
  magic: number,
  words: number,
  buffer: unknown,
  byteOffset: unknown,
): Int32Array {
  if (
    !(buffer instanceof SharedArrayBuffer) || typeof byteOffset !== "number"
  ) {
    throw new RangeError(`Cannot revive ${kind}: malformed handle`);
  }
  if (byteOffset % 4 || byteOffset + words * 4 > buffer.byteLength) {
    throw new RangeError(`Cannot revive ${kind}: malformed handle`);
  }
  const view = new Int32Array(buffer, byteOffset, words);
  if (Atomics.load(view, MAGIC_WORD) !== magic) {
    throw new RangeError(`Cannot revive ${kind}: the block holds another kind`);
  }
  return view;
}
