// Interop of weft's pickle codec with real CPython 3.11, 3.12 and 3.13:
// property round trips both ways (1000 random nested values, protocols
// 0-5 read, 2/4/5 written) and object exchange over a real
// multiprocessing.connection socket with an authkey, in both roles.
// A missing interpreter is reported as an ignored test (a failure under CI).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { findPython, runCommand, withTimeout } from "../_helpers.ts";
import {
  Client,
  dumps,
  Listener,
  loads,
  PyByteArray,
  PyComplex,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyReduce,
  Tuple,
  tuple,
  UnpicklingError,
} from "../../ipc/mod.ts";

const PEER = fileURLToPath(new URL("./pickle_peer.py", import.meta.url));
const CI = Deno.env.get("CI") === "true";
const VERSIONS = ["3.11", "3.12", "3.13"];
const COUNT = 1000;

function pythonTest(
  version: string,
  name: string,
  fn: (python: string) => Promise<void>,
): void {
  const python = findPython(version);
  if (python === undefined && !CI) {
    Deno.test({
      name: `${name} [Python ${version} not installed: ignored]`,
      ignore: true,
      fn() {},
    });
    return;
  }
  Deno.test(`${name} (Python ${version})`, async () => {
    if (python === undefined) {
      throw new Error(`Python ${version} is required under CI=true`);
    }
    await fn(python);
  });
}

// ---- record files -------------------------------------------------------------

type Rec = [protocol: number, data: Uint8Array];

function readRecords(bytes: Uint8Array): Rec[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Rec[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const n = view.getUint32(pos + 1, true);
    out.push([bytes[pos], bytes.subarray(pos + 5, pos + 5 + n)]);
    pos += 5 + n;
  }
  return out;
}

function writeRecords(records: Rec[]): Uint8Array {
  const total = records.reduce((sum, [, d]) => sum + 5 + d.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const [p, d] of records) {
    out[pos] = p;
    view.setUint32(pos + 1, d.length, true);
    out.set(d, pos + 5);
    pos += 5 + d.length;
  }
  return out;
}

async function py(
  python: string,
  args: string[],
  stdin?: string,
): Promise<string> {
  const result = await runCommand(python, [PEER, ...args], {
    timeout: 60_000,
    stdin,
  });
  assert.equal(
    result.code,
    0,
    `python ${args[0]} failed: ${result.stderr}${result.stdout}`,
  );
  return result.stdout.trim();
}

// ---- Python first: Python pickles → weft decodes and re-encodes → Python compares ----

for (const version of VERSIONS) {
  pythonTest(
    version,
    "pickle: 1000 random values pickled by Python (protocols 0-5) survive weft decode + encode",
    async (python) => {
      const dir = await Deno.makeTempDir({ prefix: "weft-pickle-" });
      try {
        const seed = 14_000 + Number(version.split(".")[1]);
        const protos = "0,1,2,3,4,5";
        assert.equal(
          await py(python, [
            "make",
            String(seed),
            String(COUNT),
            protos,
            `${dir}/py.rec`,
          ]),
          "made",
        );
        const records = readRecords(await Deno.readFile(`${dir}/py.rec`));
        assert.equal(records.length, (COUNT + 3) * 6);
        const back = records.map(([p, data]): Rec => {
          const value = loads(data, { exactFloats: true });
          return [
            p,
            dumps(value, { protocol: p < 2 ? 2 : p as 2 | 3 | 4 | 5 }),
          ];
        });
        await Deno.writeFile(`${dir}/weft.rec`, writeRecords(back));
        assert.equal(
          await py(python, [
            "check",
            String(seed),
            String(COUNT),
            protos,
            `${dir}/weft.rec`,
          ]),
          `ok ${records.length}`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

// ---- weft first: weft pickles → Python loads and re-pickles → weft compares ----

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo));
  const pick = <T>(items: T[]): T => items[int(0, items.length)];
  const str = (): string => {
    switch (int(0, 5)) {
      case 0:
        return "";
      case 1:
        return Array.from({ length: int(1, 10) }, () => pick([..."abcxyz_09"]))
          .join("");
      case 2:
        return String.fromCodePoint(
          ...Array.from({ length: int(1, 20) }, () => int(0x20, 0x800)),
        );
      case 3:
        return "😀a\ud800\n\\\0" + String.fromCharCode(int(0xdc00, 0xe000));
      default:
        return "long-" + "y".repeat(int(200, 400));
    }
  };
  const bytes = (n: number) =>
    Uint8Array.from({ length: n }, () => int(0, 256));
  // hashable keys, unique under Python equality (no bools or floats among them)
  const key = (): unknown => {
    switch (int(0, 4)) {
      case 0:
        return int(-1000, 1000);
      case 1:
        return tuple(int(0, 100), str());
      case 2:
        return bytes(int(0, 4));
      default:
        return str();
    }
  };
  const canon = (k: unknown): string =>
    k instanceof Tuple
      ? `t(${k.map(canon).join(",")})`
      : k instanceof Uint8Array
      ? `b:${k.join(".")}`
      : `${typeof k}:${String(k)}`;
  const keys = (n: number): unknown[] => {
    const seen = new Map<string, unknown>();
    for (let i = 0; i < n; i++) {
      const k = key();
      seen.set(canon(k), k);
    }
    return [...seen.values()];
  };
  const scalar = (): unknown => {
    switch (int(0, 20)) {
      case 0:
        return null;
      case 1:
        return r() < 0.5;
      case 2:
        return int(-300, 300);
      case 3:
        return int(-(2 ** 31), 2 ** 31) * 2 ** 21 + int(0, 2 ** 21); // up to ±2^52
      case 4:
        return (r() < 0.5 ? -1n : 1n) *
          (2n ** BigInt(int(54, 300)) + BigInt(int(0, 1e9)));
      case 5:
        return (r() - 0.5) * 1e6 + 0.5;
      case 6:
        return new PyFloat(int(-1000, 1000));
      case 7:
        return pick([-0, Infinity, -Infinity, 1e308, 5e-324, 2 ** 60, NaN]);
      case 8:
      case 9:
        return str();
      case 10:
        return bytes(int(0, 300));
      case 11:
        return new PyByteArray(bytes(int(0, 20)));
      case 12: {
        const p = new Temporal.PlainDateTime(
          int(1, 10000),
          int(1, 13),
          int(1, 29),
          int(0, 24),
          int(0, 60),
          int(0, 60),
          int(0, 1000),
          int(0, 1000),
        );
        const zone = pick([
          null,
          "UTC",
          "+05:30",
          "-11:45",
          "Europe/Paris",
          "America/New_York",
        ]);
        if (zone === null) return p;
        const year = zone.includes("/") ? int(1900, 2100) : p.year;
        return p.with({ year }).toZonedDateTime(zone, {
          disambiguation: pick(["earlier", "later"]),
        });
      }
      case 13:
        return new Temporal.PlainDate(int(1, 10000), int(1, 13), int(1, 29));
      case 14:
        return new Temporal.PlainTime(
          int(0, 24),
          int(0, 60),
          int(0, 60),
          int(0, 1000),
          int(0, 1000),
        );
      case 15: {
        const d = new Temporal.Duration(
          0,
          0,
          0,
          int(0, 999999999),
          int(0, 24),
          int(0, 60),
          int(0, 60),
          int(0, 1000),
          int(0, 1000),
        );
        return r() < 0.5 ? d.negated() : d;
      }
      case 16:
        return new PyDecimal(
          pick([
            "0.10",
            "-1.5E+7",
            "NaN",
            "-0",
            "123456789012345678901234567890.5",
          ]),
        );
      case 17:
        return new PyComplex((r() - 0.5) * 20, pick([0, -1, 2.5]));
      case 18:
        return new PyFrozenSet(keys(int(0, 4)));
      default:
        return new Set(keys(int(0, 5)));
    }
  };
  const value = (depth: number): unknown => {
    if (depth >= 4 || r() < 0.35) return scalar();
    const n = int(0, 6);
    switch (int(0, 4)) {
      case 0:
        return Array.from({ length: n }, () => value(depth + 1));
      case 1:
        return tuple(...Array.from({ length: n }, () => value(depth + 1)));
      case 2: {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          o[pick(["a", "bb", "key", "é", "k" + i, "x-y"])] = value(depth + 1);
        }
        return o;
      }
      default: {
        const m = new Map<unknown, unknown>([[int(0, 10), value(depth + 1)]]); // one non-str key
        for (const k of keys(n)) m.set(k, value(depth + 1));
        return m;
      }
    }
  };
  return { value, canon };
}

function micros(d: Temporal.Duration): bigint {
  return BigInt(d.days) * 86_400_000_000n + BigInt(d.hours) * 3_600_000_000n +
    BigInt(d.minutes) * 60_000_000n + BigInt(d.seconds) * 1_000_000n +
    BigInt(d.milliseconds) * 1000n + BigInt(d.microseconds);
}

/** Type-strict, order-strict equality (sets unordered), as the Python side's `same`. */
function same(a: unknown, b: unknown, canon: (k: unknown) => string): boolean {
  if (typeof a !== "object" || a === null) return Object.is(a, b);
  if (
    typeof b !== "object" || b === null ||
    Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)
  ) return false;
  const eq = (x: unknown, y: unknown) => same(x, y, canon);
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => eq(x, bb[i]));
  }
  if (a instanceof Map) {
    const ea = [...a];
    const eb = [...(b as Map<unknown, unknown>)];
    return ea.length === eb.length &&
      ea.every(([k, v], i) => eq(k, eb[i][0]) && eq(v, eb[i][1]));
  }
  if (a instanceof Set) {
    const sb = new Set([...(b as Set<unknown>)].map(canon));
    return a.size === sb.size && [...a].every((x) => sb.has(canon(x)));
  }
  if (a instanceof Uint8Array) {
    return a.length === (b as Uint8Array).length &&
      a.every((x, i) => x === (b as Uint8Array)[i]);
  }
  if (a instanceof PyByteArray) return eq(a.bytes, (b as PyByteArray).bytes);
  if (a instanceof PyFloat) return Object.is(a.value, (b as PyFloat).value);
  if (a instanceof PyComplex) {
    return Object.is(a.real, (b as PyComplex).real) &&
      Object.is(a.imag, (b as PyComplex).imag);
  }
  if (a instanceof PyDecimal) return a.text === (b as PyDecimal).text;
  if (a instanceof Temporal.Duration) {
    return micros(a) === micros(b as Temporal.Duration);
  }
  if (
    a instanceof Temporal.PlainDateTime || a instanceof Temporal.PlainDate ||
    a instanceof Temporal.PlainTime ||
    a instanceof Temporal.ZonedDateTime
  ) {
    return (a as { equals(o: unknown): boolean }).equals(b);
  }
  if (a instanceof PyReduce) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length &&
    ka.every((k, i) =>
      k === kb[i] &&
      eq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
}

for (const version of VERSIONS) {
  pythonTest(
    version,
    "pickle: 1000 random values pickled by weft (protocols 2, 4, 5) survive Python load + dump",
    async (python) => {
      const dir = await Deno.makeTempDir({ prefix: "weft-pickle-" });
      try {
        const { value, canon } = generator(
          1400 + Number(version.split(".")[1]),
        );
        const values = Array.from({ length: COUNT }, () => value(0));
        const records: Rec[] = [];
        for (const v of values) {
          for (const p of [2, 4, 5] as const) {
            records.push([p, dumps(v, { protocol: p })]);
          }
        }
        await Deno.writeFile(`${dir}/weft.rec`, writeRecords(records));
        assert.equal(
          await py(python, ["echo", `${dir}/weft.rec`, `${dir}/py.rec`]),
          `echoed ${records.length}`,
        );
        const back = readRecords(await Deno.readFile(`${dir}/py.rec`));
        assert.equal(back.length, records.length);
        const bad: string[] = [];
        back.forEach(([p, data], i) => {
          const original = values[Math.floor(i / 3)];
          const decoded = loads(data, { exactFloats: true });
          if (!same(original, decoded, canon)) {
            bad.push(
              `#${Math.floor(i / 3)} p${p}: ${Deno.inspect(original)} → ${
                Deno.inspect(decoded)
              }`,
            );
          }
        });
        assert.deepEqual(bad.slice(0, 5), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

// ---- over a real multiprocessing.connection socket, both roles --------------------

const OWN = {
  from: "weft",
  big: 2n ** 80n,
  t: tuple(1, [2, 3]),
  b: new Uint8Array([1, 2]),
  s: new Set(["x"]),
};

/** weft's side of pickle_peer.py's connection_peer script. */
async function converse(
  conn: Awaited<ReturnType<typeof Client>>,
): Promise<void> {
  const sample = await conn.recv<Map<unknown, unknown>>();
  assert.ok(sample instanceof Map, "a dict with a tuple key is a Map");
  const get = (k: string) => sample.get(k);
  // the types arrive as documented JS values
  assert.deepEqual(get("dict"), {
    a: [1, 2.5, "x", null, true, new TextEncoder().encode("raw"), tuple(1, 2)],
  });
  assert.equal(get("big"), 2n ** 100n);
  assert.equal(get("neg"), -(2n ** 70n));
  assert.equal(get("float"), 1);
  assert.deepEqual(get("set"), new Set([1, 2, 3]));
  assert.deepEqual(get("frozen"), new PyFrozenSet(["f"]));
  assert.equal(String(get("when")), "2026-11-25T21:00:00.123456+00:00[UTC]");
  assert.ok(
    (get("naive") as Temporal.PlainDateTime).equals(
      Temporal.PlainDateTime.from("2000-01-01"),
    ),
  );
  assert.ok(
    (get("day") as Temporal.PlainDate).equals(
      Temporal.PlainDate.from("1999-12-31"),
    ),
  );
  assert.equal(String(get("span")), "-PT23H59M59S");
  assert.deepEqual(get("price"), new PyDecimal("9.99"));
  assert.deepEqual(get("z"), new PyComplex(1, -1));
  assert.deepEqual(get("ba"), new PyByteArray(new Uint8Array([0, 255])));
  assert.equal(
    [...sample.entries()].find(([k]) => k instanceof Tuple)?.[1],
    "tuple key",
  );
  await conn.send(tuple(sample, OWN));
  // a malicious pickle is refused with UnpicklingError, nothing runs, the connection stays usable
  const refused = await conn.recv().catch((e) => e);
  assert.ok(refused instanceof UnpicklingError, String(refused));
  assert.match(refused.message, /global "os\.system" is not allowed/);
  await conn.send("refused: os.system");
  assert.equal(await conn.recv(), "after");
  await conn.send("AFTER");
}

for (const version of VERSIONS) {
  pythonTest(
    version,
    'pickle: weft Client(serializer: "pickle") exchanges objects with a Python Listener (authkey)',
    async (python) => {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const hexKey = Array.from(key, (b) => b.toString(16).padStart(2, "0"))
        .join("");
      const child = new Deno.Command(python, {
        args: [PEER, "server"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      const lines = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      try {
        await writer.write(new TextEncoder().encode(hexKey + "\n"));
        const port = Number(
          (await withTimeout(lines.read(), 30_000, "python port")).value!
            .trim(),
        );
        using conn = await Client({ hostname: "127.0.0.1", port }, {
          authkey: key,
          serializer: "pickle",
        });
        await withTimeout(converse(conn), 20_000);
        const rest = async () => {
          let out = "";
          for (
            let r = await lines.read();
            !r.done;
            r = await lines.read()
          ) out += r.value;
          return out;
        };
        const out = await withTimeout(rest(), 30_000, "python exit");
        assert.equal(out.trim(), "ok");
      } finally {
        await writer.close().catch(() => {});
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        const status = await child.status;
        const stderr = await new Response(child.stderr).text();
        assert.equal(
          status.success || status.signal === "SIGKILL",
          true,
          stderr,
        );
        await lines.cancel().catch(() => {});
      }
    },
  );

  pythonTest(
    version,
    'pickle: a Python Client exchanges objects with weft Listener(serializer: "pickle") (authkey)',
    async (python) => {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const hexKey = Array.from(key, (b) => b.toString(16).padStart(2, "0"))
        .join("");
      using listener = new Listener({
        address: { hostname: "127.0.0.1", port: 0 },
        authkey: key,
        serializer: "pickle",
      });
      const port = (listener.address as { port: number }).port;
      const peer = runCommand(python, [PEER, "client"], {
        stdin: `${hexKey}\n${port}\n`,
        timeout: 30_000,
      });
      using conn = await withTimeout(listener.accept(), 20_000);
      assert.equal(conn.serializer, "pickle");
      await withTimeout(converse(conn), 20_000);
      const result = await peer;
      assert.equal(result.stdout.trim(), "ok", result.stderr);
    },
  );
}
