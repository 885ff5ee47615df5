// Python and Deno processes sharing one weft Manager at once: the seed's
// Manager program (10 processes, 5 Python + 5 Deno, one dict and one list)
// and 10 Python + 10 Deno processes x 200 increments under one manager
// Lock. Each version of CPython present takes its turn.
import assert from "node:assert/strict";
import { runCommand, withTimeout } from "../_helpers.ts";
import { Manager } from "../../ipc/manager.ts";
import { hex, PY_CONNECT, pythonTest, runPython } from "./_py_manager.ts";

const KEY = "mixed fleet key";
const TASK = new URL("./_tasks/py_mixed_task.ts", import.meta.url).pathname;

function config(port: number, extra: Record<string, unknown>) {
  return { port, key: hex(new TextEncoder().encode(KEY)), ...extra };
}

async function denoPeer(port: number, extra: Record<string, unknown>) {
  const out = await runCommand(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    TASK,
  ], { stdin: JSON.stringify(config(port, extra)), timeout: 60_000 });
  if (out.code !== 0) throw new Error(`deno peer failed:\n${out.stderr}`);
}

const PY_SEED = PY_CONNECT + `
dic = m.dic(); li = m.li()
i = cfg["i"]
dic[i] = '1'
li.append(i)
`;

const PY_COUNT = PY_CONNECT + `
lk = m.lock(); c = m.counter()
for _ in range(cfg["n"]):
    with lk:
        c.value += 1
`;

const PY_PRINT = PY_CONNECT + `
dic = m.dic(); li = m.li()
print(dict(sorted(dic.items())))
print(li[:5], sorted(li[5:]))
`;

for (const version of ["3.11", "3.12", "3.13"]) {
  pythonTest(
    version,
    "the seed's Manager program with 5 Python and 5 Deno processes on one dict and one list",
    async (python) => {
      await using manager = await Manager.serve({ port: 0, authkey: KEY });
      const { port } = manager.address as { port: number };
      const dic = await manager.dict<number, string>({}, { name: "dic" });
      const li = await manager.list<number>([0, 1, 2, 3, 4], { name: "li" });
      const named = { dic: "dict", li: "list" };
      await withTimeout(
        Promise.all(
          Array.from(
            { length: 10 },
            (_, i) =>
              i < 5
                ? runPython(python, PY_SEED, config(port, { i, named }))
                : denoPeer(port, { mode: "seed", i }),
          ),
        ),
        90_000,
        "10 peers",
      );
      const entries = (await dic.entries()).sort((a, b) => a[0] - b[0]);
      assert.deepEqual(
        entries,
        Array.from({ length: 10 }, (_, i) => [i, "1"]),
      );
      const items = await li.toArray();
      assert.deepEqual(items.slice(0, 5), [0, 1, 2, 3, 4]);
      assert.deepEqual(
        items.slice(5).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      // What a Python process prints, as the tutorial's parent does.
      assert.deepEqual(
        await runPython(python, PY_PRINT, config(port, { named })),
        [
          "{0: '1', 1: '1', 2: '1', 3: '1', 4: '1', 5: '1', 6: '1', 7: '1', 8: '1', 9: '1'}",
          "[0, 1, 2, 3, 4] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]",
        ],
      );
    },
  );
}

// The contended run is long enough to do once, with the newest Python.
const newest = "3.13";

pythonTest(
  newest,
  "10 Python + 10 Deno processes x 200 read-then-write increments under one manager Lock = exactly 4000",
  async (python) => {
    await using manager = await Manager.serve({ port: 0, authkey: KEY });
    const { port } = manager.address as { port: number };
    await manager.Lock({ name: "lock" });
    const counter = await manager.Value(0, { name: "counter" });
    const named = { lock: "Lock", counter: "Value" };
    const n = 200;
    await withTimeout(
      Promise.all(
        Array.from(
          { length: 20 },
          (_, i) =>
            i < 10
              ? runPython(python, PY_COUNT, config(port, { n, named }), 120_000)
              : denoPeer(port, { mode: "count", n }),
        ),
      ),
      150_000,
      "20 peers",
    );
    assert.equal(await counter.get(), 4000);
  },
);

pythonTest(
  "3.11",
  "examples/manager_shared/mixed.ts prints the tutorial's dict and list",
  async (python) => {
    const example = new URL(
      "../../examples/manager_shared/mixed.ts",
      import.meta.url,
    ).pathname;
    const out = await runCommand(Deno.execPath(), [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-run",
      "--allow-env",
      example,
      "--python",
      python,
    ], { timeout: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const [dict, list] = out.stdout.trim().split("\n");
    assert.equal(
      dict,
      "{0: '1', 1: '1', 2: '1', 3: '1', 4: '1', 5: '1', 6: '1', 7: '1', 8: '1', 9: '1'}",
    );
    const items = list.slice(1, -1).split(", ").map(Number);
    assert.deepEqual(items.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.deepEqual(
      items.slice(5).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  },
);
