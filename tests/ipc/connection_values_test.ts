import assert from "node:assert/strict";
import { deserialize, serialize } from "node:v8";
import { isProxy } from "node:util/types";
import { Connection, Pipe } from "../../ipc/mod.ts";
import {
  decodeFast,
  encodeFast,
  MAX_BYTES,
  MAX_OBJECTS,
  NOT_FAST,
} from "../../ipc/_v8_values.ts";

// The fast path of send()/recv()'s default serializer must be node:v8's
// format exactly: what it writes, node:v8 reads back equal; what node:v8
// writes for the same values, it reads back equal; everything else is left
// to node:v8.

let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
const STRINGS = [
  "",
  "a",
  "hello",
  "héllo wörld ÿ",
  "€uro",
  "x".repeat(40),
  "ü".repeat(40),
  "\ud800 lone surrogate \udfff",
  "日本語のテキスト".repeat(4),
  "😀 emoji",
  "__proto__",
  "constructor",
  "7",
  "\u0080\u009f control range",
];
const NUMBERS = [
  0,
  1,
  -1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 32,
  1.5,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_SAFE_INTEGER,
  5e-324,
];

function value(depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.45) {
    return pick<unknown>([
      ...NUMBERS,
      ...STRINGS,
      true,
      false,
      null,
      undefined,
    ]);
  }
  if (r < 0.7) {
    return Array.from(
      { length: Math.floor(random() * 6) },
      () => value(depth + 1),
    );
  }
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) {
    Object.defineProperty(object, pick(STRINGS) + pick(["", "1", "b"]), {
      value: value(depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (random() < 0.2) object[String(Math.floor(random() * 1000))] = 1;
  return object;
}

Deno.test("v8 fast path: 3000 random JSON-like values round-trip both ways with node:v8", () => {
  for (let i = 0; i < 3000; i++) {
    const v = value(0);
    const mine = encodeFast(v);
    assert.ok(mine !== undefined, `value ${i} takes the fast path`);
    assert.deepEqual(deserialize(mine), v, `node:v8 reads value ${i}`);
    assert.deepEqual(decodeFast(mine), v, `fast path reads value ${i}`);
    assert.deepEqual(
      decodeFast(serialize(v)),
      v,
      `fast path reads node:v8's ${i}`,
    );
  }
});

Deno.test("v8 fast path: writes node:v8's exact bytes for objects, strings and numbers", () => {
  // (arrays too decode equal, but node:v8 picks its dense or sparse form by
  // the array's internal elements kind)
  for (
    const v of [
      {
        a: 1,
        b: "hello",
        c: { d: 1.5, e: -0, f: null, g: true, h: undefined },
      },
      { "€": "ü".repeat(30), s: "ab€", x: "x".repeat(300), y: "\ud800" },
      -(2 ** 31),
      2 ** 31,
      "\ud800",
    ]
  ) {
    assert.deepEqual(encodeFast(v), new Uint8Array(serialize(v)));
  }
});

Deno.test("v8 fast path: leaves to node:v8 what it cannot write exactly", () => {
  const shared = { a: 1 };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const many = Array.from({ length: MAX_OBJECTS + 1 }, () => ({}));
  // deno-lint-ignore no-sparse-arrays
  const holey = [1, , 3];
  for (
    const v of [
      new Map([[1, 2]]),
      new Set([1]),
      new Date(0),
      1n,
      /x/,
      new Uint8Array(2),
      holey,
      Object.assign([1], { extra: true }),
      new (class Point {})(),
      Object.create(null),
      new Proxy({}, {}),
      [shared, shared],
      cyclic,
      many,
      "x".repeat(MAX_BYTES + 1),
      new Error("e"),
    ]
  ) {
    assert.equal(encodeFast(v), undefined);
    if (v instanceof Error || isProxy(v)) continue; // node:v8 refuses
    const bytes = serialize(v);
    const fast = decodeFast(bytes);
    // what the fast path reads of node:v8's bytes, it reads right
    if (fast !== NOT_FAST) assert.deepEqual(fast, deserialize(bytes));
  }
  assert.throws(() =>
    encodeFast({
      get x() {
        throw new Error("getter");
      },
    }), /getter/);
});

Deno.test("v8 fast path: malformed bytes are never decoded by it (node:v8 decides)", () => {
  const nested = serialize(JSON.parse("[".repeat(500) + "]".repeat(500)));
  for (
    const bytes of [
      new Uint8Array([]),
      new Uint8Array([0xff]),
      new Uint8Array([0xff, 0x0f]),
      new Uint8Array([0xff, 0x0f, 0x22, 0x05, 0x61]), // string cut short
      new Uint8Array([0xff, 0x0f, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f]), // 4 G items
      new Uint8Array([0xff, 0x0f, 0x49, 0x02, 0x49]), // trailing bytes
      new Uint8Array([
        0xff,
        0x0f,
        0x6f,
        0x22,
        0x01,
        0x61,
        0x49,
        0x02,
        0x7b,
        0x05,
      ]), // bad count
      new Uint8Array([0xff, 0x0f, 0x49, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // long varint
      new Uint8Array([0x80, 0x04, 0x4b, 0x01, 0x2e]), // a pickle
    ]
  ) {
    assert.equal(decodeFast(bytes), NOT_FAST);
  }
  assert.deepEqual(decodeFast(nested), deserialize(nested));
});

Deno.test("Connection.send()/recv() carry fast-path and node:v8 values alike, in order", async () => {
  const [a, b] = Pipe();
  const values = [
    { a: 1 },
    new Map([["k", { b: 2 }]]),
    [1, "two", null],
    new Date(5),
    "x".repeat(MAX_BYTES * 2),
    { nested: { deeper: [true, false] } },
  ];
  for (const v of values) await a.send(v);
  for (const v of values) assert.deepEqual(await b.recv(), v);
  await b.sendBytes(new Uint8Array([0xff, 0x0f, 0x22, 0x05, 0x61]));
  await assert.rejects(a.recv(), TypeError);
  a.close();
  b.close();
});

Deno.test("Connection.recv() on TCP: values decoded from the read buffer stay intact after later reads (typed arrays included)", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = server.accept();
  const a = Connection.fromConn(
    await Deno.connect({
      hostname: "127.0.0.1",
      port: (server.addr as Deno.NetAddr).port,
    }),
  );
  const b = Connection.fromConn(await accepted);
  try {
    const values: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      values.push(
        i % 3 === 0
          ? { i, bytes: new Uint8Array(100).fill(i), list: [i, "x"] }
          : i % 3 === 1
          ? { i, s: "y".repeat(i) }
          : [i, new Float64Array([i, i / 2])],
      );
    }
    await Promise.all(values.map((v) => a.send(v)));
    const got: unknown[] = [];
    for (let i = 0; i < values.length; i++) got.push(await b.recv());
    // later frames overwrote the read buffer: what was received must not change
    const flush = "z".repeat(12_000); // rewrites the read buffer from its start
    await a.send(flush);
    assert.equal(await b.recv(), flush);
    assert.deepEqual(got, values);
  } finally {
    a.close();
    b.close();
    server.close();
  }
});
