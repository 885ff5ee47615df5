/**
 * The container objects a manager server holds (private): dict, list,
 * Namespace and Value. Every class lists the methods a client may call in
 * `static methods`; the server refuses anything else.
 *
 * @module
 */

import { ServerObject } from "./_manager_object_base.ts";

// ---------------------------------------------------------------------------
// Data types

export function checkKey(key: unknown, what: string): void {
  if (typeof key === "object" && key !== null) {
    throw new TypeError(
      `Cannot ${what}: dict keys must be primitives (string, number, bigint, boolean, null, undefined)`,
    );
  }
}

function toEntries(
  source: unknown,
  what: string,
): Iterable<[unknown, unknown]> {
  if (source instanceof Map) return source;
  if (Array.isArray(source)) {
    for (const pair of source) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `Cannot ${what}: entries must be [key, value] pairs`,
        );
      }
    }
    return source as [unknown, unknown][];
  }
  if (typeof source === "object" && source !== null) {
    return Object.entries(source);
  }
  throw new TypeError(
    `Cannot ${what}: expected a Map, an array of [key, value] pairs or an object`,
  );
}

/** Python's `dict`, on a `Map` with primitive keys. */
export class DictObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "delete",
    "has",
    "keys",
    "values",
    "entries",
    "size",
    "clear",
    "update",
    "setdefault",
    "pop",
    "increment",
  ]);
  #map = new Map<unknown, unknown>();

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      this.update(undefined, initial);
    }
  }

  get(_: unknown, key: unknown, fallback?: unknown): unknown {
    return this.#map.has(key) ? this.#map.get(key) : fallback;
  }
  set(_: unknown, key: unknown, value: unknown): void {
    checkKey(key, "set dict item");
    this.#map.set(key, value);
  }
  delete(_: unknown, key: unknown): boolean {
    return this.#map.delete(key);
  }
  has(_: unknown, key: unknown): boolean {
    return this.#map.has(key);
  }
  keys(): unknown[] {
    return [...this.#map.keys()];
  }
  values(): unknown[] {
    return [...this.#map.values()];
  }
  entries(): [unknown, unknown][] {
    return [...this.#map.entries()];
  }
  size(): number {
    return this.#map.size;
  }
  clear(): void {
    this.#map.clear();
  }
  update(_: unknown, source: unknown): void {
    const entries = [...toEntries(source, "update dict")];
    for (const [key] of entries) checkKey(key, "update dict");
    for (const [key, value] of entries) this.#map.set(key, value);
  }
  setdefault(_: unknown, key: unknown, value: unknown): unknown {
    checkKey(key, "set dict default");
    if (this.#map.has(key)) return this.#map.get(key);
    this.#map.set(key, value);
    return value;
  }
  pop(_: unknown, key: unknown, fallback?: unknown): unknown {
    if (!this.#map.has(key)) return fallback;
    const value = this.#map.get(key);
    this.#map.delete(key);
    return value;
  }
  increment(_: unknown, key: unknown, by: unknown = 1): unknown {
    checkKey(key, "increment dict item");
    const current = this.#map.has(key) ? this.#map.get(key) : 0;
    const next = add(current, by, "increment dict item");
    this.#map.set(key, next);
    return next;
  }
}

export function add(current: unknown, by: unknown, what: string): unknown {
  if (typeof current === "number" && typeof by === "number") {
    return current + by;
  }
  if (typeof current === "bigint" && typeof by === "bigint") {
    return current + by;
  }
  throw new TypeError(
    `Cannot ${what}: expected numbers (or bigints) on both sides, got ${typeof current} and ${typeof by}`,
  );
}

export function checkIndex(index: unknown, what: string): number {
  if (!Number.isInteger(index)) {
    throw new TypeError(`Cannot ${what}: index must be an integer`);
  }
  return index as number;
}

/** Python's `list`, on an array. */
export class ListObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "push",
    "extend",
    "pop",
    "insert",
    "at",
    "set",
    "slice",
    "length",
    "toArray",
    "clear",
    "indexOf",
  ]);
  #items: unknown[] = [];

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      if (!Array.isArray(initial)) {
        throw new TypeError(
          "Cannot create list: initial items must be an array",
        );
      }
      this.#items = initial;
    }
  }

  push(_: unknown, ...items: unknown[]): number {
    return this.#items.push(...items);
  }
  extend(_: unknown, items: unknown): number {
    if (!Array.isArray(items)) {
      throw new TypeError("Cannot extend list: items must be an array");
    }
    for (const item of items) this.#items.push(item);
    return this.#items.length;
  }
  pop(_: unknown, index: unknown = -1): unknown {
    const length = this.#items.length;
    if (length === 0) {
      throw new RangeError("Cannot pop from list: it is empty");
    }
    let i = checkIndex(index, "pop from list");
    if (i < 0) i += length;
    if (i < 0 || i >= length) {
      throw new RangeError(
        `Cannot pop from list: index ${index} is out of range`,
      );
    }
    return this.#items.splice(i, 1)[0];
  }
  insert(_: unknown, index: unknown, item: unknown): number {
    let i = checkIndex(index, "insert into list");
    const length = this.#items.length;
    if (i < 0) i = Math.max(0, i + length);
    this.#items.splice(Math.min(i, length), 0, item);
    return this.#items.length;
  }
  at(_: unknown, index: unknown): unknown {
    return this.#items.at(checkIndex(index, "read list item"));
  }
  set(_: unknown, index: unknown, item: unknown): void {
    let i = checkIndex(index, "set list item");
    const length = this.#items.length;
    if (i < 0) i += length;
    if (i < 0 || i >= length) {
      throw new RangeError(
        `Cannot set list item: index ${index} is out of range`,
      );
    }
    this.#items[i] = item;
  }
  slice(_: unknown, start?: number, end?: number): unknown[] {
    return this.#items.slice(start ?? undefined, end ?? undefined);
  }
  length(): number {
    return this.#items.length;
  }
  toArray(): unknown[] {
    return this.#items;
  }
  clear(): void {
    this.#items = [];
  }
  indexOf(_: unknown, item: unknown): number {
    return this.#items.indexOf(item);
  }
}

/** Python's `Namespace`: named attributes. */
export class NamespaceObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "delete",
    "has",
    "toObject",
    "update",
  ]);
  #fields = new Map<string, unknown>();

  constructor(initial?: unknown) {
    super();
    if (initial !== undefined && initial !== null) {
      this.update(undefined, initial);
    }
  }

  #name(name: unknown, what: string): string {
    if (typeof name !== "string") {
      throw new TypeError(`Cannot ${what}: attribute names must be strings`);
    }
    return name;
  }
  get(_: unknown, name: unknown): unknown {
    return this.#fields.get(this.#name(name, "read attribute"));
  }
  set(_: unknown, name: unknown, value: unknown): void {
    this.#fields.set(this.#name(name, "set attribute"), value);
  }
  delete(_: unknown, name: unknown): boolean {
    return this.#fields.delete(this.#name(name, "delete attribute"));
  }
  has(_: unknown, name: unknown): boolean {
    return this.#fields.has(this.#name(name, "check attribute"));
  }
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#fields);
  }
  update(_: unknown, values: unknown): void {
    if (
      typeof values !== "object" || values === null || Array.isArray(values)
    ) {
      throw new TypeError("Cannot update namespace: values must be an object");
    }
    for (const [name, value] of Object.entries(values)) {
      this.#fields.set(name, value);
    }
  }
}

/** Python's `Value`, with atomic read-modify-write calls. */
export class ValueObject extends ServerObject {
  static readonly methods: ReadonlySet<string> = new Set([
    "get",
    "set",
    "increment",
    "compareAndSet",
    "getAndSet",
  ]);
  #value: unknown;

  constructor(initial?: unknown) {
    super();
    this.#value = initial;
  }

  get(): unknown {
    return this.#value;
  }
  set(_: unknown, value: unknown): void {
    this.#value = value;
  }
  increment(_: unknown, by: unknown = 1): unknown {
    this.#value = add(this.#value, by, "increment value");
    return this.#value;
  }
  compareAndSet(_: unknown, expected: unknown, next: unknown): boolean {
    if (!Object.is(this.#value, expected)) return false;
    this.#value = next;
    return true;
  }
  getAndSet(_: unknown, next: unknown): unknown {
    const previous = this.#value;
    this.#value = next;
    return previous;
  }
}
