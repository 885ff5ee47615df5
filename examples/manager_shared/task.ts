// Child-process side of examples/manager_shared/main.ts.

import type { DictProxy, ListProxy } from "../../ipc/mod.ts";

/**
 * Records this worker in the shared dict and list. `plain` is an ordinary
 * array: the child gets a copy, so pushing to it changes nothing in the
 * parent (the contrast the tutorials draw).
 */
export async function work(
  dict: DictProxy<string, number>,
  list: ListProxy<number>,
  plain: number[],
  index: number,
): Promise<void> {
  await dict.set(`worker-${index}`, Deno.pid);
  await dict.increment("total", index); // one atomic step in the Manager
  await list.push(index * index);
  plain.push(index); // a local copy: invisible to the parent
}
