// weft's Manager.connect({ protocol: "python" }) against a CPython
// SyncManager server (3.11 legacy MD5 and 3.12+ sha256 handshakes): dict,
// list, Queue, Lock, Value, Event through the usual proxies, plus an
// object the Python server registered, seen by a Python client too.
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { QueueEmpty } from "../../concurrency/queue_errors.ts";
import { Manager } from "../../ipc/manager.ts";
import { RemoteError } from "../../ipc/manager_error.ts";
import { hex, pythonTest, runPython, withPythonPeer } from "./_py_manager.ts";

const KEY = "python server key";

const PY_SERVER = `
import sys, json
from multiprocessing.managers import SyncManager
cfg = json.loads(sys.stdin.readline())
shared = {}
class M(SyncManager): pass
M.register("get_shared", callable=lambda: shared)
m = M(address=("127.0.0.1", 0), authkey=bytes.fromhex(cfg["key"]))
server = m.get_server()
print(server.address[1], flush=True)
server.serve_forever()
`;

const PY_READER = `
import sys, json
from multiprocessing.managers import SyncManager, DictProxy
cfg = json.loads(sys.stdin.readline())
class M(SyncManager): pass
M.register("get_shared", proxytype=DictProxy)
m = M(address=("127.0.0.1", cfg["port"]), authkey=bytes.fromhex(cfg["key"]))
m.connect()
print(sorted(m.get_shared().items()))
`;

function withPythonServer(
  python: string,
  body: (port: number) => Promise<void>,
): Promise<void> {
  return withPythonPeer(
    python,
    PY_SERVER,
    { key: hex(new TextEncoder().encode(KEY)) },
    "\n",
    (text) =>
      withTimeout(body(Number(text.trim())), 60_000, "python server test"),
    20_000,
  );
}

for (const version of ["3.11", "3.12", "3.13"]) {
  pythonTest(
    version,
    'Manager.connect({ protocol: "python" }) to a CPython SyncManager: dict, list, Queue, Lock, Value, Event',
    async (python) => {
      await withPythonServer(python, async (port) => {
        await using manager = await Manager.connect({
          address: { hostname: "127.0.0.1", port },
          authkey: KEY,
          protocol: "python",
        });

        const dict = await manager.dict<string | number, unknown>({ a: 1 });
        await dict.set(2, "two");
        assert.equal(await dict.get("a"), 1);
        assert.equal(await dict.get("missing"), undefined);
        assert.equal(await dict.get("missing", 5), 5);
        assert.equal(await dict.has(2), true);
        assert.equal(await dict.size(), 2);
        assert.deepEqual(await dict.entries(), [["a", 1], [2, "two"]]);
        assert.equal(await dict.delete("a"), true);
        assert.equal(await dict.delete("a"), false);
        assert.equal(await dict.setdefault("s", 3), 3);
        assert.equal(await dict.pop("s"), 3);
        assert.deepEqual(await dict.keys(), [2]);
        await assert.rejects(dict.increment("n"), TypeError);

        const list = await manager.list<number>([1, 2]);
        assert.equal(await list.push(3, 4), 4);
        assert.deepEqual(await list.toArray(), [1, 2, 3, 4]);
        assert.deepEqual(await list.slice(1, 3), [2, 3]);
        assert.equal(await list.at(-1), 4);
        assert.equal(await list.at(10), undefined);
        assert.equal(await list.pop(), 4);
        assert.equal(await list.indexOf(2), 1);
        assert.equal(await list.indexOf(9), -1);
        await list.set(0, 10);
        assert.equal(await list.length(), 3);
        await list.clear();
        assert.deepEqual(await list.toArray(), []);
        await assert.rejects(
          list.pop(),
          (e: unknown) =>
            e instanceof RemoteError && e.remoteName === "IndexError",
        );

        const queue = await manager.Queue<string>();
        await queue.put("job");
        assert.equal(await queue.qsize(), 1);
        assert.equal(await queue.get({ timeout: 1000 }), "job");
        await assert.rejects(queue.get({ timeout: 50 }), QueueEmpty);
        await assert.rejects(queue.getNowait(), QueueEmpty);
        const waiting = queue.get({ timeout: 10_000 });
        await queue.put("late");
        assert.equal(await waiting, "late");

        const lock = await manager.Lock();
        assert.equal(await lock.acquire(), true);
        assert.equal(await lock.locked(), true);
        assert.equal(await lock.acquire({ timeout: 50 }), false);
        const second = lock.acquire({ timeout: 10_000 });
        await lock.release();
        assert.equal(await second, true);
        await lock.release();
        await assert.rejects(
          lock.release(),
          (e: unknown) =>
            e instanceof RemoteError && e.remoteName === "RuntimeError",
        );

        const value = await manager.Value(41);
        await value.set((await value.get()) + 1);
        assert.equal(await value.get(), 42);
        await assert.rejects(value.increment(), TypeError);

        const event = await manager.Event();
        assert.equal(await event.isSet(), false);
        assert.equal(await event.wait({ timeout: 20 }), false);
        const woken = event.wait({ timeout: 10_000 });
        await event.set();
        assert.equal(await woken, true);
        assert.equal(await event.isSet(), true);

        const ns = await manager.Namespace<{ x: number; y: string }>({ x: 1 });
        await ns.set("y", "two");
        assert.equal(await ns.get("x"), 1);
        assert.equal(await ns.has("y"), true);
        assert.equal(await ns.delete("x"), true);
        assert.equal(await ns.get("x"), undefined);
        await ns.update({ x: 5 });
        assert.deepEqual(await ns.toObject(), { y: "two", x: 5 });

        const slots = await manager.BoundedSemaphore(1);
        assert.equal(await slots.acquire(), true);
        assert.equal(await slots.acquire({ blocking: false }), false);
        await slots.release();
        await assert.rejects(
          slots.release(),
          (e: unknown) =>
            e instanceof RemoteError && e.remoteName === "ValueError",
        );

        const barrier = await manager.Barrier(2);
        assert.equal(await barrier.parties(), 2);
        const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
        assert.deepEqual(indexes.sort(), [0, 1]);
        assert.equal(await barrier.broken(), false);

        await assert.rejects(manager.RLock(), TypeError);

        // An object the Python server registered: the same one a Python
        // client sees.
        const shared = await manager.dict<string, number>({}, {
          name: "get_shared",
        });
        await shared.set("weft", 1);
        assert.deepEqual(
          await runPython(python, PY_READER, {
            port,
            key: hex(new TextEncoder().encode(KEY)),
          }),
          ["[('weft', 1)]"],
        );
        assert.equal(await dict.destroy(), true);
        assert.equal(await dict.destroy(), false);
      });
    },
  );
}
