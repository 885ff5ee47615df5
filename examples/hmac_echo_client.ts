// Client of the HMAC-authenticated echo server: proves it holds the shared
// key (answerChallenge), checks that the server does too
// (deliverChallenge), then sends each stdin line and prints the upper-cased
// echo. `quit` or end of input exits. With a wrong key the server refuses
// the handshake: the client prints "refused" and exits 1 without having
// sent a single line.
//
//   deno run --allow-net=127.0.0.1 --allow-read=echo.key \
//     examples/hmac_echo_client.ts --key-file echo.key [--port 9004]
//
// Partner program: examples/hmac_echo_server.ts (same key file).

import {
  answerChallenge,
  AuthenticationError,
  deliverChallenge,
} from "../auth/mod.ts";
import { Client } from "../ipc/mod.ts";
import { readLines } from "./_lines.ts";
import { keyFileOption } from "./_secret.ts";
import { deadline, netArgs } from "./_tutorial.ts";

const { values } = netArgs(9004, {
  "key-file": { type: "string" },
});
const key = await keyFileOption("hmac_echo_client.ts", values["key-file"]);
using conn = await Client({
  hostname: values.hostname,
  port: Number(values.port),
});
async function handshake(): Promise<void> {
  await answerChallenge(conn, key); // prove to the server that we hold the key
  await deliverChallenge(conn, key); // is the server legitimate?
}
try {
  await deadline(handshake(), 5_000, () => conn.close());
} catch (error) {
  if (!(error instanceof AuthenticationError)) throw error;
  console.log(`refused: ${error.message}`);
  Deno.exit(1);
}
console.log("authenticated");
for await (const line of readLines(Deno.stdin.readable)) {
  if (line.trim() === "quit") break;
  await conn.send(line);
  try {
    console.log(await deadline(conn.recv(), 10_000, () => conn.close()));
  } catch (error) {
    if (!(error instanceof Deno.errors.TimedOut)) throw error;
    console.log(`no reply within 10000 ms`);
    Deno.exit(1);
  }
}
