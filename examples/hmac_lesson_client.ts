// Client of the tutorials' hmac lesson, speaking its bytes so the lesson's
// Python server accepts it: it reads the server's 32-byte challenge,
// answers with HMAC-MD5(key, challenge) (16 bytes; weft's
// answerRawChallenge), then sends each stdin line and prints the
// upper-cased reply. Empty lines are skipped; `quit` or end of input exits.
// The lesson's server sends no verdict: with a wrong key it just closes, so
// the first reply never comes and this client says so and exits 1.
//
//   deno run --allow-net=127.0.0.1 --allow-read=lesson.key \
//     examples/hmac_lesson_client.ts --key-file lesson.key [--port 9999] \
//     [--digest md5|sha256] [--timeout 5000]
//
// Default digest md5 (the lesson's); --digest sha256 is the hardened
// variant, for examples/hmac_lesson_server.ts started with the same flag.
// Partner program: examples/hmac_lesson_server.ts (same key file).

import { answerRawChallenge, AuthenticationError } from "../auth/mod.ts";
import { recv, sendall } from "../net/mod.ts";
import { choiceOption, intOption, netArgs } from "./_tutorial.ts";
import { readLines } from "./_lines.ts";
import { keyFileOption } from "./_secret.ts";

const { values } = netArgs(9999, {
  "key-file": { type: "string" },
  digest: { type: "string", default: "md5" },
  timeout: { type: "string", default: "5000" },
});
const digest = choiceOption("digest", values.digest, ["md5", "sha256"]);
const timeout = intOption("timeout", values.timeout);
const key = await keyFileOption("hmac_lesson_client.ts", values["key-file"]);
const conn = await Deno.connect({
  hostname: values.hostname,
  port: Number(values.port),
});
try {
  await answerRawChallenge(conn, key, { digest, timeout });
} catch (error) {
  if (!(error instanceof AuthenticationError)) throw error;
  console.log(`refused: ${error.message}`);
  Deno.exit(1);
}
for await (const line of readLines(Deno.stdin.readable)) {
  const msg = line.trim();
  if (!msg) continue;
  if (msg === "quit") break;
  let reply: Uint8Array;
  try {
    await sendall(conn, msg);
    reply = await recv(conn, 1024, { timeout });
  } catch (error) {
    if (error instanceof Deno.errors.TimedOut) {
      console.log(`no reply within ${timeout} ms`);
      Deno.exit(1);
    }
    reply = new Uint8Array(0); // reset or broken pipe: the server hung up
  }
  if (reply.length === 0) {
    console.log("refused: the server closed the connection (wrong key?)");
    Deno.exit(1);
  }
  console.log(new TextDecoder().decode(reply));
}
conn.close();
