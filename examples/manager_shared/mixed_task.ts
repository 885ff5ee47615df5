// Deno side of examples/manager_shared/mixed.ts: the tutorial's Foo(), run
// in a weft Process with the proxies as arguments.

import type { DictProxy, ListProxy } from "../../ipc/mod.ts";

/** `dic[i] = '1'; li.append(i)`, through the proxies. */
export async function Foo(
  dic: DictProxy<number, string>,
  li: ListProxy<number>,
  i: number,
): Promise<void> {
  await dic.set(i, "1");
  await li.push(i);
}
