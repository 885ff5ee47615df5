/**
 * Helpers for the example tests: start a long-running example (a server)
 * in a child process, wait for its "ready" line, and stop it cleanly.
 *
 * @module
 */
import { TEST_PERMISSIONS, withTimeout } from "../_helpers.ts";

/** The repository root (examples are run from here). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Path of an example file, for `deno run`. */
export function example(path: string): string {
  return new URL(`../../examples/${path}`, import.meta.url).pathname;
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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? TEST_PERMISSIONS), ...args],
    cwd: ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  let out = "";
  let err = "";
  let onLine: (() => void) | undefined;
  const watchers = new Set<() => void>();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    sink: (text: string) => void,
  ) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      sink(text);
      onLine?.();
      for (const watch of watchers) watch();
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, (t) => out += t),
    pump(child.stderr, (t) => err += t),
  ]);
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
        await pumps;
      } finally {
        clearTimeout(timer);
      }
      return { stdout: out, stderr: err };
    })();
    return stopped;
  };
  try {
    const match = await withTimeout(
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const m = out.match(ready);
          if (m) resolve(m);
        };
        onLine = check;
        check();
        child.status.then((s) =>
          reject(
            new Error(
              `Program exited with code ${s.code} before it was ready:\n${out}\n${err}`,
            ),
          )
        );
      }),
      timeout,
      `${args.join(" ")} to print ${ready}`,
    );
    onLine = undefined;
    const until = (re: RegExp) =>
      withTimeout(
        new Promise<string>((resolve) => {
          const check = () => {
            if (!re.test(out)) return;
            watchers.delete(check);
            resolve(out);
          };
          watchers.add(check);
          check();
        }),
        10_000,
        `${args.join(" ")} to print ${re}`,
      );
    return {
      match,
      stdout: () => out,
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
