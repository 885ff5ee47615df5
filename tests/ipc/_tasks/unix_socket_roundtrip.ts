// Run by listener_test.ts in a child Deno: Deno checks Unix socket paths
// against --allow-net ("unix:<path>") and a host list cannot name them, so
// the child gets --allow-net while the test process keeps 127.0.0.1 only.
// Exits 0 and prints "ok" when a Listener and a Client on a Unix path
// authenticate, exchange bytes, and close() removes the socket file.
import assert from "node:assert/strict";
import { Client, Listener } from "../../../ipc/mod.ts";

const dir = await Deno.makeTempDir();
const path = `${dir}/weft.sock`;
try {
  const listener = new Listener({ address: { path }, authkey: "k" });
  assert.deepEqual(listener.address, { path });
  const accepted = listener.accept();
  const client = await Client({ path }, { authkey: "k" });
  const server = await accepted;
  await server.sendBytes(new Uint8Array([1, 2]));
  assert.deepEqual(await client.recvBytes(), new Uint8Array([1, 2]));
  await client.sendBytes(new Uint8Array([3]));
  assert.deepEqual(await server.recvBytes(), new Uint8Array([3]));
  client.close();
  server.close();
  listener.close();
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  console.log("ok");
} finally {
  await Deno.remove(dir, { recursive: true });
}
