// Worker for bench/net_compare.ts: runs the serveTcp benchmark's CPU-bound
// work in a loop for `ms` milliseconds and posts how many times it ran.
// Posts "ready" once loaded, so that its start-up is not measured.
import { work } from "../tests/net/fixtures/cpu_handler.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (event: MessageEvent<{ n: number; ms: number }>) => {
  const { n, ms } = event.data;
  const deadline = performance.now() + ms;
  let ops = 0;
  let sink = 0;
  while (performance.now() < deadline) {
    sink ^= work(n);
    ops++;
  }
  scope.postMessage(sink === -1 ? 0 : ops);
};
scope.postMessage("ready");
