/**
 * Helpers for the example tests: start a long-running example (a server)
 * in a child process, wait for its "ready" line, and stop it cleanly.
 *
 * @module
 */
import {
  type CommandResult,
  runDeno,
  TEST_PERMISSIONS,
  withTimeout,
} from "../_helpers.ts";

/** The repository root (examples are run from here). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Path of an example file, for `deno run`. */
export function example(path: string): string {
  return new URL(`../../examples/${path}`, import.meta.url).pathname;
}

/**
 * The permissions of the examples that start child processes (and a
 * Manager): `deno run` with these, as their headers say.
 */
export const PROCESS_PERMISSIONS: string[] = [
  "--allow-read",
  "--allow-run",
  "--allow-net=127.0.0.1",
  "--allow-env",
];

/**
 * Runs `deno run <permissions> examples/<file> <args>` to completion, with
 * runDeno's `stdin`, `cwd` and deadline (`timeout`, default 30 s).
 */
export function runExample(
  permissions: string[],
  file: string,
  args: string[],
  options: { stdin?: string; timeout?: number; cwd?: string } = {},
): Promise<CommandResult> {
  return runDeno(["run", ...permissions, example(file), ...args], options);
}

/** A running example program. */
export interface Program extends AsyncDisposable {
  /** The match of the ready pattern in its stdout. */
  match: RegExpMatchArray;
  /** Everything it printed so far (stdout, then stderr after stop). */
  stdout(): string;
  /** Resolves with its stdout once that matches `re` (rejects after 10 s). */
  until(re: RegExp): Promise<string>;
  /** Stops it (SIGTERM, then SIGKILL after a grace period) and returns its output. */
  stop(): Promise<{ stdout: string; stderr: string }>;
}

/** A child process whose output is collected as it arrives. */
export interface Watched {
  child: Deno.ChildProcess;
  /** Its stdout so far. */
  out(): string;
  /** Its stderr so far. */
  err(): string;
  /**
   * Resolves with `pick(stdout, stderr)` once that is not `undefined`;
   * rejects after `ms` (naming `what`), or with `onExit(code)` if given and
   * the process exits first.
   */
  when<T>(
    pick: (out: string, err: string) => T | undefined,
    ms: number,
    what: string,
    onExit?: (code: number) => Error,
  ): Promise<T>;
  /** Resolves once both output streams have ended. */
  drained: Promise<unknown>;
}

/**
 * Spawns `cmd args`, writes `stdin` (then closes it) if given, or keeps an
 * empty stdin open with `holdStdin` (closed by `release()`), and collects
 * stdout and stderr: the one spawner of startProgram and the Python peers.
 */
export async function spawnWatched(
  cmd: string,
  args: string[],
  options: { cwd?: string; stdin?: string; holdStdin?: boolean } = {},
): Promise<Watched & { release(): Promise<void> }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: options.stdin === undefined && !options.holdStdin ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // holdStdin: a pipe that stays open and empty (input() blocks).
  const held = options.holdStdin ? child.stdin.getWriter() : undefined;
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  let out = "";
  let err = "";
  const watchers = new Set<() => void>();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    sink: (text: string) => void,
  ) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      sink(text);
      for (const watch of watchers) watch();
    }
  };
  const drained = Promise.all([
    pump(child.stdout, (t) => out += t),
    pump(child.stderr, (t) => err += t),
  ]);
  const when = <T>(
    pick: (out: string, err: string) => T | undefined,
    ms: number,
    what: string,
    onExit?: (code: number) => Error,
  ): Promise<T> => {
    let check = () => {};
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        check = () => {
          const value = pick(out, err);
          if (value !== undefined) resolve(value);
        };
        watchers.add(check);
        check();
        if (onExit) child.status.then((s) => reject(onExit(s.code)));
      }),
      ms,
      what,
    ).finally(() => watchers.delete(check));
  };
  return {
    child,
    out: () => out,
    err: () => err,
    when,
    drained,
    release: async () => {
      await held?.close().catch(() => {});
    },
  };
}

/**
 * Runs `deno run <permissions> <args>` (default: TEST_PERMISSIONS) and
 * resolves once its stdout matches `ready` (rejects if it exits first or
 * after `timeout` ms).
 */
export async function startProgram(
  args: string[],
  ready: RegExp,
  options: { timeout?: number; permissions?: string[]; stdin?: string } = {},
): Promise<Program> {
  const timeout = options.timeout ?? 20_000;
  const p = await spawnWatched(
    Deno.execPath(),
    ["run", ...(options.permissions ?? TEST_PERMISSIONS), ...args],
    { cwd: ROOT, stdin: options.stdin },
  );
  const { child } = p;
  let stopped: Promise<{ stdout: string; stderr: string }> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already exited
        }
      }, 5_000);
      try {
        await child.status;
        await p.drained;
      } finally {
        clearTimeout(timer);
      }
      return { stdout: p.out(), stderr: p.err() };
    })();
    return stopped;
  };
  try {
    const match = await p.when(
      (out) => out.match(ready) ?? undefined,
      timeout,
      `${args.join(" ")} to print ${ready}`,
      (code) =>
        new Error(
          `Program exited with code ${code} before it was ready:\n${p.out()}\n${p.err()}`,
        ),
    );
    const until = (re: RegExp) =>
      p.when(
        (out) => re.test(out) ? out : undefined,
        10_000,
        `${args.join(" ")} to print ${re}`,
      );
    return {
      match,
      stdout: p.out,
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
