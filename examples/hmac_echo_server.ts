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

import { answerChallenge, deliverChallenge } from "../auth/mod.ts";
import { type Connection, Listener } from "../ipc/mod.ts";
import { serveNumbered, untilHangup } from "./_listener.ts";
import { keyFileOption } from "./_secret.ts";
import { deadline, netArgs } from "./_tutorial.ts";

const { values } = netArgs(9004, {
  "key-file": { type: "string" },
});
const key = await keyFileOption(
  "hmac_echo_server.ts",
  values["key-file"],
  true,
);
const HANDSHAKE_DEADLINE = 5_000;
let accepted = 0;
let refused = 0;

async function handshake(conn: Connection): Promise<void> {
  await deliverChallenge(conn, key); // is the client legitimate?
  await answerChallenge(conn, key); // prove to the client that we are
}

async function handle(conn: Connection, id: number): Promise<void> {
  try {
    await deadline(handshake(conn), HANDSHAKE_DEADLINE, () => conn.close());
  } catch (error) {
    refused++;
    console.log(
      `client ${id} refused: ${
        (error as Error).message
      } (${refused} refused so far)`,
    );
    conn.close();
    return;
  }
  accepted++;
  console.log(`client ${id} authenticated (${accepted} accepted so far)`);
  await untilHangup(conn, id, async () => {
    for await (const message of conn) {
      await conn.send(String(message).toUpperCase());
    }
  });
}

// No `authkey` here: the handshake runs in handle(), before any echo.
using listener = new Listener({
  address: { hostname: values.hostname, port: Number(values.port) },
});
await serveNumbered(listener, "hmac echo server", handle);
