/**
 * Helpers for the Python managers-protocol tests (not published): real
 * CPython clients and servers; the authkey always travels on stdin.
 */
import { findPython, runCommand, withTimeout } from "../_helpers.ts";

/** Interpreters by version; missing ones are `undefined`. */
export const PYTHONS: Record<string, string | undefined> = {
  "3.11": findPython("3.11"),
  "3.12": findPython("3.12"),
  "3.13": findPython("3.13"),
};

const CI = Deno.env.get("CI") === "true";

/**
 * Registers `fn` for one Python version: ignored (reason in the name) when
 * that version is missing, failing instead under `CI=true`.
 */
export function pythonTest(
  version: string,
  name: string,
  fn: (python: string) => Promise<void>,
): void {
  const python = PYTHONS[version];
  Deno.test({
    name: python === undefined && !CI
      ? `${name} [python ${version}] (ignored: python ${version} not installed)`
      : `${name} [python ${version}]`,
    ignore: python === undefined && !CI,
    fn: async () => {
      if (python === undefined) {
        throw new Error(`python ${version} is required when CI=true`);
      }
      await fn(python);
    },
  });
}

/** Hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs `script` with `python -c`, the JSON `config` on stdin, a deadline;
 * throws with stderr if it fails. Returns stdout lines.
 */
export async function runPython(
  python: string,
  script: string,
  config: unknown,
  timeout = 30_000,
): Promise<string[]> {
  const out = await runCommand(python, ["-c", script], {
    stdin: JSON.stringify(config) + "\n",
    timeout,
  });
  if (out.code !== 0) {
    throw new Error(
      `python failed (code ${out.code}, signal ${out.signal}):\n${out.stderr}\n${out.stdout}`,
    );
  }
  return out.stdout.split("\n").filter((line) => line !== "");
}

/**
 * Starts `script` with `python -c` (the JSON `config` on stdin), waits
 * (within `timeout` ms) until its stdout contains `marker`, runs `body`
 * with the stdout seen so far, then kills it, whatever happened.
 */
export async function withPythonPeer<T>(
  python: string,
  script: string,
  config: unknown,
  marker: string,
  body: (stdout: string) => Promise<T>,
  timeout = 30_000,
): Promise<T> {
  const child = new Deno.Command(python, {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify(config) + "\n"),
    );
    await writer.close();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!text.includes(marker)) {
      const { value, done } = await withTimeout(
        reader.read(),
        timeout,
        `python prints ${JSON.stringify(marker)}`,
      );
      if (done) throw new Error(`python exited before printing ${marker}`);
      text += value;
    }
    reader.releaseLock();
    return await body(text);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
  }
}

/** Python prelude: reads {port, key} and defines a connected SyncManager `m`. */
export const PY_CONNECT = `
import sys, json, gc, queue, threading, time
from multiprocessing.managers import SyncManager, BaseManager, DictProxy, ListProxy, AcquirerProxy, ValueProxy, EventProxy
cfg = json.loads(sys.stdin.readline())
KEY = bytes.fromhex(cfg["key"])
class M(SyncManager): pass
for name, proxy in cfg.get("named", {}).items():
    if proxy == "auto":
        M.register(name)
    else:
        M.register(name, proxytype={"dict": DictProxy, "list": ListProxy, "Lock": AcquirerProxy, "Value": ValueProxy, "Event": EventProxy}[proxy])
m = M(address=("127.0.0.1", cfg["port"]), authkey=KEY)
m.connect()
`;

/** Every SyncManager typeid, with the errors Python code expects. */
export const PY_EVERY_TYPEID = PY_CONNECT + `
def expect(exc, fn, *args, **kwds):
    try:
        fn(*args, **kwds)
    except exc as e:
        return e
    raise AssertionError("expected %s" % exc.__name__)

d = m.dict({"a": 1}, b=2)
d[1] = "one"; d[0.25] = None; d["t"] = (1, "x")
assert d["a"] == 1 and d[1] == "one" and d[0.25] is None and d["t"] == (1, "x")
assert len(d) == 5 and "b" in d and 7 not in d
assert d.get("zz") is None and d.get("zz", 3) == 3
assert sorted(map(str, d.keys())) == ["0.25", "1", "a", "b", "t"]
assert ("b", 2) in d.items() and 2 in d.values()
assert str(expect(KeyError, lambda: d["missing"])) == "'missing'"
assert d.setdefault("s", 5) == 5 and d.setdefault("s", 6) == 5
assert d.pop("s") == 5 and d.pop("s", "dflt") == "dflt"
expect(KeyError, d.pop, "s")
d.update({"u": 1}, v=2); d.update([("w", 3)])
assert d["u"] == 1 and d["v"] == 2 and d["w"] == 3
del d["w"]; expect(KeyError, d.__delitem__, "w")
assert sorted(map(str, list(d))) == sorted(map(str, d.keys()))
assert d.copy()["a"] == 1
k, v = d.popitem(); assert k == "v" and v == 2
print(str(m.dict({1: "x", "y": [1.5, None, True]})))
d.clear(); assert len(d) == 0
expect(KeyError, d.popitem)
print("ok dict")

l = m.list(range(5))
l.append(9); l += [7, 8]; l.extend((10,)); l.insert(0, -1)
assert l[0] == -1 and l[-1] == 10 and l[1:4] == [0, 1, 2] and l[::3] == [-1, 2, 9, 10]
assert len(l) == 10 and 9 in l and l.count(9) == 1 and l.index(9) == 6
expect(IndexError, l.__getitem__, 99)
expect(ValueError, l.index, 1234)
expect(ValueError, l.remove, 1234)
l.remove(9); l.sort(); assert l[:] == [-1, 0, 1, 2, 3, 4, 7, 8, 10]
l.sort(reverse=True); l.reverse(); assert l[0] == -1
assert l.pop() == 10 and l.pop(0) == -1
l[0] = 100; del l[0]; l[0:2] = ["a", "b", "c"]
assert l[:] == ["a", "b", "c", 3, 4, 7, 8], l[:]
expect(TypeError, l.sort)
assert l + [1] == ["a", "b", "c", 3, 4, 7, 8, 1] and len(l * 2) == 14
print(str(l))
empty = m.list(); expect(IndexError, empty.pop)
print("ok list")

ns = m.Namespace(x=1)
ns.y = "two"; assert ns.x == 1 and ns.y == "two"
del ns.x; expect(AttributeError, getattr, ns, "x")
print(str(ns))
print("ok Namespace")

v = m.Value("i", 5); v.value += 1; assert v.value == 6 and v.get() == 6
v.set(2**70); assert v.value == 2**70
print(str(m.Value("d", 1.5)))
print("ok Value")

a = m.Array("i", [1, 2, 3]); a[0] = 10
assert len(a) == 3 and a[0] == 10 and list(a[:]) == [10, 2, 3]
expect(OverflowError, a.__setitem__, 1, 2**40)
expect(TypeError, a.__setitem__, 1, "x")
print("ok Array")

for make in (m.Queue, m.JoinableQueue):
    q = make()
    q.put(1); q.put("two", timeout=1); q.put_nowait(3)
    assert q.qsize() == 3 and not q.empty() and not q.full()
    assert q.get() == 1 and q.get(timeout=1) == "two" and q.get_nowait() == 3
    expect(queue.Empty, q.get, timeout=0.05)
    expect(queue.Empty, q.get_nowait)
    expect(queue.Empty, q.get, False)
    q.task_done(); q.task_done(); q.task_done(); q.join()
    expect(ValueError, q.task_done)
small = m.Queue(1); small.put(1)
expect(queue.Full, small.put, 2, timeout=0.05)
expect(queue.Full, small.put_nowait, 2)
assert small.full()
print("ok Queue")

lock = m.Lock()
with lock:
    assert lock.acquire(False) is False
    assert lock.acquire(True, 0.05) is False
assert lock.acquire(timeout=1) is True
lock.release()
assert str(expect(RuntimeError, lock.release)) == "release unlocked lock"
rl = m.RLock()
with rl:
    with rl:
        pass
expect(RuntimeError, rl.release)
print("ok Lock RLock")

s = m.Semaphore(2); s.acquire(); s.acquire(); assert s.acquire(False) is False
s.release(); s.release(); s.release()
b = m.BoundedSemaphore(1); b.acquire(); b.release()
expect(ValueError, b.release)
print("ok Semaphore BoundedSemaphore")

e = m.Event(); assert not e.is_set() and e.wait(0.01) is False
threading.Timer(0.05, e.set).start()
assert e.wait(5) is True and e.is_set()
e.clear(); assert not e.is_set()
print("ok Event")

c = m.Condition()
expect(RuntimeError, c.notify)
with c:
    assert c.wait(0.01) is False
    c.notify(); c.notify_all()
    assert c.wait_for(lambda: True)
cl = m.Condition(m.Lock())
with cl:
    assert cl.wait(0.01) is False
print("ok Condition")

bar = m.Barrier(2)
assert bar.parties == 2 and bar.n_waiting == 0 and bar.broken is False
t = threading.Thread(target=bar.wait); t.start()
assert bar.wait(5) in (0, 1); t.join()
bar2 = m.Barrier(2, timeout=0.05)
expect(threading.BrokenBarrierError, bar2.wait)
assert bar2.broken is True
bar2.reset(); assert bar2.broken is False
bar2.abort(); expect(threading.BrokenBarrierError, bar2.wait)
print("ok Barrier")

import multiprocessing
multiprocessing.current_process().authkey = KEY  # rebuilt nested proxies use it
outer = m.list(); inner = m.dict()
outer.append(inner)
outer[0]["a"] = 1
assert inner["a"] == 1
del inner; gc.collect()
assert outer[0]["a"] == 1  # still alive: held inside the list
print("ok nested proxies")

counter = m.Counter(5)
assert counter.add(2) == 7 and counter.get() == 7
assert not hasattr(counter, "_hidden")
expect(TypeError, counter.add, k=1)
print("ok registered weft class")

shared = m.shared()
assert shared["from"] == "deno", shared.copy()
shared["python"] = sys.version_info[:2]
print("ok named")
print("done")
`;
