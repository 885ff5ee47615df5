/**
 * Shared helpers for weft's tests (not published).
 *
 * - {@linkcode withTimeout}: bound every wait in a test so a bug fails
 *   instead of hanging CI.
 * - {@linkcode freePort}: a free TCP port on 127.0.0.1.
 * - {@linkcode findPython}: a real CPython peer of a given version, or
 *   `undefined` (tests then register as ignored, naming what is missing).
 * - {@linkcode runCommand}: run a subprocess with a deadline and collect
 *   its output.
 * - {@linkcode flushMicrotasks}: prove "still pending" without sleeping.
 *
 * @module
 */

/** Rejects with a clear error if `promise` does not settle within `ms`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = "operation",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Lets every queued microtask (and promise chain of a few hops) run. */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A settled-flag probe: `probe(promise).settled` flips when it settles. */
export function probe<T>(promise: Promise<T>): { settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => state.settled = true,
    () => state.settled = true,
  );
  return state;
}

const HOME = Deno.env.get("HOME") ?? "/root";

/**
 * Finds a CPython interpreter of `version` ("3.11", "3.12", "3.13"):
 * `pythonX.Y` on PATH, then pyenv's versions folder, then `python3` if it
 * reports that version. Returns `undefined` when none is installed.
 */
export function findPython(version: string): string | undefined {
  const candidates = [`python${version}`];
  try {
    for (const entry of Deno.readDirSync(`${HOME}/.pyenv/versions`)) {
      if (entry.name === version || entry.name.startsWith(`${version}.`)) {
        candidates.push(`${HOME}/.pyenv/versions/${entry.name}/bin/python3`);
      }
    }
  } catch {
    // no pyenv on this machine
  }
  candidates.push("python3");
  for (const candidate of candidates) {
    try {
      const out = new Deno.Command(candidate, {
        args: ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      if (
        out.success && new TextDecoder().decode(out.stdout).trim() === version
      ) {
        return candidate;
      }
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

/** Output of {@linkcode runCommand}. */
export interface CommandResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args...` with optional stdin text and a hard deadline (the child
 * is killed with SIGKILL when it passes). Never hangs a test.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  options: {
    stdin?: string;
    timeout?: number;
    cwd?: string;
    env?: Record<string, string>;
  } = {},
): Promise<CommandResult> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const timeout = options.timeout ?? 30_000;
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeout);
  try {
    const out = await child.output();
    return {
      code: out.code,
      signal: out.signal,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The flags `deno task test` grants; subprocess Deno runs reuse them. */
export const TEST_PERMISSIONS: string[] = [
  "--allow-net=127.0.0.1,localhost",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
];

/** Runs a Deno script of this repo in a child process with a deadline. */
export function runDeno(
  args: string[],
  options: { stdin?: string; timeout?: number; cwd?: string } = {},
): Promise<CommandResult> {
  return runCommand(Deno.execPath(), args, options);
}
