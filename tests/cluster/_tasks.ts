// Task module of the cluster Pool tests (runs in the workers' Web Workers).
import { taskSignal } from "../../concurrency/mod.ts";

export function square(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function fail(message: string): never {
  throw new RangeError(message);
}

export function whoami(x: number): string {
  return `${Deno.pid}:${x}`;
}

/** Sleeps `ms` then returns `[pid, x]` (the demo's and fault tests' task). */
export async function slow(x: number, ms: number): Promise<[number, number]> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return [Deno.pid, x];
}

/** Waits until its task is aborted. */
export function hang(): Promise<never> {
  const signal = taskSignal();
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}

/** Kills the whole worker process (a poison task). */
export function poison(): void {
  Deno.kill(Deno.pid, "SIGKILL");
}
