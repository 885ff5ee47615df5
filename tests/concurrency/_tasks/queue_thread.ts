// Thread target for tests/concurrency/queue_test.ts: queues arrive live.
import type { Queue } from "../../../concurrency/queue.ts";

export function doubler(
  inbox: Queue<number>,
  outbox: Queue<number>,
  n: number,
): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = inbox.getSync({ timeout: 10_000 });
    inbox.taskDone();
    outbox.putSync(x * 2);
    sum += x;
  }
  return sum;
}
