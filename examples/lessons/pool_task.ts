// The Pool side of the "pool" part of examples/lessons/processes.ts
// (001:1698): `Foo(i)` sleeps 1 s and prints. It returns nothing, so the
// tutorial's callback logs `None`.
import { sleepSync } from "./_python.ts";

/** 001:1698 — `Foo(i)`. */
export function foo(i: number, scale: number): void {
  sleepSync(1, scale);
  console.log("i = \r", i);
}
