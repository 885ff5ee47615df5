// Manager proxies crossing boundaries through weft's sharing mechanism:
// into Web Workers (share/revive), and back into the same process.
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { revive, share } from "../../concurrency/share.ts";
import { TO_HANDLE } from "../../_internal/share.ts";
import { Manager } from "../../ipc/manager.ts";
import type { DictProxy, ValueProxy } from "../../ipc/manager_proxy.ts";

Deno.test("share(proxy) into 2 Web Workers: each increments a proxied Value 100 times, total exact", async () => {
  await using manager = await Manager.start();
  const value = await manager.Value(0);
  const url = new URL("./_tasks/manager_worker.ts", import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    await withTimeout(
      Promise.all(
        workers.map((worker) =>
          new Promise<void>((resolve, reject) => {
            worker.onmessage = () => resolve();
            worker.onerror = (event) => {
              event.preventDefault();
              reject(new Error(event.message));
            };
            worker.postMessage(share([value, 100]));
          })
        ),
      ),
      30_000,
      "workers",
    );
    assert.equal(await value.get(), 200);
  } finally {
    for (const worker of workers) worker.terminate();
  }
});

Deno.test("proxy[TO_HANDLE]('process') is plain JSON with the authkey inside; revive() in the same process reuses the manager's connection", async () => {
  await using manager = await Manager.start();
  const dict = await manager.dict<string, number>({ a: 1 });
  const handle = dict[TO_HANDLE]("process");
  const json = JSON.parse(JSON.stringify(handle));
  assert.deepEqual(json, handle);
  assert.equal(json["@@weft"], "ManagerProxy");
  assert.equal(json.typeid, "dict");
  assert.equal(typeof json.authkey, "string");
  const twin = revive<DictProxy<string, number>>(json);
  await twin.set("b", 2);
  assert.deepEqual(await dict.entries(), [["a", 1], ["b", 2]]);
});

Deno.test("Manager.serve(): a proxy revives in the serving process, and named objects meet across connections", async () => {
  await using server = await Manager.serve({ port: 0, authkey: "k" });
  const value = await server.Value(41);
  const handle = JSON.parse(JSON.stringify(share(value)));
  await using client = await Manager.connect({
    address: server.address,
    authkey: "k",
  });
  const named = await client.Value<number>(0, { name: "n" });
  await named.increment();
  const revived = revive<ValueProxy<number>>(handle);
  assert.equal(await revived.increment(), 42);
  assert.equal(await server.Value(0, { name: "n" }).then((v) => v.get()), 1);
});
