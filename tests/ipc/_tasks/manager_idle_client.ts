// A client process for tests/ipc/manager_socket_test.ts: connects to the
// manager named on stdin ({ port, authkey, mode }), makes one call and
// returns WITHOUT closing the connection. The process must then exit on its
// own: an idle manager connection keeps no read pending.
//
// mode "get": dict "d".get("key"), printed.
// mode "wait": Queue "q".get() (the test puts an item a little later: the
// pending call must keep the process alive until its reply), printed.
import { Manager } from "../../../ipc/manager.ts";

const text = await new Response(Deno.stdin.readable).text();
const { port, authkey, mode } = JSON.parse(text) as {
  port: number;
  authkey: string;
  mode: "get" | "wait";
};
const manager = await Manager.connect({
  address: { hostname: "127.0.0.1", port },
  authkey,
});
if (mode === "get") {
  const dict = await manager.dict<string, number>({}, { name: "d" });
  console.log(`got ${await dict.get("key")}`);
} else {
  const queue = await manager.Queue<string>({ name: "q" });
  console.log(`got ${await queue.get({ timeout: 20_000 })}`);
}
// no shutdown(), no close(): nothing may keep this process alive now
