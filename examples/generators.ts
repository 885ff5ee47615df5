// Coroutine-style producer/consumer with generators (the tutorials' `yield`
// lesson), then the same pipeline written the async way.
//
// Part 1 is Python's classic "consumer is a generator, the producer calls
// send()": in JavaScript `gen.next(value)` is `send(value)`. The consumer
// keeps its state in local variables between values; nothing runs in
// parallel, the two functions simply take turns on one thread.
//
// Part 2 is the async equivalent: an `async function*` producer that awaits
// (here a timer standing in for I/O) and a consumer that pulls with
// `for await`. Backpressure is built in: the producer is suspended at
// `yield` until the consumer asks for the next item.
//
//   deno run examples/generators.ts [--items 5]
//
// No permissions, no partner program.

import { parseArgs } from "node:util";

/** A consumer coroutine: receives items through next(item), replies with a status. */
function* consumer(): Generator<string, number, number | undefined> {
  let handled = 0;
  let reply = "ready";
  while (true) {
    const item = yield reply;
    if (item === undefined) return handled; // the producer said "no more"
    handled++;
    reply = `consumed item ${item} (total ${handled})`;
  }
}

/** Drives the consumer: Python's `c.send(None)` then `c.send(n)` per item. */
function produceInto(count: number): void {
  const c = consumer();
  console.log(`[sync] consumer ${c.next().value}`); // prime it, like send(None)
  for (let n = 1; n <= count; n++) {
    console.log(`[sync] producer made item ${n}`);
    const status = c.next(n).value;
    console.log(`[sync] consumer says: ${status}`);
  }
  const done = c.next(undefined);
  console.log(`[sync] consumer finished after ${done.value} items`);
}

/** An async producer: each item takes a little (simulated) I/O time. */
async function* produceAsync(count: number): AsyncGenerator<number> {
  for (let n = 1; n <= count; n++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    console.log(`[async] producer made item ${n}`);
    yield n;
  }
}

/** An async consumer: pulls items as they come, one at a time. */
async function consumeAsync(items: AsyncIterable<number>): Promise<number> {
  let total = 0;
  for await (const item of items) {
    total += item;
    console.log(`[async] consumer got item ${item} (sum ${total})`);
  }
  return total;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { items: { type: "string", default: "5" } },
  });
  const count = Number(values.items);
  if (!Number.isInteger(count) || count < 0) {
    console.error(`Invalid --items: "${values.items}"`);
    Deno.exit(2);
  }
  produceInto(count);
  const sum = await consumeAsync(produceAsync(count));
  console.log(`[async] consumer finished, sum ${sum}`);
}
