/**
 * A FIFO with O(1) `shift` (private): the pool's queue of waiting tasks can
 * hold hundreds of thousands of entries, where `Array.prototype.shift` may
 * copy the whole array.
 *
 * @module
 */

/** Array-backed deque: items live at `items[head..]`. */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Number of items. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends one item. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the first item (undefined when empty). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Puts `items` back at the front, keeping their order. */
  unshiftAll(items: T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  /** Removes one item (O(n)); true if it was there. */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item, this.#head);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }

  /** Removes and returns every item. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }

  /** The items, in order (a copy). */
  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}
