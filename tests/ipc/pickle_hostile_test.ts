// Hostile pickles: code-execution gadgets, huge declared lengths, deep
// nesting, memo abuse, truncation and random corruption. Each must end in a
// clear UnpicklingError (or a harmless value), with nothing imported or run,
// and a "pickle" connection must stay usable after one.
import assert from "node:assert/strict";
import { findPython, runCommand } from "../_helpers.ts";
import {
  dumps,
  loads,
  PicklingError,
  Pipe,
  PyGlobal,
  PyReduce,
  tuple,
  UnpicklingError,
} from "../../ipc/mod.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const CI = Deno.env.get("CI") === "true";

function refuses(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => loads(bytes), (e: unknown) => {
    assert.ok(
      e instanceof UnpicklingError,
      `expected UnpicklingError, got ${e}`,
    );
    assert.match(e.message, pattern);
    return true;
  });
}

// ---- code execution gadgets -------------------------------------------------------

Deno.test("loads: GLOBAL/STACK_GLOBAL/INST/OBJ naming a callable outside the allow-list are refused by name", () => {
  refuses(
    latin1("cos\nsystem\n(S'echo pwned'\ntR."),
    /global "os\.system" is not allowed/,
  );
  refuses(latin1("cposix\nsystem\n(S'id'\ntR."), /"posix\.system"/);
  refuses(latin1("c__builtin__\neval\n(S'1+1'\ntR."), /"builtins\.eval"/); // fix_imports mapping, still refused
  refuses(
    latin1("\x80\x04\x8c\x08builtins\x8c\x04exec\x93\x8c\x01x\x85R."),
    /"builtins\.exec"/,
  );
  refuses(
    latin1("\x80\x04\x8c\nsubprocess\x8c\x05Popen\x93."),
    /"subprocess\.Popen"/,
  );
  refuses(latin1("(S'id'\nios\nsystem\n."), /"os\.system"/); // INST
  refuses(
    latin1("\x80\x02ccopyreg\n_reconstructor\n."),
    /"copyreg\._reconstructor"/,
  );
  refuses(latin1("\x80\x02cbuiltins\n__import__\n."), /"builtins\.__import__"/);
  refuses(latin1("\x80\x02cpickle\nloads\n."), /"pickle\.loads"/);
  refuses(latin1("\x80\x02cbuiltins\nobject\n)\x81."), /"builtins\.object"/); // NEWOBJ
  // getattr may only reach allow-listed names: no route to __class__, __globals__, __import__...
  refuses(
    latin1(
      "\x80\x02cbuiltins\ngetattr\ncbuiltins\nset\nX\x08\x00\x00\x00__init__\x86R.",
    ),
    /"builtins\.set\.__init__"/,
  );
  refuses(
    latin1(
      "\x80\x02cbuiltins\ngetattr\nX\x01\x00\x00\x00xX\x09\x00\x00\x00__class__\x86R.",
    ),
    /getattr needs an allowed global/,
  );
  // a REDUCE whose callable is not a global (e.g. a str left by a crafted stream)
  refuses(
    latin1("\x80\x02X\x02\x00\x00\x00os)R."),
    /REDUCE needs an allowed global to call, got a string/,
  );
  // allowed global with hostile arguments
  refuses(
    latin1(
      "\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00rot13\x86R.",
    ),
    /rejected its arguments/,
  );
  refuses(
    latin1("\x80\x02cdatetime\ndatetime\nC\x03abc\x85R."),
    /"datetime\.datetime" rejected its arguments/,
  );
});

Deno.test("loads: a handler that returns a PyGlobal cannot smuggle in a call to an unlisted global", () => {
  // x.Y() returns PyGlobal("os", "system"); the pickle then REDUCEs it with ("id",)
  const bytes = latin1("\x80\x04\x8c\x01x\x8c\x01Y\x93)R\x8c\x02id\x85R.");
  assert.throws(
    () =>
      loads(bytes, { globals: { "x Y": () => new PyGlobal("os", "system") } }),
    (e: unknown) =>
      e instanceof UnpicklingError &&
      /global "os\.system" is not allowed/.test(e.message),
  );
});

Deno.test("loads: extension registry, persistent ids, out-of-band buffers, unknown opcodes and protocols are refused", () => {
  refuses(latin1("\x80\x02\x82\x01."), /extension registry/);
  refuses(latin1("\x80\x02Pfoo\n."), /persistent IDs/);
  refuses(latin1("\x80\x05\x97."), /out-of-band buffers/);
  refuses(latin1("\x80\x05\x98."), /out-of-band buffers/);
  refuses(latin1("\x80\x06N."), /unsupported protocol 6/);
  refuses(latin1("\x80\x04\xff"), /unknown opcode 0xff at byte 2/);
});

const PY_GADGETS = `
import pickle, os, subprocess, builtins, sys
class Shell:
    def __reduce__(self): return (os.system, ("touch /tmp/weft-gadget",))
class Popen:
    def __reduce__(self): return (subprocess.Popen, (["id"],))
class Eval:
    def __reduce__(self): return (builtins.eval, ("__import__('os').system('id')",))
class Exec:
    def __reduce__(self): return (builtins.exec, ("import os",))
import functools
for gadget in (Shell(), Popen(), Eval(), Exec(), functools.partial(os.system, "id"), os.system):
    for proto in range(6):
        sys.stdout.write(pickle.dumps(gadget, proto).hex() + "\\n")
`;

{
  const python = findPython("3.12") ?? findPython("3.11") ?? findPython("3.13");
  Deno.test({
    name: python || CI
      ? "loads: every __reduce__ gadget pickled by real CPython (protocols 0-5) is refused, naming its global"
      : "loads: CPython __reduce__ gadgets [no Python 3.11-3.13 installed: ignored]",
    ignore: !python && !CI,
    async fn() {
      if (!python) throw new Error("Python is required under CI=true");
      const out = await runCommand(python, ["-c", PY_GADGETS], {
        timeout: 30_000,
      });
      assert.equal(out.code, 0, out.stderr);
      const pickles = out.stdout.trim().split("\n");
      assert.equal(pickles.length, 36);
      const names = [
        /"(os|posix)\.system"/,
        /"(subprocess|commands)\.Popen"/,
        /"builtins\.eval"/,
        /"builtins\.exec"/,
        /"functools\.partial"/,
        /"(os|posix)\.system"/,
      ];
      pickles.forEach((hex, i) => {
        const bytes = Uint8Array.from(
          hex.match(/../g)!,
          (h) => parseInt(h, 16),
        );
        refuses(bytes, names[Math.floor(i / 6)]);
      });
    },
  });
}

// ---- sizes ----------------------------------------------------------------------------

Deno.test("loads: declared lengths larger than the bytes present are refused before allocating", () => {
  const cases: [string, Uint8Array][] = [
    ["BINUNICODE 4 GiB", latin1("\x80\x04X\xff\xff\xff\xffabc")],
    ["BINBYTES 4 GiB", latin1("\x80\x04B\xff\xff\xff\xffabc")],
    [
      "BINBYTES8 2**62",
      latin1("\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x40abc"),
    ],
    [
      "BINUNICODE8 2**64-1",
      latin1("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xffabc"),
    ],
    [
      "BYTEARRAY8 2**40",
      latin1("\x80\x05\x96\x00\x00\x00\x00\x00\x01\x00\x00abc"),
    ],
    ["LONG4 2**31-1", latin1("\x80\x02\x8b\xff\xff\xff\x7fabc")],
    ["FRAME 2**40", latin1("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00N.")],
    ["SHORT_BINBYTES 255", latin1("\x80\x04C\xffabc")],
    ["BINSTRING 2 GiB", latin1("T\xff\xff\xff\x7fabc")],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(
      () => loads(bytes),
      (e: unknown) =>
        e instanceof UnpicklingError && /declared|truncated/.test(e.message),
      what,
    );
  }
  refuses(latin1("T\xff\xff\xff\xffabc"), /negative length/);
  refuses(latin1("\x80\x02\x8b\xff\xff\xff\xff."), /negative length/);
  // text integers over Python's 4300-digit limit (quadratic to parse)
  refuses(latin1("I" + "9".repeat(5000) + "\n."), /exceeds the limit of 4300/);
  refuses(latin1("L" + "9".repeat(5000) + "L\n."), /exceeds the limit of 4300/);
});

// ---- nesting and memo ---------------------------------------------------------------------

Deno.test("loads: deep nesting uses no recursion (100 000 nested lists, a million MARKs)", () => {
  const depth = 100_000;
  const bytes = new Uint8Array(2 + depth + (depth - 1) + 1);
  bytes.set([0x80, 4]);
  bytes.fill(0x5d, 2, 2 + depth); // EMPTY_LIST × depth
  bytes.fill(0x61, 2 + depth, 2 + depth + depth - 1); // APPEND × depth-1
  bytes[bytes.length - 1] = 0x2e;
  let value = loads(bytes) as unknown[];
  let levels = 1;
  while (value.length === 1) {
    value = value[0] as unknown[];
    levels++;
  }
  assert.equal(levels, depth);
  // writing it back hits maxDepth with a PicklingError, not a stack overflow
  assert.throws(() => dumps(loads(bytes)), PicklingError);
  const marks = new Uint8Array(1_000_000).fill(0x28);
  refuses(marks, /truncated/);
  const tuples = new Uint8Array(200_001);
  tuples.fill(0x28, 0, 100_000); // MARK × n
  tuples.fill(0x74, 100_000, 200_000); // TUPLE × n
  tuples[200_000] = 0x2e;
  assert.ok(Array.isArray(loads(tuples)));
});

Deno.test("loads: memo abuse: missing keys refused, sparse keys bounded, shared references not expanded", () => {
  refuses(latin1("\x80\x02h\x05."), /memo key 5 is missing/);
  refuses(
    latin1("\x80\x02j\xff\xff\xff\xff."),
    /memo key 4294967295 is missing/,
  );
  refuses(latin1("g12\n."), /memo key 12 is missing/);
  refuses(latin1("gx\n."), /invalid memo key/);
  // a put at a huge index works (as in Python) without a huge array
  assert.equal(
    loads(
      latin1("\x80\x02X\x01\x00\x00\x00ar\xff\xff\xff\xff0j\xff\xff\xff\xff."),
    ),
    "a",
  );
  // "billion laughs": 40 levels, each a list holding the previous level twice
  const parts = [0x80, 2, 0x5d, 0x71, 0]; // [] put 0
  for (let i = 1; i <= 40; i++) {
    parts.push(0x28, 0x68, i - 1, 0x68, i - 1, 0x6c, 0x71, i); // (get get l put
  }
  parts.push(0x2e);
  const laughs = loads(new Uint8Array(parts)) as unknown[];
  assert.equal(laughs[0], laughs[1]); // shared, not copied: 2**40 leaves never exist
  // and re-encoding keeps the sharing (memo), so the output stays small
  assert.ok(dumps(laughs).length < 500);
});

Deno.test("loads: stack misuse and wrong container types are refused", () => {
  refuses(latin1("."), /stack underflow/);
  refuses(latin1("\x80\x02a."), /stack underflow/);
  refuses(latin1("\x80\x02t."), /no MARK/);
  refuses(latin1("\x80\x02K\x01(K\x02\x86."), /stack underflow/); // TUPLE2 across a MARK
  refuses(latin1("\x80\x02}(K\x01u."), /key\/value pairs/);
  refuses(latin1("\x80\x02)K\x01a."), /APPEND on a tuple/);
  refuses(latin1("\x80\x02K\x01K\x01a."), /APPEND on a number/);
  refuses(latin1("\x80\x02]K\x01K\x02s."), /SETITEM on a list/);
  refuses(latin1("\x80\x04(\x91(K\x01\x90."), /ADDITEMS on a frozenset/);
  refuses(latin1("\x80\x02]N\x62."), /BUILD on a list, which takes no state/);
});

// ---- truncation and corruption -------------------------------------------------------------

function samples(): Uint8Array[] {
  const value = {
    list: [
      1,
      -2,
      300,
      70000,
      2 ** 40,
      2n ** 100n,
      1.5,
      "text",
      "é😀",
      null,
      true,
      false,
    ],
    tuple: tuple(1, tuple(2, 3), []),
    bytes: new Uint8Array([1, 2, 3]),
    map: new Map<unknown, unknown>([[1, "a"], [tuple(1, 2), new Set([1, 2])]]),
    when: Temporal.PlainDateTime.from("2020-01-02T03:04:05.000006"),
    zoned: Temporal.ZonedDateTime.from(
      "2020-01-02T03:04:05+01:00[Europe/Paris]",
    ),
    obj: new PyReduce(new PyGlobal("builtins", "complex"), [1, 2]),
  };
  return [2, 3, 4, 5].map((protocol) =>
    dumps(value, { protocol: protocol as 2 })
  );
}

Deno.test("loads: every truncation of a valid pickle is an UnpicklingError", () => {
  for (const sample of samples()) {
    for (let n = 0; n < sample.length; n++) {
      assert.throws(
        () => loads(sample.subarray(0, n)),
        UnpicklingError,
        `prefix ${n}/${sample.length}`,
      );
    }
  }
});

Deno.test("loads: 5000 random corruptions end in a value or an UnpicklingError, never another error", () => {
  let seed = 1414;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const all = samples();
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = all[i % all.length].slice();
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    try {
      loads(bytes);
    } catch (error) {
      if (!(error instanceof UnpicklingError)) {
        throw new Error(
          `corruption ${i} raised ${error} for ${Array.from(bytes).join(",")}`,
        );
      }
      refused++;
    }
  }
  assert.ok(refused > 1000, `only ${refused} of 5000 corruptions were refused`);
});

// ---- connections ---------------------------------------------------------------------------

Deno.test('Connection(serializer: "pickle"): a hostile message rejects recv() and the connection stays usable', async () => {
  const [a, b] = Pipe(true, { serializer: "pickle" });
  try {
    await a.sendBytes(latin1("cos\nsystem\n(S'echo pwned'\ntR."));
    await assert.rejects(
      b.recv(),
      (e: unknown) =>
        e instanceof UnpicklingError && /"os\.system"/.test(e.message),
    );
    await a.sendBytes(latin1("\x80\x04X\xff\xff\xff\xffabc"));
    await assert.rejects(b.recv(), UnpicklingError);
    await a.send({ still: tuple("ok", 1) });
    assert.deepEqual(await b.recv(), { still: tuple("ok", 1) });
    // send() of a value with no Python counterpart rejects and sends nothing
    await assert.rejects(a.send(() => 1), PicklingError);
    await a.send("next");
    assert.equal(await b.recv(), "next");
  } finally {
    a.close();
    b.close();
  }
});
