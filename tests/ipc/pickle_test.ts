// Unit tests of the pickle codec (no Python needed): value mapping,
// protocols, memo/cycles, handlers, options. Interop with real CPython is in
// pickle_python_test.ts, hostile input in pickle_hostile_test.ts.
import assert from "node:assert/strict";
import { revive, share } from "../../concurrency/mod.ts";
import {
  type Connection,
  dumps,
  loads,
  PickleError,
  PicklingError,
  Pipe,
  PyByteArray,
  PyComplex,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyGlobal,
  PyReduce,
  Tuple,
  tuple,
  UnpicklingError,
} from "../../ipc/mod.ts";

const te = new TextEncoder();
const PROTOCOLS = [2, 3, 4, 5] as const;

function roundTrip(
  value: unknown,
  protocol: 2 | 3 | 4 | 5 = 4,
  exactFloats = true,
): unknown {
  return loads(dumps(value, { protocol }), { exactFloats });
}

// ---- scalars --------------------------------------------------------------

Deno.test("dumps/loads: None, bools, ints of every width, bigints round-trip", () => {
  const ints = [
    0,
    1,
    255,
    256,
    65535,
    65536,
    -1,
    -128,
    -129,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
  ];
  const bigs = [
    2n ** 53n,
    -(2n ** 53n) - 1n,
    2n ** 64n,
    -(2n ** 64n),
    2n ** 2100n + 12345n,
    -(2n ** 2100n),
  ];
  for (const p of PROTOCOLS) {
    assert.equal(roundTrip(null, p), null);
    assert.equal(roundTrip(undefined, p), null);
    assert.equal(roundTrip(true, p), true);
    assert.equal(roundTrip(false, p), false);
    for (const n of ints) assert.equal(roundTrip(n, p), n, `int ${n} p${p}`);
    for (const b of bigs) assert.equal(roundTrip(b, p), b, `bigint ${b} p${p}`);
    // A bigint that fits a safe integer comes back as a number (int → number when safe).
    assert.equal(roundTrip(5n, p), 5);
  }
});

Deno.test("dumps: integral numbers are ints, others floats; PyFloat and exactFloats keep 1.0", () => {
  for (const f of [2.5, -0.1, 1e300, -1e-300, Infinity, -Infinity, 2 ** 60]) {
    assert.equal(loads(dumps(f)), f);
  }
  assert.ok(Number.isNaN(loads(dumps(NaN)) as number));
  assert.ok(Object.is(loads(dumps(-0)), -0)); // -0 is written as a float
  // int 3 vs float 3.0 on the wire: BININT1 vs BINFLOAT
  assert.equal(dumps(3)[2], 0x4b);
  assert.equal(dumps(new PyFloat(3))[2], 0x47);
  assert.equal(loads(dumps(new PyFloat(3))), 3);
  const exact = loads(dumps(new PyFloat(3)), { exactFloats: true });
  assert.ok(exact instanceof PyFloat && exact.value === 3);
  assert.equal(loads(dumps(2.5), { exactFloats: true }), 2.5); // non-integral stays a number
});

Deno.test("dumps/loads: str of every size and script, lone surrogates kept (surrogatepass)", () => {
  const strings = [
    "",
    "a",
    "é",
    "日本語",
    "😀",
    "x".repeat(85),
    "é".repeat(86),
    "y".repeat(300),
    "z".repeat(70000),
    "\ud800",
    "a\udfffb",
    "\n\\\0",
  ];
  for (const p of PROTOCOLS) {
    for (const s of strings) assert.equal(roundTrip(s, p), s);
  }
});

Deno.test("dumps/loads: bytes, bytearray, ArrayBuffer", () => {
  const big = new Uint8Array(100_000).map((_, i) => i % 251);
  for (const p of PROTOCOLS) {
    assert.deepEqual(roundTrip(new Uint8Array(), p), new Uint8Array());
    assert.deepEqual(
      roundTrip(new Uint8Array([0, 255, 128]), p),
      new Uint8Array([0, 255, 128]),
    );
    assert.deepEqual(roundTrip(big, p), big);
    const ba = roundTrip(new PyByteArray(new Uint8Array([1, 2, 3])), p);
    assert.ok(ba instanceof PyByteArray);
    assert.deepEqual(ba.bytes, new Uint8Array([1, 2, 3]));
  }
  assert.deepEqual(
    loads(dumps(new Uint8Array([9]).buffer)),
    new Uint8Array([9]),
  );
});

// ---- containers -------------------------------------------------------------

Deno.test("dumps/loads: lists, tuples, sets, frozensets, nested", () => {
  for (const p of PROTOCOLS) {
    assert.deepEqual(roundTrip([], p), []);
    assert.deepEqual(roundTrip(tuple(), p), tuple());
    for (const n of [1, 2, 3, 4, 1001, 2500]) {
      const items = Array.from({ length: n }, (_, i) => i);
      assert.deepEqual(roundTrip(items, p), items);
      assert.deepEqual(roundTrip(tuple(...items), p), tuple(...items));
      assert.deepEqual(roundTrip(new Set(items), p), new Set(items));
      assert.deepEqual(
        roundTrip(new PyFrozenSet(items), p),
        new PyFrozenSet(items),
      );
    }
    const nested = [tuple(1, [2, tuple(3, new Set(["x"]))]), { k: [tuple()] }];
    assert.deepEqual(roundTrip(nested, p), nested);
  }
  const t = tuple(1, 2);
  assert.ok(t instanceof Tuple && Array.isArray(t));
  assert.deepEqual([...t.map((x) => x * 2)], [2, 4]);
});

Deno.test("loads: dicts are plain objects when every key is a safe str, else Maps", () => {
  assert.deepEqual(roundTrip({ a: 1, b: { c: [2] } }), { a: 1, b: { c: [2] } });
  const mixed = new Map<unknown, unknown>([[1, "int key"], ["s", 2], [
    tuple(1, 2),
    3,
  ]]);
  assert.deepEqual(roundTrip(mixed), mixed);
  // str keys that JS objects would reorder or misuse come back as Maps, in order
  const indexLike = new Map([["b", 1], ["1", 2], ["0", 3]]);
  assert.deepEqual(roundTrip(indexLike), indexLike);
  const proto = new Map([["__proto__", 1]]);
  assert.deepEqual(roundTrip(proto), proto);
  // a Map with only safe str keys decodes as a plain object; dicts: "map" keeps Maps
  assert.deepEqual(roundTrip(new Map([["a", 1]])), { a: 1 });
  assert.deepEqual(
    loads(dumps({ a: 1 }), { dicts: "map" }),
    new Map([["a", 1]]),
  );
  // big dicts are batched (SETITEMS of 1000)
  const big: Record<string, number> = {};
  for (let i = 0; i < 2500; i++) big[`k${i}`] = i;
  assert.deepEqual(roundTrip(big), big);
  const bigMap = new Map(Array.from({ length: 2500 }, (_, i) => [i, `v${i}`]));
  assert.deepEqual(roundTrip(bigMap, 2), bigMap);
  // null-prototype objects are dicts too
  const bare = Object.assign(Object.create(null), { x: 1 });
  assert.deepEqual(roundTrip(bare), { x: 1 });
});

Deno.test("dumps/loads: shared references and cycles survive (memo)", () => {
  for (const p of PROTOCOLS) {
    const shared = [1, 2];
    const back = roundTrip([shared, shared, { s: shared }], p) as [
      number[],
      number[],
      { s: number[] },
    ];
    assert.equal(back[0], back[1]);
    assert.equal(back[0], back[2].s);
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    const c = roundTrip(cyclic, p) as unknown[];
    assert.equal(c[1], c);
    const dict: Record<string, unknown> = { a: 1 };
    dict.self = dict;
    const d = roundTrip(dict, p) as Record<string, unknown>;
    assert.equal(d.self, d);
    // a tuple reached again through a list inside it (Python's POP/GET trick)
    const inner: unknown[] = [];
    const t = tuple<unknown>(inner, "x");
    inner.push(t);
    const tb = roundTrip(t, p) as Tuple;
    assert.equal((tb[0] as unknown[])[0], tb);
  }
});

Deno.test("loads: a self-referencing dict with non-str keys becomes a Map holding itself", () => {
  // d = {1: None}; d[2] = d  — pickle.dumps(d, 4)
  const m = new Map<unknown, unknown>([[1, null]]);
  m.set(2, m);
  const back = roundTrip(m) as Map<unknown, unknown>;
  assert.ok(back instanceof Map);
  assert.equal(back.get(2), back);
});

// ---- globals and objects ------------------------------------------------------

Deno.test("dumps/loads: complex, Decimal, datetime family via the default allow-list", () => {
  for (const p of PROTOCOLS) {
    assert.deepEqual(
      roundTrip(new PyComplex(1.5, -2), p),
      new PyComplex(1.5, -2),
    );
    assert.deepEqual(
      roundTrip(new PyDecimal("-1.250E+3"), p),
      new PyDecimal("-1.250E+3"),
    );
    const naive = Temporal.PlainDateTime.from("2024-02-29T23:59:58.123456");
    assert.ok(naive.equals(roundTrip(naive, p) as Temporal.PlainDateTime));
    for (
      const zone of [
        "UTC",
        "+05:30",
        "-03:00",
        "Europe/Paris",
        "America/New_York",
      ]
    ) {
      const z = Temporal.ZonedDateTime.from(`2021-06-01T12:00:00.5[${zone}]`);
      const back = roundTrip(z, p) as Temporal.ZonedDateTime;
      assert.ok(back instanceof Temporal.ZonedDateTime);
      assert.ok(z.equals(back), `${zone} p${p}: ${back}`);
    }
    const date = Temporal.PlainDate.from("0001-01-01");
    assert.ok(date.equals(roundTrip(date, p) as Temporal.PlainDate));
    const time = Temporal.PlainTime.from("23:59:59.999999");
    assert.ok(time.equals(roundTrip(time, p) as Temporal.PlainTime));
    for (
      const d of ["P1DT2H3M4.005006S", "-P3DT0.000001S", "PT0S", "P999999999D"]
    ) {
      const dur = Temporal.Duration.from(d);
      const back = roundTrip(dur, p) as Temporal.Duration;
      assert.equal(Temporal.Duration.compare(dur, back), 0, `${d} → ${back}`);
    }
  }
  // Date is written as an aware UTC datetime and read back as a ZonedDateTime
  const when = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678));
  const z = roundTrip(when) as Temporal.ZonedDateTime;
  assert.equal(z.epochMilliseconds, when.getTime());
  assert.equal(z.timeZoneId, "UTC");
  // fold of an ambiguous local time survives protocol 4
  const later = Temporal.ZonedDateTime.from(
    "2021-11-07T01:30-05:00[America/New_York]",
  );
  assert.ok(later.equals(roundTrip(later, 4) as Temporal.ZonedDateTime));
});

Deno.test("dumps: Duration with months and out-of-range years are PicklingErrors", () => {
  assert.throws(() => dumps(Temporal.Duration.from("P1M")), PicklingError);
  assert.throws(
    () => dumps(Temporal.PlainDate.from("+010000-01-01")),
    PicklingError,
  );
  assert.throws(() => dumps(new Date(NaN)), PicklingError);
});

Deno.test("PyReduce/PyGlobal: written as REDUCE, NEWOBJ, NEWOBJ_EX, BUILD; read back inert with globals: true", () => {
  const Token = new PyGlobal("multiprocessing.managers", "Token");
  const token = new PyReduce(Token, [], {
    newobj: true,
    state: tuple("dict", tuple("127.0.0.1", 5000), "7f"),
  });
  const globals = { "multiprocessing.managers Token": true as const };
  for (const p of PROTOCOLS) {
    const back = loads(dumps(token, { protocol: p }), { globals }) as PyReduce;
    assert.ok(back instanceof PyReduce);
    assert.equal(back.callable.key, "multiprocessing.managers Token");
    assert.equal(back.newobj, true);
    assert.deepEqual(back.state, tuple("dict", tuple("127.0.0.1", 5000), "7f"));
  }
  const withItems = new PyReduce(new PyGlobal("x", "Y"), [1], {
    listItems: [1, 2],
    dictItems: [["k", "v"]],
  });
  const wb = loads(dumps(withItems), { globals: { "x Y": true } }) as PyReduce;
  assert.deepEqual(wb.listItems, [1, 2]);
  assert.deepEqual(wb.dictItems, [["k", "v"]]);
  const kw = new PyReduce(new PyGlobal("x", "Y"), [], {
    newobj: true,
    kwargs: new Map([["a", 1]]),
  });
  const kb = loads(dumps(kw), { globals: { "x Y": true } }) as PyReduce;
  assert.deepEqual(kb.kwargs, new Map([["a", 1]]));
  assert.throws(() => dumps(kw, { protocol: 2 }), PicklingError);
  // a bare global is a PyGlobal value; dotted names work in protocol 2 (getattr)
  const nested = new PyGlobal("zoneinfo", "ZoneInfo._unpickle");
  for (const p of PROTOCOLS) {
    const g = loads(dumps(nested, { protocol: p })) as PyGlobal;
    assert.equal(g.key, "zoneinfo ZoneInfo._unpickle");
  }
});

Deno.test("loads: handlers get REDUCE args, NEWOBJ args/kwargs and BUILD state", () => {
  const Point = new PyGlobal("geometry", "Point");
  const calls: string[] = [];
  const globals = {
    "geometry Point": {
      reduce(args: unknown[]) {
        calls.push(`reduce ${args.join(",")}`);
        return { x: args[0], y: args[1] };
      },
      newobj(args: unknown[], kwargs: Map<string, unknown> | null) {
        calls.push(`newobj ${args.length} ${kwargs?.get("z") ?? "-"}`);
        return {};
      },
      build(obj: unknown, state: unknown) {
        calls.push("build");
        return Object.assign(obj as object, state as object);
      },
    },
  };
  const value = [
    new PyReduce(Point, [1, 2]),
    new PyReduce(Point, [], { newobj: true, state: { x: 3, y: 4 } }),
    new PyReduce(Point, [], { newobj: true, kwargs: new Map([["z", 9]]) }),
  ];
  assert.deepEqual(loads(dumps(value), { globals }), [{ x: 1, y: 2 }, {
    x: 3,
    y: 4,
  }, {}]);
  assert.deepEqual(calls, ["reduce 1,2", "newobj 0 -", "build", "newobj 0 9"]);
  // shorthand: a function handles REDUCE
  assert.equal(
    loads(dumps(new PyReduce(Point, [5])), {
      globals: { "geometry Point": (a) => a[0] },
    }),
    5,
  );
  // a missing method rejects that opcode; a throwing handler becomes UnpicklingError with cause
  assert.throws(
    () =>
      loads(dumps(new PyReduce(Point, [], { newobj: true })), {
        globals: { "geometry Point": (a) => a },
      }),
    /cannot be created with __new__/,
  );
  const boom = new Error("bad point");
  assert.throws(
    () =>
      loads(dumps(new PyReduce(Point, [])), {
        globals: {
          "geometry Point": () => {
            throw boom;
          },
        },
      }),
    (e: unknown) =>
      e instanceof UnpicklingError && e.cause === boom &&
      /geometry\.Point/.test(e.message),
  );
});

Deno.test("loads: an unlisted global is rejected by name, before any handler runs", () => {
  const value = new PyReduce(new PyGlobal("os", "system"), ["echo hi"]);
  assert.throws(
    () => loads(dumps(value)),
    (e: unknown) =>
      e instanceof UnpicklingError &&
      e.message === 'Cannot unpickle: global "os.system" is not allowed',
  );
  assert.ok(new UnpicklingError("x") instanceof PickleError);
  assert.ok(new PicklingError("x") instanceof PickleError);
});

// ---- dumps errors and options ---------------------------------------------------

Deno.test("dumps: values with no Python counterpart are PicklingErrors", () => {
  class Custom {}
  for (
    const bad of [
      () => 1,
      Symbol("s"),
      new Custom(),
      new Int32Array(2),
      new WeakMap(),
    ]
  ) {
    assert.throws(() => dumps(bad), PicklingError);
  }
  assert.throws(() => dumps(1, { protocol: 1 as 2 }), TypeError);
  assert.throws(() => dumps(1, { maxDepth: 0 }), TypeError);
});

Deno.test("dumps: nesting deeper than maxDepth is a PicklingError, not a stack overflow", () => {
  let deep: unknown[] = [];
  const root = deep;
  for (let i = 0; i < 100_000; i++) {
    const next: unknown[] = [];
    deep.push(next);
    deep = next;
  }
  assert.throws(
    () => dumps(root),
    (e: unknown) =>
      e instanceof PicklingError && /maxDepth \(1000\)/.test(e.message),
  );
  let ok: unknown = 1;
  for (let i = 0; i < 999; i++) ok = [ok];
  assert.deepEqual(loads(dumps(ok)), ok);
  const self: unknown[] = [];
  const t = tuple<unknown>(self);
  (t as unknown[]).push(t); // a tuple that contains itself directly cannot be pickled
  assert.throws(() => dumps(t), PicklingError);
});

Deno.test("loads: options are validated; maxSize bounds the input", () => {
  assert.throws(() => loads("x" as unknown as Uint8Array), TypeError);
  assert.throws(() => loads(dumps(1), { dicts: "obj" as "map" }), TypeError);
  assert.throws(
    () => loads(dumps("x".repeat(100)), { maxSize: 50 }),
    /over maxSize \(50\)/,
  );
  assert.equal(loads(dumps("x"), { maxSize: 50 }), "x");
  assert.throws(
    () => loads(dumps(1), { globals: { "a b": 5 as unknown as true } }),
    TypeError,
  );
});

Deno.test("loads: reads protocol 0 and 1 text opcodes (Python 3.11 output)", () => {
  // pickle.dumps({'a': [1, 2.5, 'xé\n\\', None, True, b'raw', (1, 2)], 'big': 2**70, 'neg': -5, 's': {1}}, 0)
  const p0 = te.encode(
    "(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\xe9\\u000a\\u005c\np3\naNaI01\nac_codecs\nencode\np4\n(Vraw\np5\nVlatin1\np6\ntp7\nRp8\na(I1\nI2\ntp9\nasVbig\np10\nL1180591620717411303424L\nsVneg\np11\nI-5\nsVs\np12\nc__builtin__\nset\np13\n((lp14\nI1\natp15\nRp16\ns.",
  );
  // the test text holds é as one char; Python wrote it as the latin-1 byte 0xe9
  const bytes = Uint8Array.from(
    new TextDecoder().decode(p0),
    (c) => c.charCodeAt(0),
  );
  assert.deepEqual(loads(bytes), {
    a: [1, 2.5, "xé\n\\", null, true, te.encode("raw"), tuple(1, 2)],
    big: 2n ** 70n,
    neg: -5,
    s: new Set([1]),
  });
  // Python 2 str (STRING / SHORT_BINSTRING) read as text
  assert.equal(loads(te.encode("S'a\\'b\\x41\\n'\n.")), "a'bA\n");
  assert.equal(loads(new Uint8Array([0x55, 2, 0x68, 0x69, 0x2e])), "hi");
});

// ---- connections --------------------------------------------------------------

Deno.test('Pipe(serializer: "pickle"): send/recv speak pickle; sendBytes sees the raw pickle; a shared end keeps the serializer', async () => {
  const [a, b] = Pipe(true, { serializer: "pickle" });
  try {
    assert.equal(a.serializer, "pickle");
    await a.send({ n: 2n ** 70n, t: tuple(1, "x") });
    const raw = await b.recvBytes();
    assert.deepEqual(raw.subarray(0, 2), new Uint8Array([0x80, 4])); // a protocol 4 pickle
    assert.deepEqual(loads(raw), { n: 2n ** 70n, t: tuple(1, "x") });
    const moved = revive(share(b)) as Connection;
    assert.equal(moved.serializer, "pickle");
    await a.send(new Set([1]));
    assert.deepEqual(await moved.recv(), new Set([1]));
    moved.close();
  } finally {
    a.close();
    b.close();
  }
  assert.throws(() => Pipe(true, { serializer: "json" as "v8" }), TypeError);
  const [c, d] = Pipe();
  try {
    assert.equal(c.serializer, "v8");
    await c.sendBytes(dumps("from python"));
    await assert.rejects(d.recv(), /use serializer: "pickle"/);
  } finally {
    c.close();
    d.close();
  }
});
