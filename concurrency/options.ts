/**
 * The option types every shared-memory primitive takes: where its memory
 * lives ({@linkcode SharedLocation}) and how a wait may end
 * ({@linkcode WaitOptions} for async waits, {@linkcode SyncWaitOptions} for
 * blocking ones). Re-exported from `lock.ts` and the module root.
 *
 * @module
 */

import type { BlockLocation } from "./_layout.ts";

export type { SyncWaitOptions, WaitOptions } from "./_wait.ts";

/** Where a primitive's shared memory lives (defaults to a fresh buffer). */
export type SharedLocation = BlockLocation;
