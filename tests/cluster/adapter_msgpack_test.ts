// The private MessagePack codec of the Redis adapter against the two real
// peers: notepack.io (what @socket.io/redis-adapter and the emitter use) and
// @msgpack/msgpack. Both directions, byte-exact with notepack where it is
// canonical.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import notepack from "npm:notepack.io@3.0.1";
import {
  decode as mpDecode,
  encode as mpEncode,
} from "npm:@msgpack/msgpack@3.1.3";
import { _decode, _encode } from "../../cluster/_msgpack.ts";

const SAMPLES: unknown[] = [
  null,
  true,
  false,
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 53) + 1,
  1.5,
  -0.25,
  "",
  "a",
  "x".repeat(31),
  "x".repeat(32),
  "é€😀",
  "y".repeat(300),
  "z".repeat(70000),
  [],
  [1, "two", [3, [4]]],
  Array.from({ length: 20 }, (_, i) => i),
  Array.from({ length: 70000 }, (_, i) => i % 7),
  {},
  { a: 1, b: "c", nested: { d: [true, null] } },
  Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  [
    "uid123",
    { type: 2, data: ["chat", { text: "hi" }, 3], nsp: "/" },
    { rooms: ["lobby"], except: ["sid1"], flags: {} },
  ],
];

function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(norm);
  if (v instanceof Date) return v.getTime();
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, norm(x)]),
    );
  }
  return v;
}

Deno.test("msgpack: our bytes equal notepack.io's and both peers decode them", () => {
  for (const sample of SAMPLES) {
    const ours = _encode(sample);
    const theirs = notepack.encode(sample) as Buffer;
    assert.deepEqual(
      [...ours],
      [...theirs],
      JSON.stringify(sample)?.slice(0, 80),
    );
    assert.deepEqual(notepack.decode(Buffer.from(ours)), sample);
    assert.deepEqual(norm(mpDecode(ours)), norm(sample));
  }
});

Deno.test("msgpack: we decode what notepack.io and @msgpack/msgpack write", () => {
  for (const sample of SAMPLES) {
    assert.deepEqual(_decode(notepack.encode(sample)), sample);
    assert.deepEqual(norm(_decode(mpEncode(sample))), norm(sample));
  }
  // @msgpack/msgpack picks float32 / other widths for some values
  assert.equal(_decode(mpEncode(0.5, { forceFloat32: true })), 0.5);
  assert.equal(_decode(mpEncode(2n ** 60n, { useBigInt64: true })), 2n ** 60n);
});

Deno.test("msgpack: binary, undefined, Date and toJSON like notepack.io", () => {
  const bin = new Uint8Array([0, 1, 2, 250]);
  const big = new Uint8Array(70000).fill(9);
  const value = { bin, big, gone: undefined, list: [undefined, 1] };
  const ours = _encode(value);
  assert.deepEqual([...ours], [...(notepack.encode(value) as Buffer)]);
  const back = _decode(ours) as Record<string, unknown>;
  assert.deepEqual(back.bin, bin);
  assert.ok(back.bin instanceof Uint8Array);
  assert.equal((back.big as Uint8Array).length, 70000);
  assert.equal("gone" in back, false);
  assert.deepEqual(back.list, [null, 1]);
  const theirs = notepack.decode(Buffer.from(ours)) as Record<string, unknown>;
  assert.deepEqual([...(theirs.bin as Buffer)], [0, 1, 2, 250]);

  for (
    const ms of [0, 1_700_000_000_000, 1_700_000_000_123, -5000, 2 ** 35 * 1000]
  ) {
    const date = new Date(ms);
    assert.deepEqual(
      [..._encode(date)],
      [...(notepack.encode(date) as Buffer)],
      `date ${ms}`,
    );
    assert.equal((_decode(notepack.encode(date)) as Date).getTime(), ms);
    assert.equal((mpDecode(_encode(date)) as Date).getTime(), ms);
  }
  // integers beyond 2^53: float64 here (notepack's uint64 path loses them)
  for (const n of [1e300, 2 ** 64, -(2 ** 70)]) {
    assert.equal(notepack.decode(Buffer.from(_encode(n))), n);
    assert.equal(mpDecode(_encode(n)), n);
    assert.equal(_decode(_encode(n)), n);
  }
  // notepack's legacy undefined (fixext 1, type 0)
  assert.equal(_decode(new Uint8Array([0xd4, 0, 0])), undefined);
  const withJson = { toJSON: () => ({ x: 1 }) };
  assert.deepEqual([..._encode(withJson)], [
    ...(notepack.encode(withJson) as Buffer),
  ]);
});

Deno.test("msgpack: hostile input is refused without big allocations", () => {
  // array claiming 2^32-1 items, 5 bytes long
  assert.throws(
    () => _decode(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])),
    RangeError,
  );
  // str claiming 4 GiB
  assert.throws(
    () => _decode(new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])),
    RangeError,
  );
  // deep nesting
  assert.throws(() => _decode(new Uint8Array(1000).fill(0x91)), RangeError);
  // unknown byte, trailing bytes, truncated
  assert.throws(() => _decode(new Uint8Array([0xc1])), TypeError);
  assert.throws(() => _decode(new Uint8Array([1, 2])), TypeError);
  assert.throws(() => _decode(new Uint8Array([0xcd, 1])), RangeError);
  // __proto__ key stays data
  const evil = _decode(
    notepack.encode(JSON.parse('{"__proto__": {"polluted": 1}}')),
  ) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getPrototypeOf(evil), Object.prototype);
});
