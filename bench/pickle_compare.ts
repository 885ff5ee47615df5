// weft's pickle codec against CPython's C pickle (`_pickle`), in one run:
// encode + decode of a typical message (a dict of 10 mixed fields) and of a
// 1 MiB bytes payload, protocol 4, and V8's serializer (node:v8, what a
// "v8" connection uses) on the same JS values for reference. Prints µs per
// encode+decode and the ratio Python time / weft time (>= 1: weft is as
// fast or faster). Goals (issue #14): >= 0.5 on the dict, >= 1 on the bytes.
// Both sides measure CPU time (process_time / cpuUsage), not wall time, so
// other programs on a shared machine inflate neither.
//
//   deno run --allow-run --allow-read --allow-env bench/pickle_compare.ts [--quick]
//
// Python: python3.12 (or python3) from PATH or pyenv; it measures itself
// with a script on stdin and prints JSON.
import { deserialize, serialize } from "node:v8";
import { cpuUsage } from "node:process";
import { dumps, loads, tuple } from "../ipc/mod.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 2 : 6;

function python(): string {
  for (
    const candidate of [
      "python3.12",
      `${Deno.env.get("HOME")}/.pyenv/versions/3.12.1/bin/python3`,
      "python3",
    ]
  ) {
    try {
      if (
        new Deno.Command(candidate, {
          args: ["-V"],
          stdout: "null",
          stderr: "null",
        }).outputSync().success
      ) {
        return candidate;
      }
    } catch {
      // not there
    }
  }
  throw new Error("Cannot run the comparison: no python3 found");
}

const PY_SCRIPT = `
import json, pickle, sys, time
small = {"id": 12345, "name": "alice", "score": 98.625, "active": True, "tags": ["a", "b", "c"],
         "created": 1732560000.5, "point": (3, 4), "data": bytes(range(16)), "big": 2**70, "none": None}
big = bytes(i % 256 for i in range(1 << 20))
rounds = int(sys.argv[1])
def best(fn, n):
    out = []
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        out.append((time.process_time() - t0) / n * 1e6)
    return min(out)
print(json.dumps({
    "small": best(lambda: pickle.loads(pickle.dumps(small, 4)), 20000),
    "bytes": best(lambda: pickle.loads(pickle.dumps(big, 4)), 200),
    "version": sys.version.split()[0],
}))
`;

/** CPU time of this process in µs (a busy machine does not inflate it). */
function cpuMicros(): number {
  const { user, system } = cpuUsage();
  return user + system;
}

function best(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(); // warm-up (JIT)
  let min = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = cpuMicros();
    for (let i = 0; i < n; i++) fn();
    min = Math.min(min, (cpuMicros() - t0) / n);
  }
  return min;
}

const small = {
  id: 12345,
  name: "alice",
  score: 98.625,
  active: true,
  tags: ["a", "b", "c"],
  created: 1732560000.5,
  point: tuple(3, 4),
  data: Uint8Array.from({ length: 16 }, (_, i) => i),
  big: 2n ** 70n,
  none: null,
};
const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => i % 256);

// the same bytes as Python's, so both sides decode equal values
const check = loads(dumps(small)) as typeof small;
if (check.big !== small.big || check.tags.length !== 3) {
  throw new Error("round trip failed");
}

// Python and weft are measured in alternation, ROUNDS times each, and the
// best of each side is kept, so a busy moment on the machine hits both.
const py = python();
async function pythonRound(): Promise<
  { small: number; bytes: number; version: string }
> {
  const child = new Deno.Command(py, {
    args: ["-", "3"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(PY_SCRIPT));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error("Cannot run the comparison: the Python side failed");
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const pyResult = { small: Infinity, bytes: Infinity, version: "" };
let weftSmall = Infinity,
  weftBytes = Infinity,
  v8Small = Infinity,
  v8Bytes = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  const round = await pythonRound();
  pyResult.small = Math.min(pyResult.small, round.small);
  pyResult.bytes = Math.min(pyResult.bytes, round.bytes);
  pyResult.version = round.version;
  weftSmall = Math.min(weftSmall, best(() => loads(dumps(small)), 20000));
  weftBytes = Math.min(weftBytes, best(() => loads(dumps(big)), 200));
  v8Small = Math.min(v8Small, best(() => deserialize(serialize(small)), 20000));
  v8Bytes = Math.min(v8Bytes, best(() => deserialize(serialize(big)), 200));
}

const row = (name: string, weft: number, python: number, v8: number) =>
  `| ${name} | ${weft.toFixed(2)} | ${python.toFixed(2)} | ${
    (python / weft).toFixed(2)
  }× | ${v8.toFixed(2)} |`;
console.log(
  `weft pickle vs CPython ${pyResult.version} C pickle (protocol 4), µs per encode+decode, best of ${ROUNDS} alternating rounds`,
);
console.log("| message | weft | Python | Python/weft | node:v8 (reference) |");
console.log("| --- | --: | --: | --: | --: |");
console.log(row("dict of 10 mixed fields", weftSmall, pyResult.small, v8Small));
console.log(row("1 MiB bytes", weftBytes, pyResult.bytes, v8Bytes));
