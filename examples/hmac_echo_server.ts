// HMAC-authenticated echo server: the tutorials' "verify the client is
// legitimate" with Python's hmac challenge/response, on weft's ipc
// Listener and auth module.
//
// Every connection must pass a mutual handshake before a single
// application byte is read: the server sends a random challenge and checks
// the client's HMAC-SHA256 of it (deliverChallenge), then answers the
// client's challenge the same way (answerChallenge), so each side knows the
// other holds the key. A client with the wrong key gets "#FAILURE#" and is
// disconnected; the server logs it and keeps serving everyone else. Each
// handshake has a 5 s deadline so a silent client cannot hold a slot.
// (Listener's `authkey` option runs the same two steps for you; they are
// spelled out here to show them.)
//
//   deno run --allow-net=127.0.0.1 --allow-read=echo.key --allow-write=echo.key \
//     examples/hmac_echo_server.ts --key-file echo.key [--port 9004]
//
// The key file holds hex bytes; if it does not exist the server writes 32
// random bytes there (mode 0600). Partner program:
// examples/hmac_echo_client.ts with the same --key-file. Prints
// "hmac echo server listening on 127.0.0.1:PORT" once ready.

import { parseArgs } from "node:util";
import { answerChallenge, deliverChallenge } from "../auth/mod.ts";
import { type Connection, EOFError, Listener } from "../ipc/mod.ts";
import { loadKey } from "./_secret.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9004" },
    hostname: { type: "string", default: "127.0.0.1" },
    "key-file": { type: "string" },
  },
});
if (!values["key-file"]) {
  console.error("Usage: hmac_echo_server.ts --key-file FILE [--port N]");
  Deno.exit(2);
}
const key = await loadKey(values["key-file"], true);
const HANDSHAKE_DEADLINE = 5_000;
let accepted = 0;
let refused = 0;

async function handle(conn: Connection, id: number): Promise<void> {
  const timer = setTimeout(() => conn.close(), HANDSHAKE_DEADLINE);
  try {
    await deliverChallenge(conn, key); // is the client legitimate?
    await answerChallenge(conn, key); // prove to the client that we are
  } catch (error) {
    refused++;
    console.log(
      `client ${id} refused: ${
        (error as Error).message
      } (${refused} refused so far)`,
    );
    conn.close();
    return;
  } finally {
    clearTimeout(timer);
  }
  accepted++;
  console.log(`client ${id} authenticated (${accepted} accepted so far)`);
  try {
    for await (const message of conn) {
      await conn.send(String(message).toUpperCase());
    }
  } catch (error) {
    if (!(error instanceof EOFError)) {
      console.log(`client ${id}: ${(error as Error).message}`);
    }
  } finally {
    conn.close();
    console.log(`client ${id} disconnected`);
  }
}

// No `authkey` here: the handshake runs in handle(), before any echo.
using listener = new Listener({
  address: { hostname: values.hostname, port: Number(values.port) },
});
const address = listener.address as { hostname: string; port: number };
console.log(
  `hmac echo server listening on ${address.hostname}:${address.port}`,
);
Deno.addSignalListener("SIGINT", () => listener.close());
let next = 0;
for await (const conn of listener) handle(conn, ++next);
