// Test helper (not a test): starts ./queue_worker.ts
// with one job and a shared queue, and collects its first reply.
import { share } from "../../../concurrency/share.ts";

export interface QueueWorker {
  reply: Promise<Record<string, unknown>>;
  messages: unknown[];
  worker: Worker;
}

export function startQueueWorker(job: Record<string, unknown>): QueueWorker {
  const worker = new Worker(
    new URL("./queue_worker.ts", import.meta.url),
    { type: "module" },
  );
  const messages: unknown[] = [];
  const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.onmessage = (event) => {
      const data = event.data as Record<string, unknown>;
      if (data.error) reject(new Error(String(data.error)));
      else if ("ate" in data) messages.push(data.ate);
      else resolve(data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
  worker.postMessage(share(job));
  return { reply, messages, worker };
}
