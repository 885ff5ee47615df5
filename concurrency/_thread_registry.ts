/**
 * The thread registry (private): one SharedArrayBuffer per process that gives
 * every thread (the main thread included) a unique positive `ident` and a
 * liveness word.
 *
 * Layout (Int32 words): `[MAGIC, NEXT_ID, 0, 0, slot0 .. slot(CAPACITY-1)]`.
 * A live thread owns slot `ident & (CAPACITY - 1)` and that slot holds its
 * ident; when the thread ends (its function returned or threw, its worker was
 * terminated, it called `Deno.exit()`), the `Thread` machinery writes 0 there
 * and notifies the word. `isIdentAlive(id)` is therefore one atomic load, and
 * an ident is never reused while its slot is taken.
 *
 * The main thread creates the registry on first use; `Thread` hands it to
 * each worker it starts, and shared-object handles carry it so a plain
 * `new Worker` that receives a lock adopts the same registry. Threads that
 * are not started by `Thread` are registered lazily and count as alive for
 * as long as the process runs (nobody can observe their end).
 *
 * @module
 */

import { MAGIC } from "./_layout.ts";

/** Live threads the registry can track at once. */
export const REGISTRY_CAPACITY = 4096;
const HEADER = 4;
const NEXT_ID = 1;

let registry: Int32Array | undefined;
let myIdent = 0;
let myName = "MainThread";
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown })
  .WorkerGlobalScope === "function";

function view(): Int32Array {
  if (registry === undefined) {
    const buffer = new SharedArrayBuffer((HEADER + REGISTRY_CAPACITY) * 4);
    registry = new Int32Array(buffer);
    registry[0] = MAGIC.Registry;
  }
  return registry;
}

/** The registry's shared memory (to hand to a new worker). */
export function registryBuffer(): SharedArrayBuffer {
  return view().buffer as SharedArrayBuffer;
}

/**
 * Uses `buffer` as this thread's registry unless one is already in use
 * (first one wins). Returns whether it was adopted.
 */
export function adoptRegistry(buffer: unknown): boolean {
  if (registry !== undefined || !(buffer instanceof SharedArrayBuffer)) {
    return false;
  }
  const candidate = new Int32Array(buffer);
  if (
    candidate.length !== HEADER + REGISTRY_CAPACITY ||
    Atomics.load(candidate, 0) !== MAGIC.Registry
  ) {
    return false;
  }
  registry = candidate;
  return true;
}

/** Index of the liveness word of `ident` in the registry view. */
export function slotIndex(ident: number): number {
  return HEADER + (ident & (REGISTRY_CAPACITY - 1));
}

/** The registry view (for waiting on a slot). */
export function registryView(): Int32Array {
  return view();
}

/**
 * Allocates a fresh ident and marks it alive.
 *
 * @throws {RangeError} If {@linkcode REGISTRY_CAPACITY} threads are alive.
 */
export function allocateIdent(): number {
  const v = view();
  for (let tries = 0; tries < REGISTRY_CAPACITY * 2; tries++) {
    const id = (Atomics.add(v, NEXT_ID, 1) + 1) & 0x7fffffff;
    if (id === 0) continue;
    if (Atomics.compareExchange(v, slotIndex(id), 0, id) === 0) return id;
  }
  throw new RangeError(
    `Cannot start thread: more than ${REGISTRY_CAPACITY} threads are alive`,
  );
}

/** Marks `ident` dead (idempotent) and wakes anyone watching its slot. */
export function releaseIdent(ident: number): void {
  const v = view();
  const i = slotIndex(ident);
  if (Atomics.compareExchange(v, i, ident, 0) === ident) Atomics.notify(v, i);
}

/** True while the thread `ident` has not ended. */
export function isIdentAlive(ident: number): boolean {
  return Atomics.load(view(), slotIndex(ident)) === ident;
}

/** Number of live registered threads (the main thread included). */
export function liveCount(): number {
  const v = view();
  let n = 0;
  for (let i = HEADER; i < v.length; i++) if (Atomics.load(v, i) !== 0) n++;
  return n;
}

/** The calling thread's ident (registered on first use). */
export function currentIdent(): number {
  if (myIdent === 0) myIdent = allocateIdent();
  return myIdent;
}

/** The calling thread's name. */
export function currentName(): string {
  return myName;
}

/** True on the process's main thread (not inside a Web Worker). */
export function onMainThread(): boolean {
  return !inWorker;
}

/** Called by the worker bootstrap: this worker is thread `ident`. */
export function setCurrentThread(ident: number, name: string): void {
  myIdent = ident;
  myName = name;
}

if (!inWorker) currentIdent(); // the main thread is always ident 1
