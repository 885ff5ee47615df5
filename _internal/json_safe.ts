/**
 * The one "does this value survive JSON exactly?" walker (private to weft;
 * shared by the queue item codec, the cluster's Redis codec and the manager
 * protocol). Each codec stores such values as plain JSON text and everything
 * else through its own fallback (v8 serialization, tagged wire values).
 *
 * A value is JSON-safe when `JSON.parse(JSON.stringify(value))` gives it
 * back unchanged: strings, booleans, finite numbers other than `-0`, `null`,
 * and dense arrays and plain objects of them (own enumerable string keys
 * only), nested at most {@linkcode JsonSafeRules.maxDepth} levels.
 *
 * @module
 */

/** What a caller accepts beyond the common core. Build it once (a constant). */
export interface JsonSafeRules {
  /**
   * Deepest nesting of arrays/objects accepted: the top-level value is at
   * depth 0, so `maxDepth: 0` accepts `[1, 2]` but not `[[1]]`.
   */
  readonly maxDepth: number;
  /** A key that makes an object unsafe (e.g. a wire tag like `"$w"`, or `"__proto__"`). */
  readonly reservedKey?: string;
  /** Accept objects made by `Object.create(null)` as plain (they decode with `Object.prototype`). */
  readonly nullPrototype?: boolean;
}

/**
 * True if `value` survives `JSON.stringify` exactly under `rules`.
 *
 * Refused: `undefined`, functions, symbols, bigints, `NaN`/`±Infinity`/`-0`,
 * arrays with holes, objects whose prototype is not `Object.prototype`
 * (or `null`, with {@linkcode JsonSafeRules.nullPrototype}), objects with
 * inherited enumerable keys, the reserved key, and nesting deeper than
 * {@linkcode JsonSafeRules.maxDepth}.
 */
export function isJsonSafe(value: unknown, rules: JsonSafeRules): boolean {
  return walk(value, rules, 0);
}

function walk(value: unknown, rules: JsonSafeRules, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > rules.maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !walk(value[i], rules, depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && (proto !== null || !rules.nullPrototype)) {
    return false;
  }
  const reserved = rules.reservedKey;
  for (const key in value) {
    if (key === reserved || !Object.hasOwn(value, key)) return false;
    if (!walk((value as Record<string, unknown>)[key], rules, depth + 1)) {
      return false;
    }
  }
  return true;
}
