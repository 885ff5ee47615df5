// Worker-side functions of examples/producer_consumer/: `produce` and
// `consume` run on Web Workers (weft Threads, main.ts), where the Queue
// arrives live, backed by the same shared memory as the main thread's;
// `produceRemote` and `consumeRemote` run in child processes
// (weft Processes, processes.ts) and talk to a Manager's queue.

import type { Queue } from "../../concurrency/mod.ts";
import type { DictProxy, QueueProxy } from "../../ipc/mod.ts";

/** One unit of work: which producer made it and a number to crunch. */
export interface Job {
  producer: number;
  n: number;
}

/** Puts `count` jobs; blocks (this worker only) while the queue is full. */
export function produce(
  queue: Queue<Job | null>,
  producer: number,
  count: number,
): number {
  for (let n = 1; n <= count; n++) queue.putSync({ producer, n });
  return count;
}

/**
 * Takes jobs until it gets `null` (the "no more work" sentinel), marking
 * each one done so that the main thread's `queue.join()` can return.
 */
export function consume(
  queue: Queue<Job | null>,
): { handled: number; checksum: number; byProducer: Record<number, number> } {
  let handled = 0;
  let checksum = 0;
  const byProducer: Record<number, number> = {};
  while (true) {
    const job = queue.getSync();
    try {
      if (job === null) return { handled, checksum, byProducer };
      // Some CPU work per job, so consumers really run side by side.
      let x = job.n;
      for (let i = 0; i < 20_000; i++) {
        x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      }
      checksum += job.n;
      handled++;
      byProducer[job.producer] = (byProducer[job.producer] ?? 0) + 1;
    } finally {
      queue.taskDone();
    }
  }
}

// --- Process versions, for processes.ts: a Manager queue and dict instead
// of shared memory (separate processes share no memory).

/** Puts `count` jobs on a Manager queue (a proxy to the Manager process). */
export async function produceRemote(
  queue: QueueProxy<Job | null>,
  producer: number,
  count: number,
): Promise<void> {
  for (let n = 1; n <= count; n++) await queue.put({ producer, n });
}

/** Takes jobs until `null`, counting them in a Manager dict. */
export async function consumeRemote(
  queue: QueueProxy<Job | null>,
  tally: DictProxy<string, number>,
  name: string,
): Promise<void> {
  while (true) {
    const job = await queue.get();
    try {
      if (job === null) return;
      await tally.increment(name);
      await tally.increment("checksum", job.n);
    } finally {
      await queue.taskDone();
    }
  }
}
