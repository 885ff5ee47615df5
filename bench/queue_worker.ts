// Worker side of bench/queue_compare.ts: produce or consume N items through
// a weft Queue (shared memory) or a MessagePort (postMessage baseline).
import { revive } from "../concurrency/share.ts";
import "../concurrency/queue.ts";

// This module runs as a worker: type the worker scope we use.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

interface SyncQueue {
  putSync(item: unknown): void;
  getSync(): unknown;
}

scope.onmessage = (event: MessageEvent) => {
  const { role, via, n, kind, queue, port } = event.data as {
    role: "produce" | "consume";
    via: "queue" | "port";
    n: number;
    kind: "number" | "object" | "string";
    queue?: unknown;
    port?: MessagePort;
  };
  const make = (i: number): unknown =>
    kind === "number" ? i : kind === "string" ? `item ${i}` : { a: i, b: "x" };
  if (via === "queue") {
    const q = revive<SyncQueue>(queue);
    if (role === "produce") {
      for (let i = 0; i < n; i++) q.putSync(make(i));
    } else {
      for (let i = 0; i < n; i++) q.getSync();
    }
    scope.postMessage("done");
    return;
  }
  if (role === "produce") {
    for (let i = 0; i < n; i++) port!.postMessage(make(i));
    scope.postMessage("done");
  } else {
    let got = 0;
    port!.onmessage = () => {
      if (++got === n) {
        port!.close();
        scope.postMessage("done");
      }
    };
  }
};
