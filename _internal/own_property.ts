/**
 * Private: storing a decoded key on a plain object. `out[key] = value`
 * with `key === "__proto__"` would set the object's prototype instead of a
 * field, so a decoder that builds objects from the wire stores every key
 * through here (a field named `__proto__` stays a field, as `JSON.parse`
 * makes it).
 *
 * @module
 */

/** Sets `out[key] = value` as an own, enumerable field, whatever `key` is. */
export function setOwn(
  out: Record<string, unknown>,
  key: string | number,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else out[key] = value;
}
