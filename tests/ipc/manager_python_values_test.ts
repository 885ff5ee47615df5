// What a Python client prints for values a weft manager holds: repr() of
// floats, strings, bytes and containers, and ==, as CPython computes them.
import assert from "node:assert/strict";
import { loads } from "../../ipc/pickle.ts";
import {
  floatRepr,
  pyCompare,
  pyEquals,
  pyRepr,
} from "../../ipc/_py_values.ts";
import { tuple } from "../../ipc/pickle_values.ts";
import { pythonTest, runPython } from "./_py_manager.ts";

const PY_REPRS = `
import sys, json, pickle, base64
json.loads(sys.stdin.readline())
floats = [0.1, 1e16, 1e15, 1e-5, 0.0001, 123456789.123, 1.5e300, -0.0, 0.0,
          float("inf"), float("-inf"), float("nan"), 2.5e-7, 12345678901234567.0,
          -3.75, 5e-324, 1.7976931348623157e308, 100.0, 0.5]
values = ["it's", 'say "hi"', "both ' and \\"", "tab\\t nl\\n", "\\x00\\x7f\\\\",
          "é中😀", b"bytes\\x00'", [1, 2.5, None, True, False, "x"], (1,), (),
          {"a": [1, (2, 3)], 1: None}, set(), {3}, 2**70, -17]
print(json.dumps([repr(f) for f in floats]))
print(json.dumps([repr(v) for v in values]))
print(base64.b64encode(pickle.dumps((floats, values), protocol=4)).decode())
`;

pythonTest(
  "3.11",
  "repr() of what a weft manager holds matches CPython's",
  async (python) => {
    const [floatsJson, valuesJson, b64] = await runPython(
      python,
      PY_REPRS,
      {},
    );
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const [floats, values] = loads(bytes, { exactFloats: true }) as [
      unknown[],
      unknown[],
    ];
    const expectedFloats = JSON.parse(floatsJson) as string[];
    floats.forEach((f, i) => {
      const x = typeof f === "number" ? f : (f as { value: number }).value;
      assert.equal(floatRepr(x), expectedFloats[i], `float #${i}`);
    });
    const expectedValues = JSON.parse(valuesJson) as string[];
    values.forEach((v, i) => {
      assert.equal(pyRepr(v), expectedValues[i], `value #${i}`);
    });
  },
);

Deno.test("pyEquals / pyCompare follow Python's == and < for list methods", () => {
  assert.equal(pyEquals(1, 1.0), true);
  assert.equal(pyEquals(true, 1), true);
  assert.equal(pyEquals(1n, 1), true);
  assert.equal(pyEquals([1, 2], tuple(1, 2)), false);
  assert.equal(pyEquals(new Map([["a", 1]]), { a: 1 }), true);
  assert.equal(pyEquals(null, undefined), true);
  assert.equal(pyEquals("1", 1), false);
  assert.equal(pyCompare(1, 2.5), -1);
  assert.equal(pyCompare("b", "a"), 1);
  assert.equal(pyCompare([1, 2], [1, 3]), -1);
  assert.throws(() => pyCompare("a", 1), TypeError);
});
