// A plain Web Worker (not a Thread): receives shared primitives through
// postMessage + revive() and uses them live.
import { revive } from "../../../concurrency/share.ts";
import "../../../concurrency/lock.ts";
import "../../../concurrency/event.ts";
import type { Event } from "../../../concurrency/event.ts";
import type { Lock } from "../../../concurrency/lock.ts";
import { currentThreadId } from "../../../concurrency/thread.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e: MessageEvent) => {
  const { lock, ready, counter } = revive<
    { lock: Lock; ready: Event; counter: Int32Array }
  >(e.data);
  lock.acquireSync();
  counter[0] += 1;
  ready.set(); // main sees the lock held by us
  Atomics.wait(counter, 1, 0, 10_000); // until main asks us to release
  lock.release();
  scope.postMessage({ ident: currentThreadId() });
};
