// Web Worker used by the manager tests: receives a shared Value proxy and a
// count, increments it that many times, answers "done".
import { reviveValue } from "../../../_internal/share.ts";
import type { ValueProxy } from "../../../ipc/manager_proxy.ts";
import "../../../ipc/manager.ts";

// Typed by hand: this file is also type-checked with the window lib.
const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event: MessageEvent) => {
  const [value, n] = reviveValue(event.data) as [ValueProxy<number>, number];
  for (let i = 0; i < n; i++) await value.increment();
  scope.postMessage("done");
};
