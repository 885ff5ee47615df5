/**
 * What every shared-memory primitive (Lock, RLock, Semaphore, Event,
 * Condition, Barrier) shares about crossing to a worker (private): the one
 * handle shape `{ "@@weft": kind, buffer, byteOffset, registry, ...extra }`
 * and the one reviver that adopts the thread registry and rebuilds the
 * primitive over the same block. Memory-only: sharing with a process throws
 * the one `TypeError` of `refuseProcess`.
 *
 * @module
 */

import type { BlockLocation } from "./_layout.ts";
import {
  registerReviver,
  type SharedHandle,
  type ShareTarget,
} from "../_internal/share.ts";
import { refuseProcess } from "./_sync_guard.ts";
import { adoptRegistry, registryBuffer } from "./_thread_registry.ts";

/** The handle of a primitive whose block is `view` (workers only). */
export function blockHandle(
  kind: string,
  target: ShareTarget,
  view: { buffer: ArrayBufferLike; byteOffset: number },
  extra?: Record<string, unknown>,
): SharedHandle {
  refuseProcess(kind, target);
  return {
    "@@weft": kind,
    ...extra,
    buffer: view.buffer,
    byteOffset: view.byteOffset,
    registry: registryBuffer(),
  };
}

/**
 * Registers the reviver of `kind`: adopts the sender's thread registry,
 * then `make(location, handle)` rebuilds the primitive over the block.
 */
export function registerBlock(
  kind: string,
  make: (location: BlockLocation, handle: SharedHandle) => unknown,
  moduleUrl: string,
): void {
  registerReviver(kind, (h) => {
    adoptRegistry(h.registry);
    return make({
      buffer: h.buffer as SharedArrayBuffer,
      byteOffset: h.byteOffset as number,
    }, h);
  }, moduleUrl);
}
