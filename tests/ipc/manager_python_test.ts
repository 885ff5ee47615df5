// CPython 3.11 / 3.12 / 3.13 `multiprocessing.managers` clients on a weft
// Manager: every SyncManager typeid with the exceptions Python code
// expects, reference counting, a wrong key, a client killed while it holds
// a lock, and one object shared with a weft client.
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { Manager } from "../../ipc/manager.ts";
import {
  hex,
  PY_CONNECT,
  PY_EVERY_TYPEID,
  pythonTest,
  runPython,
  withPythonPeer,
} from "./_py_manager.ts";

const KEY = "python managers test key";

async function served(
  body: (manager: Manager, port: number) => Promise<void>,
  start = false,
): Promise<void> {
  const manager = start
    ? await Manager.start({ authkey: KEY })
    : await Manager.serve({ port: 0, authkey: KEY });
  try {
    const { port } = manager.address as { port: number };
    await withTimeout(body(manager, port), 60_000, "python manager test");
  } finally {
    await manager.shutdown();
  }
}

const config = (port: number, extra: Record<string, unknown> = {}) => ({
  port,
  key: hex(new TextEncoder().encode(KEY)),
  ...extra,
});

for (const version of ["3.11", "3.12", "3.13"]) {
  pythonTest(
    version,
    "Python SyncManager client on a weft Manager: every typeid and its exceptions; a named object shared with weft",
    async (python) => {
      await served(async (manager, port) => {
        const shared = await manager.dict<string, unknown>({ from: "deno" }, {
          name: "shared",
        });
        await manager.register(
          "Counter",
          new URL("./_tasks/manager_counter.ts", import.meta.url),
          "Counter",
        );
        const lines = await runPython(
          python,
          PY_EVERY_TYPEID,
          config(port, { named: { shared: "dict", Counter: "auto" } }),
        );
        assert.deepEqual(lines, [
          "{1: 'x', 'y': [1.5, None, True]}",
          "ok dict",
          "['a', 'b', 'c', 3, 4, 7, 8]",
          "ok list",
          "Namespace(y='two')",
          "ok Namespace",
          "Value('d', 1.5)",
          "ok Value",
          "ok Array",
          "ok Queue",
          "ok Lock RLock",
          "ok Semaphore BoundedSemaphore",
          "ok Event",
          "ok Condition",
          "ok Barrier",
          "ok nested proxies",
          "ok registered weft class",
          "ok named",
          "done",
        ]);
        // The Python write is visible to weft: the same object.
        assert.deepEqual(
          [...(await shared.get("python") as number[])],
          version.split(".").map(Number),
        );
      });
    },
  );

  pythonTest(
    version,
    "Python clients' reference counts free the objects they created; named weft objects stay",
    async (python) => {
      await served(async (manager, port) => {
        await manager.Lock({ name: "keep" });
        const before = await manager.dict(); // weft's own, not counted by Python
        const lines = await runPython(
          python,
          PY_CONNECT + `
d = m.dict(); l = m.list([1]); q = m.Queue()
k = m.keep()
print(m._number_of_objects())
del d, l, q
gc.collect()
print(m._number_of_objects())
del k
gc.collect()
print(m._number_of_objects())
`,
          config(port, { named: { keep: "Lock" } }),
        );
        assert.deepEqual(lines, ["4", "1", "0"]);
        // 3 freed; the named Lock and weft's dict remain.
        const probe = await manager.Lock({ name: "keep" });
        assert.equal(await probe.locked(), false);
        assert.equal(await before.size(), 0);
      });
    },
  );

  pythonTest(
    version,
    "a Python client with a wrong authkey is refused by a Manager.start() server, which keeps serving",
    async (python) => {
      await served(async (_manager, port) => {
        const lines = await runPython(
          python,
          `
import sys, json
from multiprocessing import AuthenticationError
from multiprocessing.managers import SyncManager
cfg = json.loads(sys.stdin.readline())
m = SyncManager(address=("127.0.0.1", cfg["port"]), authkey=b"wrong key")
try:
    m.connect()
    print("connected")
except AuthenticationError as e:
    print("refused")
m = SyncManager(address=("127.0.0.1", cfg["port"]), authkey=bytes.fromhex(cfg["key"]))
m.connect()
print(m.list([1, 2])[1])
`,
          config(port),
        );
        assert.deepEqual(lines, ["refused", "2"]);
      }, true);
    },
  );

  pythonTest(
    version,
    "a Python client killed while it holds a manager Lock: the lock is released",
    async (python) => {
      await served(async (manager, port) => {
        const lock = await manager.Lock({ name: "the_lock" });
        await withPythonPeer(
          python,
          PY_CONNECT + `
lk = m.the_lock()
lk.acquire()
print("held", flush=True)
time.sleep(60)
`,
          config(port, { named: { the_lock: "Lock" } }),
          "held",
          async () => {
            assert.equal(await lock.locked(), true);
            assert.equal(await lock.acquire({ timeout: 0 }), false);
          },
        );
        // withPythonPeer SIGKILLed the holder on leaving (no finalizer
        // runs, its connection just drops): the lock comes back to us
        assert.equal(await lock.acquire({ timeout: 20_000 }), true);
        await lock.release();
      });
    },
  );
}
