// Process: the tutorials' multiprocessing.Process programs as tests.
import assert from "node:assert/strict";
import { EOFError, Pipe, Process } from "../../ipc/mod.ts";
import { runDeno, TEST_PERMISSIONS, withTimeout } from "../_helpers.ts";

const FIXTURES = new URL("./_fixtures.ts", import.meta.url);

// ---- construction
Deno.test("new Process() validates its options with TypeError", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Process({} as any), TypeError);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new Process({ module: FIXTURES, args: 1 as any }),
    TypeError,
  );
  const p = new Process({ module: FIXTURES, fn: "add" });
  assert.match(p.name, /^Process-\d+$/);
  assert.equal(p.exitCode, null);
  assert.equal(p.isAlive(), false);
  assert.equal(p.pid, undefined);
});

// ---- args
Deno.test("Process runs fn with positional args and a pipe end; exitCode 0 after join()", async () => {
  const [here, there] = Pipe();
  const p = new Process({
    module: FIXTURES,
    fn: "add",
    args: [there, 2, 40],
    name: "adder",
  });
  try {
    await withTimeout(p.start(), 30_000, "start");
    assert.equal(there.closed, true); // the end moved to the child
    assert.equal(typeof p.pid, "number");
    assert.equal(await withTimeout(here.recv(), 30_000), 42);
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitCode, 0);
    assert.equal(p.isAlive(), false);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

Deno.test("Process passes keyword-style args as an object", async () => {
  const [here, there] = Pipe();
  const p = new Process({
    module: FIXTURES,
    fn: "greet",
    args: [there, { name: "Ada", greeting: "Hi" }],
  });
  try {
    await withTimeout(p.start(), 30_000);
    assert.equal(await withTimeout(here.recv(), 30_000), "Hi, Ada");
    await withTimeout(p.join(), 30_000);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

Deno.test("Process data isolation: a list mutated in the child is unchanged in the parent", async () => {
  const list = [1, 2, 3];
  const [here, there] = Pipe();
  const p = new Process({
    module: FIXTURES,
    fn: "mutate",
    args: [list, there],
  });
  try {
    await withTimeout(p.start(), 30_000);
    assert.deepEqual(await withTimeout(here.recv(), 30_000), [-1, 2, 3, 99]);
    await withTimeout(p.join(), 30_000);
    assert.deepEqual(list, [1, 2, 3]);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

Deno.test("Process pipe end carries a conversation both ways (echo)", async () => {
  const [here, there] = Pipe();
  const p = new Process({ module: FIXTURES, fn: "echo", args: [there] });
  try {
    await withTimeout(p.start(), 30_000);
    for (const v of [1, new Map([["a", 1n]]), "x".repeat(100_000)]) {
      await here.send(v);
      assert.deepEqual(await withTimeout(here.recv(), 30_000), v);
    }
    here.close(); // the child's loop ends at EOF
    await withTimeout(p.join(), 30_000);
    assert.equal(p.exitCode, 0);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

// ---- ordering
Deno.test("Process join() waits for exactly that child: released in order 2, 0, 1, each join sees only its child gone", async () => {
  const pipes = [0, 1, 2].map(() => Pipe());
  const procs = pipes.map(([, child], i) =>
    new Process({
      module: FIXTURES,
      fn: "finishWhenTold",
      args: [child, `p${i}`],
    })
  );
  try {
    await withTimeout(
      Promise.all(procs.map((p) => p.start())),
      60_000,
      "start all",
    );
    const finished: string[] = [];
    for (const i of [2, 0, 1]) {
      const [mine] = pipes[i];
      await mine.send("go");
      finished.push(await withTimeout(mine.recv<string>(), 30_000));
      await withTimeout(procs[i].join(), 30_000, `join p${i}`);
      assert.equal(procs[i].exitCode, 0);
      const stillRunning = procs.filter((p, j) =>
        j !== i && p.isAlive()
      ).length;
      assert.equal(stillRunning, 3 - finished.length);
    }
    assert.deepEqual(finished, ["p2", "p0", "p1"]);
    assert.deepEqual(procs.map((p) => p.exitCode), [0, 0, 0]);
  } finally {
    for (const [mine] of pipes) mine.close();
    for (const p of procs) await p[Symbol.asyncDispose]();
  }
});

// ---- failures
Deno.test("Process whose fn throws exits 1 and reports name, message and stack", async () => {
  const p = new Process({ module: FIXTURES, fn: "fail", args: ["boom"] });
  await withTimeout(p.start(), 30_000);
  await withTimeout(p.join(), 30_000);
  assert.equal(p.exitCode, 1);
  assert.equal(p.error?.name, "RangeError");
  assert.equal(p.error?.message, "boom");
  assert.match(p.error?.stack ?? "", /_fixtures\.ts/);
});

Deno.test("Process.start() rejects when the export is missing; exitCode is 1; an unused pipe relay is closed (peer sees EOF)", async () => {
  const [here, there] = Pipe();
  const p = new Process({
    module: FIXTURES,
    fn: "noSuchFunction",
    args: [there],
  });
  try {
    await assert.rejects(withTimeout(p.start(), 30_000), /noSuchFunction/);
    await withTimeout(p.join(), 30_000);
    assert.equal(p.exitCode, 1);
    await assert.rejects(withTimeout(here.recv(), 30_000), EOFError);
    await assert.rejects(p.start(), TypeError); // started once already
  } finally {
    here.close();
  }
});

Deno.test("Process child command line and environment carry no secret (key and args go over stdin/socket)", async () => {
  const [here, there] = Pipe();
  const p = new Process({
    module: FIXTURES,
    fn: "reportLaunch",
    args: [there],
  });
  try {
    await withTimeout(p.start(), 30_000);
    const { pid, env } = await withTimeout(
      here.recv<{ pid: number; env: Record<string, string> }>(),
      30_000,
    );
    const ps = await new Deno.Command("ps", {
      args: ["-ww", "-o", "args=", "-p", String(pid)],
      stdout: "piped",
    }).output();
    const cmdline = new TextDecoder().decode(ps.stdout).trim().split(/\s+/);
    await here.send("go");
    await withTimeout(p.join(), 30_000);
    assert.ok(cmdline.some((a) => a.endsWith("_process_child.ts")));
    assert.ok(
      cmdline.every((a) =>
        a.startsWith("-") || a === "run" || /deno|_process_child\.ts$/.test(a)
      ),
      cmdline.join(" "),
    );
    const everything = cmdline.join(" ") + JSON.stringify(env);
    assert.doesNotMatch(everything, /[0-9a-f]{64}/); // no hex key
    assert.doesNotMatch(everything, /_fixtures\.ts|reportLaunch/); // module/fn not on argv
    assert.deepEqual(Object.keys(env).filter((k) => /weft/i.test(k)), []);
  } finally {
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

// ---- signals
Deno.test("Process.terminate() ends a running child with exitCode -15; kill() gives -9", async () => {
  for (const [method, code] of [["terminate", -15], ["kill", -9]] as const) {
    const p = new Process({ module: FIXTURES, fn: "sleepForever" });
    try {
      await withTimeout(p.start(), 30_000);
      assert.equal(p.isAlive(), true);
      await p.join({ timeout: 50 });
      assert.equal(p.isAlive(), true); // join(timeout) returned with it running
      p[method]();
      await withTimeout(p.join(), 30_000);
      assert.equal(p.exitCode, code);
      p[method](); // no-op once exited
    } finally {
      await p[Symbol.asyncDispose]();
    }
  }
});

// ---- daemons
const PARENT = `
import { Pipe, Process } from ${
  JSON.stringify(new URL("../../ipc/mod.ts", import.meta.url).href)
};
const [here, there] = Pipe();
const p = new Process({ module: ${
  JSON.stringify(FIXTURES.href)
}, fn: "reportPidThenSleep", args: [there], daemon: true });
await p.start();
console.log(await here.recv());
if (Deno.args[0] === "crash") Deno.kill(Deno.pid, "SIGKILL");
// a normal exit: the daemon must not keep us alive
`;

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // signal 0 is not available; SIGCONT is harmless
    return true;
  } catch {
    return false;
  }
}

async function daemonOutlives(mode: string): Promise<boolean> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/parent.ts`, PARENT);
    const result = await runDeno(
      ["run", ...TEST_PERMISSIONS, `${dir}/parent.ts`, mode],
      { timeout: 60_000 },
    );
    const pid = Number(result.stdout.trim().split("\n").at(-1));
    assert.ok(pid > 0, `no pid: ${result.stdout} ${result.stderr}`);
    // The daemon notices EOF on its control channel and exits promptly.
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const still = alive(pid);
    if (still) Deno.kill(pid, "SIGKILL");
    return still;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a daemon Process does not keep its parent alive and ends when the parent exits", async () => {
  assert.equal(await daemonOutlives("exit"), false);
});

Deno.test("a daemon Process ends when its parent crashes (SIGKILL)", async () => {
  assert.equal(await daemonOutlives("crash"), false);
});

// ---- #20: a local process connecting first to the parent's ports must not
// break start() (control channel) or a shared Pipe end
Deno.test("Process.start() survives impostors connecting first to its control and pipe ports", async () => {
  const original = Deno.listen;
  const impostors: Deno.Conn[] = [];
  const connecting: Promise<void>[] = [];
  // Every listener the library opens gets two impostors queued before the
  // child can connect: one silent, one sending garbage.
  // deno-lint-ignore no-explicit-any
  (Deno as any).listen = (options: any) => {
    const listener = original(options);
    if (options?.transport === undefined || options.transport === "tcp") {
      const { port } = listener.addr as Deno.NetAddr;
      connecting.push(
        (async () => {
          impostors.push(await Deno.connect({ hostname: "127.0.0.1", port }));
          const noisy = await Deno.connect({ hostname: "127.0.0.1", port });
          impostors.push(noisy);
          await noisy.write(new Uint8Array([0, 0, 0, 4, 1, 2, 3, 4]));
        })().catch(() => {}),
      );
    } else {
      const path = (listener.addr as unknown as Deno.UnixAddr).path;
      connecting.push((async () => {
        try {
          impostors.push(await Deno.connect({ transport: "unix", path }));
        } catch {
          // a private directory: not reachable, which is the point
        }
      })());
    }
    return listener;
  };
  const [here, there] = Pipe();
  const p = new Process({ module: FIXTURES, fn: "add", args: [there, 1, 2] });
  try {
    await withTimeout(p.start(), 30_000, "start despite impostors");
    (Deno as { listen: unknown }).listen = original;
    assert.equal(await withTimeout(here.recv(), 30_000), 3);
    await withTimeout(p.join(), 30_000);
    assert.equal(p.exitCode, 0);
  } finally {
    (Deno as { listen: unknown }).listen = original;
    await Promise.allSettled(connecting);
    for (const c of impostors) c.close();
    here.close();
    await p[Symbol.asyncDispose]();
  }
});

// ---- #20: child processes resolve imports with the parent's deno.json
Deno.test("Process and Manager children get the parent's --config (import map) when run from another directory", async () => {
  const project = await Deno.makeTempDir({ prefix: "weft_cfg_" });
  const elsewhere = await Deno.makeTempDir({ prefix: "weft_cwd_" });
  const ipc = new URL("../../ipc/mod.ts", import.meta.url).href;
  try {
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({ imports: { "greeting-lib": "./lib.ts" }, lock: false }),
    );
    await Deno.writeTextFile(
      `${project}/lib.ts`,
      `export const word = "configured";\n`,
    );
    await Deno.writeTextFile(
      `${project}/task.ts`,
      `import { word } from "greeting-lib";
export async function run(conn) { await conn.send(word); conn.close(); }
export class Greeter { hello() { return word; } }
`,
    );
    await Deno.writeTextFile(
      `${project}/driver.ts`,
      `import { Manager, Pipe, Process } from "${ipc}";
const [here, there] = Pipe();
const p = new Process({ module: new URL("./task.ts", import.meta.url), fn: "run", args: [there] });
await p.start();
console.log("process:", await here.recv());
await p.join();
here.close();
await using m = await Manager.start();
await m.register("Greeter", new URL("./task.ts", import.meta.url), "Greeter");
const g = await m.create("Greeter");
console.log("manager:", await g.hello());
`,
    );
    const out = await runDeno([
      "run",
      `--config=${project}/deno.json`,
      ...TEST_PERMISSIONS,
      `${project}/driver.ts`,
    ], { cwd: elsewhere, timeout: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /process: configured/);
    assert.match(out.stdout, /manager: configured/);
  } finally {
    await Deno.remove(project, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("configFlagsOf() keeps resolution flags from a deno command line, paths made absolute", async () => {
  const { configFlagsOf } = await import("../../_internal/child_config.ts");
  assert.deepEqual(
    configFlagsOf([
      "deno",
      "run",
      "-A",
      "-c",
      "proj/deno.json",
      "--import-map=map.json",
      "--unstable-kv",
      "--lock=/abs/deno.lock",
      "--node-modules-dir=auto",
      "main.ts",
      "--config",
      "not-ours.json",
    ], "/home/u"),
    [
      "--config=/home/u/proj/deno.json",
      "--import-map=/home/u/map.json",
      "--unstable-kv",
      "--lock=/abs/deno.lock",
      "--node-modules-dir=auto",
    ],
  );
  assert.deepEqual(
    configFlagsOf(["deno", "test", "--no-config", "tests/", "--frozen"], "/x"),
    ["--no-config", "--frozen"],
  );
});
