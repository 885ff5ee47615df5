/**
 * The two fair waiting lines of a queue (private): getters waiting for an
 * item and putters waiting for room, each a FIFO ticket ring in the
 * queue's header (see `_queue_core.ts` for the protocol). Every function
 * here runs under the queue's internal mutex; the ring word it returns is
 * notified by the caller after unlocking ({@linkcode notifyLine}).
 *
 * Word states of a ticket's ring word: `ARMED` (its holder sleeps there),
 * `WOKEN` (served: the holder should retry), `CANCELLED` (the holder gave
 * up before being served; servers skip it), 0 (free).
 *
 * @module
 */

import {
  GET_RING,
  H_GET_NEXT,
  H_GET_SERVE,
  H_GET_WAITERS,
  H_NOT_EMPTY,
  H_NOT_FULL,
  H_PUT_NEXT,
  H_PUT_SERVE,
  H_PUT_WAITERS,
  PUT_RING,
  RING,
} from "./_queue_store.ts";

const ARMED = 1;
const WOKEN = 2;
const CANCELLED = 3;

/** No word to notify. */
export const NO_WAKE = -1;
/** Notify the overflow word (all its sleepers). */
const WAKE_OVERFLOW = -2;

/** One line: where its tickets and words are in the header. */
export interface Line {
  next: number;
  serve: number;
  ring: number;
  /** More than `RING` sleepers wait on this word, woken all at once. */
  overflowWord: number;
  overflowWaiters: number;
}

/** Getters, waiting for an item. */
export const GETTERS: Line = {
  next: H_GET_NEXT,
  serve: H_GET_SERVE,
  ring: GET_RING,
  overflowWord: H_NOT_EMPTY,
  overflowWaiters: H_GET_WAITERS,
};

/** Putters, waiting for room. */
export const PUTTERS: Line = {
  next: H_PUT_NEXT,
  serve: H_PUT_SERVE,
  ring: PUT_RING,
  overflowWord: H_NOT_FULL,
  overflowWaiters: H_PUT_WAITERS,
};

/** A waiter's place: a ticket, an overflow registration, or nothing. */
export interface Place {
  /** The ticket, or -1. */
  ticket: number;
  /** Registered as an overflow waiter at this sequence, or -1. */
  overflow: number;
}

/** Where to sleep after {@linkcode enlist}. */
export interface Sleep {
  index: number;
  expected: number;
}

/** A waiter with no place yet. */
export function newPlace(): Place {
  return { ticket: -1, overflow: -1 };
}

function wordOf(line: Line, ticket: number): number {
  return line.ring + (ticket & (RING - 1));
}

/** True if `ticket` was served (woken or skipped) already. */
function served(h: Int32Array, line: Line, ticket: number): boolean {
  return ((h[line.serve] - ticket) | 0) > 0;
}

/**
 * Wakes the oldest armed waiter of `line` (skipping cancelled tickets);
 * returns the word to notify after unlocking, or {@linkcode NO_WAKE}.
 * Overflow waiters are woken (all) only when no ticket was.
 */
export function serveOne(h: Int32Array, line: Line): number {
  while (h[line.serve] !== h[line.next]) {
    const t = h[line.serve];
    h[line.serve] = (t + 1) | 0;
    const word = wordOf(line, t);
    const state = h[word];
    h[word] = state === ARMED ? WOKEN : 0;
    if (state === ARMED) return word;
  }
  if (h[line.overflowWaiters] > 0) {
    h[line.overflowWaiters] = 0;
    h[line.overflowWord]++;
    return WAKE_OVERFLOW;
  }
  return NO_WAKE;
}

/** Serves every waiter of `line` (close); returns the ring words to notify. */
export function serveAll(h: Int32Array, line: Line, words: number[]): void {
  for (;;) {
    const word = serveOne(h, line);
    if (word === NO_WAKE) break;
    if (word >= 0) words.push(word);
  }
}

/** Notifies what {@linkcode serveOne} chose (after unlocking). */
export function notifyLine(h: Int32Array, line: Line, word: number): void {
  if (word === NO_WAKE) return;
  if (word === WAKE_OVERFLOW) Atomics.notify(h, line.overflowWord);
  else Atomics.notify(h, word, 1);
}

/**
 * Drops a place: cancels an unserved ticket, or clears a served one. A
 * waiter that was served but leaves without taking anything passes the
 * wake on when `more` (an item, or room, is there for the next one).
 * Returns the word to notify, or {@linkcode NO_WAKE}.
 */
export function leave(
  h: Int32Array,
  line: Line,
  place: Place,
  more: boolean,
): number {
  let wake = NO_WAKE;
  if (place.ticket >= 0) {
    const word = wordOf(line, place.ticket);
    if (!served(h, line, place.ticket)) h[word] = CANCELLED;
    else {
      if (h[word] === WOKEN) h[word] = 0;
      if (more) wake = serveOne(h, line);
    }
    place.ticket = -1;
  }
  if (place.overflow >= 0) {
    if (
      h[line.overflowWord] === place.overflow && h[line.overflowWaiters] > 0
    ) h[line.overflowWaiters]--;
    place.overflow = -1;
  }
  return wake;
}

/** Takes a place in line (or keeps the one not served yet). */
export function enlist(h: Int32Array, line: Line, place: Place): Sleep {
  if (place.ticket >= 0 && !served(h, line, place.ticket)) {
    return { index: wordOf(line, place.ticket), expected: ARMED };
  }
  if (place.ticket >= 0) {
    const word = wordOf(line, place.ticket);
    if (h[word] === WOKEN) h[word] = 0;
    place.ticket = -1;
  }
  if (((h[line.next] - h[line.serve]) | 0) < RING) {
    const t = h[line.next];
    h[line.next] = (t + 1) | 0;
    h[wordOf(line, t)] = ARMED;
    place.ticket = t;
    return { index: wordOf(line, t), expected: ARMED };
  }
  if (place.overflow < 0 || h[line.overflowWord] !== place.overflow) {
    h[line.overflowWaiters]++;
    place.overflow = h[line.overflowWord];
  }
  return { index: line.overflowWord, expected: place.overflow };
}
