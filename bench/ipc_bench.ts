// deno bench --allow-net=127.0.0.1,localhost --allow-read --allow-write --allow-run --allow-env --allow-sys bench/ipc_bench.ts
import { answerChallenge, deliverChallenge } from "../auth/mod.ts";
import { hmacMd5 } from "../auth/_md5.ts";
import { Client, Listener, Pipe } from "../ipc/mod.ts";

const small = new Uint8Array(64);
const [a, b] = Pipe();
Deno.bench("Pipe sendBytes+recvBytes 64 B (same thread)", async () => {
  await a.sendBytes(small);
  await b.recvBytes();
});
Deno.bench("Pipe send+recv structured value (same thread)", async () => {
  await a.send({ id: 1, tags: new Set(["x"]), at: new Date(0) });
  await b.recv();
});

const listener = new Listener({ address: { hostname: "127.0.0.1", port: 0 } });
const accepted = listener.accept();
const client = await Client(listener.address);
const server = await accepted;
Deno.bench("TCP Connection round trip 64 B (same process)", async () => {
  await client.sendBytes(small);
  await server.sendBytes(await server.recvBytes());
  await client.recvBytes();
});

const [h1, h2] = Pipe();
Deno.bench(
  "handshake: deliverChallenge + answerChallenge (HMAC-SHA256)",
  async () => {
    await Promise.all([
      deliverChallenge(h1, "key"),
      answerChallenge(h2, "key"),
    ]);
  },
);

const key = new Uint8Array(32);
const message = new Uint8Array(48);
Deno.bench("hmacMd5 of a 48-byte challenge", () => {
  hmacMd5(key, message);
});

globalThis.addEventListener("unload", () => {
  for (const c of [a, b, client, server, h1, h2]) c.close();
  listener.close();
});
