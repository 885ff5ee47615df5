// Worker-side functions for the Thread and abandoned-lock tests.
import { Lock } from "../../../concurrency/lock.ts";
import { RLock } from "../../../concurrency/rlock.ts";
import {
  activeCount,
  currentThreadId,
  currentThreadName,
  isMainThread,
} from "../../../concurrency/thread.ts";

export function add(a: number, b: number): number {
  return a + b;
}

export async function later(value: unknown, ms: number): Promise<unknown> {
  await new Promise((r) => setTimeout(r, ms));
  return value;
}

export function whoAmI(): {
  ident: number;
  name: string;
  main: boolean;
  active: number;
} {
  return {
    ident: currentThreadId(),
    name: currentThreadName(),
    main: isMainThread(),
    active: activeCount(),
  };
}

export function fail(message: string): never {
  const error = new RangeError(message);
  throw error;
}

export function throwString(): never {
  throw "plain string";
}

export function exitEarly(code: number): void {
  Deno.exit(code);
}

export function forever(): Promise<never> {
  return new Promise(() => {});
}

export function returnsLock(): Lock {
  const lock = new Lock();
  lock.acquireSync();
  return lock;
}

export function unclonable(): unknown {
  return { f: () => 1 };
}

/** Takes the RLock and then ends the way `how` says, still holding it. */
export async function holdAndEnd(
  lock: RLock | Lock,
  held: Int32Array,
  how: "return" | "throw" | "hang",
): Promise<string> {
  if (lock instanceof RLock) {
    lock.acquireSync();
    lock.acquireSync(); // two levels, both abandoned
  } else {
    lock.acquireSync();
  }
  Atomics.store(held, 0, 1);
  Atomics.notify(held, 0);
  if (how === "throw") throw new Error("died holding the lock");
  if (how === "hang") await new Promise(() => {});
  return "returned holding the lock";
}
