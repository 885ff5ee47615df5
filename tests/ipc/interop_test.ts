// Interop with the real CPython `multiprocessing.connection` on this
// machine, both directions, for 3.11 (HMAC-MD5) and 3.12+ (HMAC-SHA256).
// A missing interpreter registers as ignored with the reason in its name.
import assert from "node:assert/strict";
import { AuthenticationError } from "../../auth/mod.ts";
import { Client, EOFError, Listener } from "../../ipc/mod.ts";
import { withTimeout } from "../_helpers.ts";
import {
  hex,
  payload,
  PY_CLIENT,
  PY_SERVER,
  PythonPeer,
  PYTHONS,
} from "./_python.ts";

const SIZES = [0, 1, 64 * 1024, 4 * 1024 * 1024];

for (const [version, python] of Object.entries(PYTHONS)) {
  const missing = python === undefined
    ? ` (ignored: python ${version} not installed)`
    : "";

  Deno.test({
    name:
      `Python ${version} Client -> weft Listener: bytes of 0 B, 1 B, 64 KiB, 4 MiB echo intact${missing}`,
    ignore: python === undefined,
    async fn() {
      const key = crypto.getRandomValues(new Uint8Array(32));
      using listener = new Listener({
        address: { hostname: "127.0.0.1", port: 0 },
        authkey: key,
      });
      const port = (listener.address as { port: number }).port;
      const peer = new PythonPeer(python!, PY_CLIENT);
      try {
        await peer.writeLine(
          JSON.stringify({ port, key: hex(key), sizes: SIZES }),
        );
        using conn = await withTimeout(listener.accept(), 20_000, "accept");
        const received: number[] = [];
        await withTimeout(
          (async () => {
            while (true) {
              let message: Uint8Array;
              try {
                message = await conn.recvBytes();
              } catch (e) {
                if (e instanceof EOFError) break;
                throw e;
              }
              received.push(message.length);
              assert.deepEqual(message, payload(message.length));
              await conn.sendBytes(message);
            }
          })(),
          30_000,
          "echo loop",
        );
        assert.deepEqual(received, SIZES);
        const out = await withTimeout(peer.finish(), 20_000, "python exit");
        assert.deepEqual(out.rest, ["ok"], out.stderr);
        assert.equal(out.code, 0, out.stderr);
      } finally {
        peer.kill();
      }
    },
  });

  Deno.test({
    name:
      `weft Client -> Python ${version} Listener: messages echo intact${missing}`,
    ignore: python === undefined,
    async fn() {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const peer = new PythonPeer(python!, PY_SERVER);
      try {
        await peer.writeLine(hex(key));
        const port = Number(await withTimeout(peer.readLine(), 20_000, "port"));
        const conn = await withTimeout(
          Client({ hostname: "127.0.0.1", port }, { authkey: key }),
          20_000,
          "connect",
        );
        for (const n of SIZES) {
          await conn.sendBytes(payload(n));
          const back = await withTimeout(conn.recvBytes(), 20_000, `echo ${n}`);
          assert.deepEqual(back, payload(n));
        }
        conn.close();
        const out = await withTimeout(peer.finish(), 20_000, "python exit");
        assert.deepEqual(out.rest, ["done"], out.stderr);
      } finally {
        peer.kill();
      }
    },
  });

  Deno.test({
    name:
      `Python ${version} Client with a wrong authkey is rejected by a weft Listener; both sides fail cleanly${missing}`,
    ignore: python === undefined,
    async fn() {
      const errors: Error[] = [];
      let failed!: () => void;
      const sawFailure = new Promise<void>((r) => failed = r);
      using listener = new Listener({
        address: { hostname: "127.0.0.1", port: 0 },
        authkey: "right key",
        onHandshakeError: (e) => {
          errors.push(e);
          failed();
        },
      });
      const accepting = listener.accept();
      accepting.catch(() => {});
      const port = (listener.address as { port: number }).port;
      const peer = new PythonPeer(python!, PY_CLIENT);
      try {
        await peer.writeLine(
          JSON.stringify({
            port,
            key: hex(new TextEncoder().encode("wrong key")),
            sizes: [],
          }),
        );
        const out = await withTimeout(peer.finish(), 20_000, "python exit");
        assert.deepEqual(out.rest, ["auth-failed"], out.stderr);
        await withTimeout(sawFailure, 20_000, "handshake error");
        assert.ok(errors[0] instanceof AuthenticationError);
        assert.ok(!errors[0].message.includes("right key"));
        assert.equal(listener.pendingHandshakes, 0);
      } finally {
        peer.kill();
        listener.close();
        await accepting.catch(() => {});
      }
    },
  });

  Deno.test({
    name: `Listener({ allowLegacyMd5: false }) ${
      version === "3.11" ? "rejects" : "accepts"
    } a Python ${version} Client${missing}`,
    ignore: python === undefined,
    async fn() {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const errors: Error[] = [];
      using listener = new Listener({
        address: { hostname: "127.0.0.1", port: 0 },
        authkey: key,
        allowLegacyMd5: false,
        onHandshakeError: (e) => errors.push(e),
      });
      const accepting = listener.accept();
      accepting.catch(() => {});
      const port = (listener.address as { port: number }).port;
      const peer = new PythonPeer(python!, PY_CLIENT);
      try {
        await peer.writeLine(
          JSON.stringify({ port, key: hex(key), sizes: [1] }),
        );
        if (version === "3.11") {
          const out = await withTimeout(peer.finish(), 20_000, "python exit");
          assert.deepEqual(out.rest, ["auth-failed"], out.stderr);
        } else {
          using conn = await withTimeout(accepting, 20_000, "accept");
          await conn.sendBytes(await withTimeout(conn.recvBytes(), 20_000));
          const out = await withTimeout(peer.finish(), 20_000, "python exit");
          assert.deepEqual(out.rest, ["ok"], out.stderr);
          assert.deepEqual(errors, []);
        }
      } finally {
        peer.kill();
        listener.close();
        await accepting.catch(() => {});
      }
    },
  });

  Deno.test({
    name:
      `weft Client with a wrong authkey is rejected by a Python ${version} Listener; both sides fail cleanly${missing}`,
    ignore: python === undefined,
    async fn() {
      const peer = new PythonPeer(python!, PY_SERVER);
      try {
        await peer.writeLine(hex(new TextEncoder().encode("right key")));
        const port = Number(await withTimeout(peer.readLine(), 20_000, "port"));
        await assert.rejects(
          withTimeout(
            Client({ hostname: "127.0.0.1", port }, { authkey: "wrong key" }),
            20_000,
            "connect",
          ),
          (e: Error) =>
            e instanceof AuthenticationError &&
            !e.message.includes("wrong key"),
        );
        const out = await withTimeout(peer.finish(), 20_000, "python exit");
        assert.deepEqual(out.rest, ["auth-failed"], out.stderr);
      } finally {
        peer.kill();
      }
    },
  });
}
