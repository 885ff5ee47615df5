// A Deno peer of the mixed Python/Deno manager tests: reads
// {port, key (hex), mode, i, n} on stdin, connects to the weft manager and
// meets the shared objects by name.
//   mode "seed": the tutorial's Foo(dic, li, i): dic[i] = "1"; li.append(i)
//   mode "count": n increments of the shared Value under the shared Lock,
//   each a read then a write (the lock is what makes them exact).
import { Manager } from "../../../ipc/manager.ts";

const config = JSON.parse(await new Response(Deno.stdin.readable).text());
const authkey = new Uint8Array(
  (config.key as string).match(/../g)!.map((b) => parseInt(b, 16)),
);
const manager = await Manager.connect({
  address: { hostname: "127.0.0.1", port: config.port },
  authkey,
});
try {
  if (config.mode === "seed") {
    const dic = await manager.dict<number, string>({}, { name: "dic" });
    const li = await manager.list<number>([], { name: "li" });
    await dic.set(config.i, "1");
    await li.push(config.i);
  } else {
    const lock = await manager.Lock({ name: "lock" });
    const counter = await manager.Value(0, { name: "counter" });
    for (let k = 0; k < config.n; k++) {
      await lock.acquire();
      try {
        await counter.set((await counter.get()) + 1);
      } finally {
        await lock.release();
      }
    }
  }
} finally {
  await manager.shutdown();
}
