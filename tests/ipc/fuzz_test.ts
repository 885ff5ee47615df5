// Robustness: a Listener under random, truncated, oversize and silent
// clients keeps serving a well-behaved client, never hangs, leaks no slot.
import assert from "node:assert/strict";
import { Client, type Connection, EOFError, Listener } from "../../ipc/mod.ts";
import { withTimeout } from "../_helpers.ts";

// A small deterministic PRNG so a failure is reproducible from the seed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function attack(
  port: number,
  kind: number,
  random: () => number,
): Promise<void> {
  let raw: Deno.Conn;
  try {
    raw = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return;
  }
  const write = async (bytes: Uint8Array) => {
    let n = 0;
    while (n < bytes.length) n += await raw.write(bytes.subarray(n));
  };
  try {
    switch (kind) {
      case 0: { // random garbage
        const junk = new Uint8Array(1 + Math.floor(random() * 600));
        for (let i = 0; i < junk.length; i++) {
          junk[i] = Math.floor(random() * 256);
        }
        await write(junk);
        break;
      }
      case 1: // truncated frame: header says 200, 10 bytes follow
        await write(
          new Uint8Array([0, 0, 0, 200, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        );
        break;
      case 2: // oversize frame (1 GiB) during the handshake
        await write(new Uint8Array([0x40, 0, 0, 0, 1, 2, 3]));
        break;
      case 3: // the -1 escape claiming 2^62 bytes
        await write(
          new Uint8Array([255, 255, 255, 255, 0x40, 0, 0, 0, 0, 0, 0, 0]),
        );
        break;
      case 4: // silent: say nothing until the handshake deadline drops us
        await raw.read(new Uint8Array(256)).catch(() => null);
        await raw.read(new Uint8Array(256)).catch(() => null);
        break;
      case 5: // negative length
        await write(new Uint8Array([0x80, 0, 0, 5]));
        break;
    }
  } catch {
    // the server may cut us off at any point
  } finally {
    if (kind !== 4) await new Promise((r) => setTimeout(r, random() * 20));
    try {
      raw.close();
    } catch { /* already closed */ }
  }
}

async function serve(listener: Listener, served: Connection[]): Promise<void> {
  for await (const conn of listener) {
    served.push(conn);
    (async () => {
      try {
        while (true) await conn.sendBytes(await conn.recvBytes());
      } catch (error) {
        if (!(error instanceof EOFError || error instanceof RangeError)) {
          throw error;
        }
      } finally {
        conn.close();
      }
    })();
  }
}

for (const seed of [1, 2, 3]) {
  Deno.test(`Listener survives 60 hostile clients (seed ${seed}) while echoing 200 messages to a good client`, async () => {
    const random = rng(seed);
    let failures = 0;
    const listener = new Listener({
      address: { hostname: "127.0.0.1", port: 0 },
      authkey: "fuzz key",
      // silent attackers wait this long; the good client and the rogue
      // must finish their own handshakes inside it on a loaded machine
      handshakeTimeout: 1000,
      maxMessageSize: 1 << 20,
      onHandshakeError: () => failures++,
    });
    const port = (listener.address as { port: number }).port;
    const served: Connection[] = [];
    const serving = serve(listener, served);
    const good = await withTimeout(
      Client(listener.address, { authkey: "fuzz key" }),
      10_000,
    );
    try {
      const attacks = Array.from(
        { length: 60 },
        (_, i) => attack(port, i % 6, random),
      );
      for (let i = 0; i < 200; i++) {
        const m = new Uint8Array(Math.floor(random() * 3000)).fill(i % 256);
        await good.sendBytes(m);
        assert.deepEqual(
          await withTimeout(good.recvBytes(), 10_000, `echo ${i}`),
          m,
        );
      }
      await withTimeout(Promise.all(attacks), 20_000, "attacks");
      await withTimeout(
        (async () => {
          while (listener.pendingHandshakes > 0 || failures < 60) {
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
        20_000,
        "every hostile handshake failed and was freed",
      );
      assert.equal(failures, 60);
      assert.equal(served.length, 1);

      // An authenticated client that then sends an oversize frame loses only
      // its own connection.
      const rogue = await withTimeout(
        Client(listener.address, { authkey: "fuzz key" }),
        10_000,
      );
      await rogue.sendBytes(new Uint8Array((1 << 20) + 1));
      await assert.rejects(withTimeout(rogue.recvBytes(), 10_000), EOFError);
      rogue.close();
      await good.sendBytes(new Uint8Array([42]));
      assert.deepEqual(
        await withTimeout(good.recvBytes(), 10_000),
        new Uint8Array([42]),
      );
    } finally {
      good.close();
      listener.close();
      await withTimeout(serving, 10_000, "serve loop ends");
      for (const c of served) c.close();
    }
  });
}
