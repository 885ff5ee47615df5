/**
 * The thread registry (private): one SharedArrayBuffer per process that gives
 * every thread (the main thread included) a unique positive `ident`, a
 * liveness word and a stop-request word.
 *
 * Layout (Int32 words):
 * `[MAGIC, NEXT_ID, DEATHS, 0, slot0 .. slot(CAPACITY-1), stop0 .. stop(CAPACITY-1)]`.
 * A live thread owns slot `ident & (CAPACITY - 1)` and that slot holds its
 * ident. **Only an end that is certain clears it**: the thread's own
 * bootstrap writes 0 there (and notifies the word) right before its worker
 * closes itself — after its function returned or threw, after `Deno.exit()`
 * or `close()` in its code, after an uncaught error, or when it honoured a
 * stop request. Deno's `Worker.terminate()` does not stop a worker that is
 * busy in JavaScript, so a terminate alone never frees an ident: the thread
 * keeps its locks, permits and places until its end is certain.
 * `isIdentAlive(id)` is therefore one atomic load, and an ident is never
 * reused while its slot is taken; a slot is reused once its thread ended.
 *
 * `stop[i] === ident` asks thread `ident` to stop (see `Thread.terminate()`).
 * Word `DEATHS` counts certain ends, so a thread with async lock waiters
 * can watch one word instead of polling every lock's owner.
 *
 * The registry is created on first use (nothing is allocated at import); the
 * main thread then takes ident 1. `Thread` and `Pool` hand the registry to
 * each worker they start, and shared-object handles carry it so a plain
 * `new Worker` that receives a lock adopts the same registry. Threads that
 * are not started by `Thread` or `Pool` are registered lazily and count as
 * alive for as long as the process runs (nobody can observe their end).
 *
 * @module
 */

import { MAGIC } from "./_layout.ts";

/** Live threads the registry can track at once. */
export const REGISTRY_CAPACITY = 4096;
const HEADER = 4;
const NEXT_ID = 1;
/** Bumped (and notified) on every certain thread end. */
export const DEATHS = 2;
const STOPS = HEADER + REGISTRY_CAPACITY;
const WORDS = HEADER + 2 * REGISTRY_CAPACITY;

let registry: Int32Array | undefined;
let myIdent = 0;
let myName = "MainThread";

function inWorker(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown })
    .WorkerGlobalScope === "function";
}

function view(): Int32Array {
  if (registry === undefined) {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    registry = new Int32Array(buffer);
    registry[0] = MAGIC.Registry;
    if (!inWorker()) {
      // The main thread is always ident 1.
      registry[NEXT_ID] = 1;
      registry[slotIndex(1)] = 1;
      myIdent = 1;
    }
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
    candidate.length !== WORDS ||
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
    if (Atomics.compareExchange(v, slotIndex(id), 0, id) === 0) {
      Atomics.store(v, STOPS + (id & (REGISTRY_CAPACITY - 1)), 0);
      return id;
    }
  }
  throw new RangeError(
    `Cannot start thread: more than ${REGISTRY_CAPACITY} threads are alive`,
  );
}

/**
 * Marks `ident` dead (idempotent) and wakes anyone watching its slot. Call
 * it only when the thread's end is certain.
 */
export function releaseIdent(ident: number): void {
  const v = view();
  const i = slotIndex(ident);
  if (Atomics.compareExchange(v, i, ident, 0) === ident) {
    Atomics.notify(v, i);
    Atomics.add(v, DEATHS, 1);
    Atomics.notify(v, DEATHS);
  }
}

/** True while the thread `ident` has not ended for certain. */
export function isIdentAlive(ident: number): boolean {
  return Atomics.load(view(), slotIndex(ident)) === ident;
}

/** Asks thread `ident` to stop (it notices at its next wait or event-loop turn). */
export function requestStop(ident: number): void {
  if (!isIdentAlive(ident)) return;
  const v = view();
  const i = STOPS + (ident & (REGISTRY_CAPACITY - 1));
  Atomics.store(v, i, ident);
  Atomics.notify(v, i);
}

/** True once thread `ident` was asked to stop. */
export function isStopRequested(ident: number): boolean {
  return Atomics.load(view(), STOPS + (ident & (REGISTRY_CAPACITY - 1))) ===
    ident;
}

/** Number of live registered threads (the main thread included). */
export function liveCount(): number {
  const v = view();
  let n = 0;
  for (let i = HEADER; i < STOPS; i++) if (Atomics.load(v, i) !== 0) n++;
  return n;
}

/** The calling thread's ident (registered on first use). */
export function currentIdent(): number {
  if (myIdent === 0) {
    view();
    if (myIdent === 0) myIdent = allocateIdent();
  }
  return myIdent;
}

/** The calling thread's name. */
export function currentName(): string {
  return myName;
}

/** True on the process's main thread (not inside a Web Worker). */
export function onMainThread(): boolean {
  return !inWorker();
}

/** Called by a worker bootstrap: this worker is thread `ident`. */
export function setCurrentThread(ident: number, name: string): void {
  myIdent = ident;
  myName = name;
}
