// Worker side of bench/queue_contended.ts: loads the library under test,
// then produces or consumes n small items on the shared Queue.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

interface SyncQueue {
  putSync(item: unknown): void;
  getSync(): unknown;
}

let revive: (value: unknown) => unknown;

scope.onmessage = async (event: MessageEvent) => {
  const data = event.data as {
    role: "load" | "produce" | "consume";
    lib?: string;
    n?: number;
  };
  if (data.role === "load") {
    const lib = await import(data.lib!);
    revive = lib.revive;
    scope.postMessage("ready");
    return;
  }
  const { role, n, queue } = revive(data) as {
    role: string;
    n: number;
    queue: SyncQueue;
  };
  if (role === "produce") {
    for (let i = 0; i < n; i++) queue.putSync({ a: i, b: "x" });
  } else {
    for (let i = 0; i < n; i++) queue.getSync();
  }
  scope.postMessage("done");
};
