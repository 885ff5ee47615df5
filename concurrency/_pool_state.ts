/**
 * The shared state words of a `Pool` thread worker (private): what the
 * parent reads for timeouts and stats, and the exactly-once claim. One
 * small SharedArrayBuffer per worker; the worker writes, the parent reads
 * (and closes the claim).
 *
 * | Int32 word | name    | meaning                                             |
 * | ---------- | ------- | --------------------------------------------------- |
 * | 0          | STATE   | idle (0) or running (1)                             |
 * | 1          | TASK    | id of the task running now                          |
 * | 2          | STARTED | when it started (ms since the pool's epoch)         |
 * | 3          | BEGUN   | tasks begun (run or skipped), plus `CLAIM_CLOSED`   |
 *
 * The claim: the worker begins a task only by a compare-exchange on BEGUN
 * that keeps the `CLAIM_CLOSED` bit clear; the parent sets the bit with one
 * atomic `or` that returns the count. So the two agree exactly on which
 * dispatched tasks ran, and the parent re-queues only the others (a task
 * never runs twice).
 *
 * @module
 */

const STATE = 0;
const TASK = 1;
const STARTED = 2;
const BEGUN = 3;
const WORDS = 4;
const CLAIM_CLOSED = 0x40000000;

const IDLE = 0;
const RUNNING = 1;

/** One worker's state words; the parent makes them, the worker attaches. */
export class WorkerState {
  readonly buffer: SharedArrayBuffer;
  #words: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
  }

  // ---- parent side ---------------------------------------------------------

  /** Id of the task running now, 0 if none. */
  runningTask(): number {
    return Atomics.load(this.#words, STATE) === RUNNING
      ? Atomics.load(this.#words, TASK)
      : 0;
  }

  /** When the running task started (ms since the pool's epoch). */
  startedAt(): number {
    return Atomics.load(this.#words, STARTED);
  }

  /**
   * Closes the claim: the worker begins no task from now on. Returns how
   * many of the dispatched tasks it began (exact).
   */
  closeClaim(): number {
    return Atomics.or(this.#words, BEGUN, CLAIM_CLOSED) & ~CLAIM_CLOSED;
  }

  // ---- worker side ---------------------------------------------------------

  /** Claims the next dispatched task; false once the parent closed the claim. */
  begin(): boolean {
    const words = this.#words;
    const n = Atomics.load(words, BEGUN);
    return (n & CLAIM_CLOSED) === 0 &&
      Atomics.compareExchange(words, BEGUN, n, n + 1) === n;
  }

  /** Task `id` runs from `at` (ms since the pool's epoch). */
  running(id: number, at: number): void {
    const words = this.#words;
    Atomics.store(words, TASK, id);
    Atomics.store(words, STARTED, at);
    Atomics.store(words, STATE, RUNNING);
  }

  /** No task runs. */
  idle(): void {
    Atomics.store(this.#words, STATE, IDLE);
  }
}
