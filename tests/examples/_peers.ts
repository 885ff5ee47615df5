/**
 * Helpers for the tutorial interop tests: run the Python peers under
 * tests/examples/peers/ (written from the tutorials) against the weft
 * counterparts in examples/, with deadlines.
 *
 * @module
 */
import { findPython, runCommand } from "../_helpers.ts";
import { example, runExample, spawnWatched, startProgram } from "./_program.ts";

/** CPython 3.11, the version the interop tests require. */
export const PYTHON: string | undefined = findPython("3.11");

/**
 * Deno.test options for a test that needs Python 3.11: ignored (with the
 * reason in its name) when it is missing, except under CI=true, where the
 * test runs and fails.
 */
export function pythonTest(
  name: string,
  fn: (python: string) => Promise<void>,
): Deno.TestDefinition {
  const ci = Deno.env.get("CI") === "true";
  return {
    name: PYTHON ? name : `${name} (ignored: Python 3.11 not found)`,
    ignore: !PYTHON && !ci,
    fn: () => {
      if (!PYTHON) throw new Error("Python 3.11 is required under CI");
      return fn(PYTHON);
    },
  };
}

/** Path of a peer script. */
export function peer(name: string): string {
  return new URL(`./peers/${name}`, import.meta.url).pathname;
}

/** A running Python server peer. */
export interface PythonServer extends AsyncDisposable {
  port: number;
  output(): string;
  /** Resolves once the output matches `re` (10 s deadline). */
  until(re: RegExp): Promise<string>;
  stop(): Promise<string>;
}

/**
 * Starts `python script args...` and waits (up to 15 s) for its
 * "listening PORT" line.
 */
export async function startPython(
  python: string,
  script: string,
  args: string[],
  options: { stdin?: string; cwd?: string; holdStdin?: boolean } = {},
): Promise<PythonServer> {
  const p = await spawnWatched(
    python,
    ["-B", "-u", peer(script), ...args],
    options,
  );
  const output = () => p.out() + p.err();
  let stopped: Promise<string> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await p.release();
      await p.child.status;
      await p.drained;
      return output();
    })();
  try {
    const port = await p.when(
      (out) => {
        const m = out.match(/listening (\d+)/);
        return m ? Number(m[1]) : undefined;
      },
      15_000,
      `${script} ${args.join(" ")} to listen`,
      (code) => new Error(`${script} exited ${code}:\n${p.out()}\n${p.err()}`),
    );
    const until = (re: RegExp) =>
      p.when(
        () => re.test(output()) ? output() : undefined,
        10_000,
        `${script} to print ${re}`,
      );
    return {
      port,
      output,
      until,
      stop,
      [Symbol.asyncDispose]: async () => {
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs a Python client peer to completion (20 s deadline). */
export function runPython(
  python: string,
  script: string,
  args: string[],
  stdin = "",
  cwd?: string,
) {
  // -B: the peers import peers/_peer.py; leave no __pycache__ behind.
  return runCommand(python, ["-B", "-u", peer(script), ...args], {
    stdin,
    timeout: 20_000,
    cwd,
  });
}

/** Starts an example server and returns it with its port. */
export async function startExample(
  permissions: string[],
  file: string,
  args: string[],
  options: { ready?: RegExp; stdin?: string } = {},
) {
  const program = await startProgram(
    [example(file), ...args],
    options.ready ?? /listening on 127\.0\.0\.1:(\d+)/,
    { permissions, stdin: options.stdin },
  );
  return { program, port: program.match[1] };
}

interface TutorialEntry {
  seed: string;
  line: number;
  title: string;
  role: string;
  run?: string;
}

const ENTRIES: TutorialEntry[] = JSON.parse(
  Deno.readTextFileSync(
    new URL("../../examples/tutorials.json", import.meta.url),
  ),
);

/** "001:433" for an entry. */
export function entryKey(entry: TutorialEntry): string {
  return `${entry.seed.slice(0, 3)}:${entry.line}`;
}

/** The server/client entries of examples/tutorials.json. */
export const SOCKET_ENTRIES: TutorialEntry[] = ENTRIES.filter((e) =>
  e.role === "server" || e.role === "client"
);

/** Splits a run line like a shell: words, "double-quoted words". */
export function splitRun(run: string): string[] {
  const words = [];
  for (const m of run.matchAll(/"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2]);
  return words;
}

/**
 * The `run` line of the entries `keys` (which must all have the same one),
 * placeholders filled from `vars`, as permissions, example file and args.
 */
export function entryCommand(
  keys: string | string[],
  vars: Record<string, string>,
): { permissions: string[]; file: string; args: string[] } {
  const runs = [keys].flat().map((key) => {
    const entry = SOCKET_ENTRIES.find((e) => entryKey(e) === key);
    if (!entry?.run) throw new Error(`No socket entry ${key} with a run line`);
    return entry.run;
  });
  if (new Set(runs).size !== 1) {
    throw new Error(`Entries ${keys} have different run lines: ${runs}`);
  }
  const words = splitRun(runs[0]).map((w) =>
    w.replace(/\{(\w+)\}/g, (_, name) => {
      if (!(name in vars)) throw new Error(`No value for {${name}}`);
      return vars[name];
    })
  );
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`Not a deno run line: ${runs[0]}`);
  }
  const at = words.findIndex((w) => w.startsWith("examples/"));
  return {
    permissions: words.slice(2, at),
    file: words[at].slice("examples/".length),
    args: words.slice(at + 1),
  };
}

/** Starts the server entry(ies) `keys` as its run line says (port 0). */
export function startEntry(
  keys: string | string[],
  vars: Record<string, string> = {},
  options: { ready?: RegExp; stdin?: string; extra?: string[] } = {},
) {
  const { permissions, file, args } = entryCommand(keys, {
    port: "0",
    ...vars,
  });
  const extra = options.extra ?? [];
  return startExample(permissions, file, [...args, ...extra], options);
}

/** Runs the client entry(ies) `keys` as its run line says, plus `extra` args. */
export function runEntry(
  keys: string | string[],
  vars: Record<string, string>,
  stdin = "",
  extra: string[] = [],
  cwd?: string,
) {
  const { permissions, file, args } = entryCommand(keys, vars);
  return runExample(permissions, file, [...args, ...extra], {
    stdin,
    cwd,
    timeout: 20_000,
  });
}
