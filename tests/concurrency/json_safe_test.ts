import assert from "node:assert/strict";
import { isJsonSafe, type JsonSafeRules } from "../../_internal/json_safe.ts";

// The three callers' rule sets (queue codec, cluster Redis codec, manager
// protocol), as documented in _internal/json_safe.ts's users.
const QUEUE: JsonSafeRules = { maxDepth: 32 };
const CLUSTER: JsonSafeRules = {
  maxDepth: 64,
  reservedKey: "__proto__",
  nullPrototype: true,
};
const MANAGER: JsonSafeRules = { maxDepth: 4, reservedKey: "$w" };
const ALL = [QUEUE, CLUSTER, MANAGER];

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
}

Deno.test("isJsonSafe: scalars", () => {
  for (const rules of ALL) {
    for (const yes of ["", "é", true, false, 0, 1.5, -2, 1e300, null]) {
      assert.equal(isJsonSafe(yes, rules), true, String(yes));
    }
    for (
      const no of [
        undefined,
        -0,
        NaN,
        Infinity,
        -Infinity,
        1n,
        Symbol("s"),
        () => 1,
      ]
    ) {
      assert.equal(isJsonSafe(no, rules), false, String(no));
    }
  }
});

Deno.test("isJsonSafe: containers", () => {
  for (const rules of ALL) {
    assert.equal(isJsonSafe([], rules), true);
    assert.equal(isJsonSafe({}, rules), true);
    assert.equal(isJsonSafe({ a: [1, "x", null, { b: false }] }, rules), true);
    assert.equal(isJsonSafe([1, , 3], rules), false, "hole");
    assert.equal(isJsonSafe([1, undefined], rules), false);
    assert.equal(isJsonSafe({ a: undefined }, rules), false);
    assert.equal(isJsonSafe({ a: -0 }, rules), false);
    assert.equal(isJsonSafe(new Date(0), rules), false);
    assert.equal(isJsonSafe(new Map(), rules), false);
    assert.equal(isJsonSafe(new Uint8Array(1), rules), false);
    assert.equal(isJsonSafe(new (class {})(), rules), false);
  }
});

Deno.test("isJsonSafe: depth limit per caller", () => {
  for (const rules of ALL) {
    // The top-level value is at depth 0: maxDepth + 1 nested containers pass.
    assert.equal(isJsonSafe(nest(rules.maxDepth + 1), rules), true);
    assert.equal(isJsonSafe(nest(rules.maxDepth + 2), rules), false);
  }
  assert.equal(isJsonSafe(nest(6), MANAGER), false);
  assert.equal(isJsonSafe(nest(6), QUEUE), true);
  assert.equal(isJsonSafe(nest(40), QUEUE), false);
  assert.equal(isJsonSafe(nest(40), CLUSTER), true);
});

Deno.test("isJsonSafe: reserved key and prototypes", () => {
  const tagged = { $w: 1 };
  const proto = JSON.parse('{"__proto__": 1}');
  assert.ok(Object.hasOwn(proto, "__proto__"));
  assert.equal(isJsonSafe(tagged, MANAGER), false);
  assert.equal(isJsonSafe([{ x: tagged }], MANAGER), false);
  assert.equal(isJsonSafe(tagged, QUEUE), true);
  assert.equal(isJsonSafe(proto, CLUSTER), false);
  assert.equal(isJsonSafe(proto, QUEUE), true);
  const bare = Object.create(null);
  bare.a = 1;
  assert.equal(isJsonSafe(bare, CLUSTER), true);
  assert.equal(isJsonSafe(bare, QUEUE), false);
  assert.equal(isJsonSafe(bare, MANAGER), false);
});

Deno.test("isJsonSafe: what it accepts round-trips through JSON", () => {
  const values = [
    { a: [1, 2, { b: "c" }], d: null, e: true },
    [[[]]],
    "text",
    { "": 0, "0": [1.25] },
  ];
  for (const value of values) {
    for (const rules of ALL) assert.equal(isJsonSafe(value, rules), true);
    assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
  }
});
