/**
 * The result mailbox of a `Pool` thread worker (private): the fast path of
 * a lone task on an idle pool. One small SharedArrayBuffer per worker.
 *
 * The parent arms the mailbox with the task's id before posting the task
 * ({@linkcode ParentMailbox.expect}); the worker, if that task's result is a
 * number, boolean, null or undefined, writes it here and notifies `SEQ`
 * instead of posting a message ({@linkcode WorkerMailbox.send}; an
 * `Atomics.waitAsync` wake-up costs about half a message round trip). Any
 * other outcome bumps `SEQ` with tag `POSTED` and goes by `postMessage` as
 * usual.
 *
 * | Int32 word | name  | meaning                                  |
 * | ---------- | ----- | ---------------------------------------- |
 * | 0          | SEQ   | bumped (and notified) on every hand-over |
 * | 1          | ARMED | id of the task expected, 0 if none       |
 * | 2          | ID    | id of the task handed over               |
 * | 3          | TAG   | what the value is (`POSTED`: see above)  |
 * | Float64 2  | VALUE | the value, when a number                 |
 * | Float64 3  | MS    | how long the task ran                    |
 *
 * @module
 */

import type { WireResult } from "./_pool_wire.ts";

const SEQ = 0;
const ARMED = 1;
const ID = 2;
const TAG = 3;
/** Float64 index of the value (a number). */
const VALUE = 2;
/** Float64 index of the task's run time in ms. */
const MS = 3;
/** Bytes of one mailbox. */
export const MAILBOX_BYTES = 32;

const POSTED = 0;
const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;
const NULL = 4;
const UNDEFINED = 5;

/** The tag of `value`, or -1 if it must be posted. */
function tagOf(value: unknown): number {
  switch (typeof value) {
    case "number":
      return NUMBER;
    case "boolean":
      return value ? TRUE : FALSE;
    case "undefined":
      return UNDEFINED;
  }
  return value === null ? NULL : -1;
}

/** The parent's end of a worker's mailbox. */
export class ParentMailbox {
  readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(MAILBOX_BYTES);
  #words = new Int32Array(this.buffer);
  #floats = new Float64Array(this.buffer);

  /**
   * Arms the mailbox for task `id` (call before posting it): `deliver` gets
   * its result if it comes this way; otherwise it comes as a message.
   */
  expect(id: number, deliver: (result: WireResult) => void): void {
    const words = this.#words;
    Atomics.store(words, ARMED, id);
    const wait = Atomics.waitAsync(words, SEQ, Atomics.load(words, SEQ));
    const read = () => {
      if (Atomics.load(words, ID) !== id) return; // a later task's
      const tag = Atomics.load(words, TAG);
      if (tag === POSTED) return; // the result comes as a message
      const value = tag === NUMBER
        ? this.#floats[VALUE]
        : tag === TRUE
        ? true
        : tag === FALSE
        ? false
        : tag === NULL
        ? null
        : undefined;
      deliver({ id, ok: true, value, ms: this.#floats[MS] });
    };
    if (wait.async) wait.value.then(read);
    else read();
  }
}

/** The worker's end of its mailbox. */
export class WorkerMailbox {
  #words: Int32Array;
  #floats: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
    this.#floats = new Float64Array(buffer);
  }

  /**
   * Hands over `result` if the parent armed the mailbox for its task:
   * true if the value went through the mailbox, false if it must be posted
   * (the parent then knows to wait for the message).
   */
  send(result: WireResult): boolean {
    const words = this.#words;
    const id = result.id;
    if (Atomics.load(words, ARMED) !== id) return false;
    Atomics.store(words, ARMED, 0);
    const tag = result.ok ? tagOf(result.value) : -1;
    if (tag === NUMBER) {
      this.#floats[VALUE] = (result as { value: number }).value;
    }
    this.#floats[MS] = result.ms;
    Atomics.store(words, TAG, tag < 0 ? POSTED : tag);
    Atomics.store(words, ID, id);
    Atomics.add(words, SEQ, 1);
    Atomics.notify(words, SEQ);
    return tag >= 0;
  }
}
