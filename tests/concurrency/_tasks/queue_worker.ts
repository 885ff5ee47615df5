// Worker side of tests/concurrency/*queue_test.ts: receives a shared queue
// and runs one blocking loop on it, then reports back.
import { revive } from "../../../concurrency/share.ts";
import { QueueClosed } from "../../../concurrency/queue_errors.ts";
import "../../../concurrency/queue.ts";
import "../../../concurrency/lifo_queue.ts";
import "../../../concurrency/priority_queue.ts";

// This module runs as a worker: type the worker scope we use.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

interface SyncQueue {
  putSync(item: unknown, options?: { timeout?: number }): void;
  getSync(options?: { timeout?: number }): unknown;
  qsize(): number;
  taskDone(): void;
}

interface Job {
  op: "produce" | "consume" | "eat" | "putAll" | "getN";
  queue: unknown;
  start?: number;
  count?: number;
  items?: unknown[];
  maxsize?: number;
  /** If set, items are strings `${n}:${"x".repeat(n % pad)}` (checked by consumers). */
  pad?: number;
}

scope.onmessage = (event: MessageEvent<Job>) => {
  const job = event.data;
  const queue = revive<SyncQueue>(job.queue);
  try {
    switch (job.op) {
      case "produce": {
        let maxSeen = 0;
        for (let i = 0; i < job.count!; i++) {
          const n = job.start! + i;
          queue.putSync(job.pad ? `${n}:${"x".repeat(n % job.pad)}` : n);
          const size = queue.qsize();
          if (size > maxSeen) maxSeen = size;
        }
        scope.postMessage({ done: true, maxSeen });
        break;
      }
      case "consume": {
        const got: number[] = [];
        for (;;) {
          try {
            const item = queue.getSync();
            if (typeof item === "string") {
              const [head, tail] = item.split(":");
              const n = Number(head);
              if (tail !== "x".repeat(n % job.pad!)) {
                throw new Error(`corrupt item ${item.slice(0, 40)}`);
              }
              got.push(n);
            } else {
              got.push(item as number);
            }
          } catch (error) {
            if (error instanceof QueueClosed) break;
            throw error;
          }
        }
        scope.postMessage({ done: true, got });
        break;
      }
      case "eat": {
        // The tutorial's daemon consumer: eats forever, marks each done.
        for (;;) {
          let item;
          try {
            item = queue.getSync();
          } catch (error) {
            if (error instanceof QueueClosed) break;
            throw error;
          }
          scope.postMessage({ ate: item });
          queue.taskDone();
        }
        break;
      }
      case "putAll": {
        for (const item of job.items!) queue.putSync(item);
        scope.postMessage({ done: true });
        break;
      }
      case "getN": {
        const got: unknown[] = [];
        for (let i = 0; i < job.count!; i++) {
          got.push(queue.getSync({ timeout: 10_000 }));
        }
        scope.postMessage({ done: true, got });
        break;
      }
    }
  } catch (error) {
    scope.postMessage({ error: String((error as Error)?.stack ?? error) });
  }
};
