// Echo server behind the tutorials' "verify the client is legitimate"
// lesson (hmac + salt), speaking its bytes so the lesson's Python client
// works unchanged: on connect the server sends 32 random bytes, the client
// must answer with the 16-byte HMAC-MD5 of them under the shared key, and
// only then is each `recv(1024)` answered with `data.upper()`. A wrong or
// missing answer closes the connection (the lesson sends no verdict).
// weft's auth module provides the exchange (deliverRawChallenge).
//
// Default: the lesson's MD5 digest, because that is what its client
// computes (`hmac.new(key, msg)` defaulted to MD5 before Python 3.8; on
// 3.8+ the client must say digestmod='md5'). `--digest sha256` is the
// hardened variant (32-byte answers; both sides need the flag). For mutual
// authentication as in Python's multiprocessing.connection, see
// examples/hmac_echo_server.ts. Hardening that changes no byte: random
// challenges from crypto.getRandomValues, constant-time comparison,
// exact-length reads, a 5 s deadline on the challenge, an idle timeout,
// many clients at once (the lesson serves one at a time).
//
//   deno run --allow-net=127.0.0.1 --allow-read=lesson.key \
//     examples/hmac_lesson_server.ts --key-file lesson.key [--port 9999] \
//     [--digest md5|sha256]
//
// The key file holds the key in hex (the lesson's b'alex bang bang bang' is
// 616c65782062616e672062616e672062616e67), never on the command line.
// Partner program: examples/hmac_lesson_client.ts (same key file). Prints
// "hmac lesson server listening on 127.0.0.1:PORT" once ready.

import { deliverRawChallenge } from "../auth/mod.ts";
import { serveTcp } from "../net/mod.ts";
import { choiceOption, netArgs, peerName, upper } from "./_tutorial.ts";
import { keyFileOption } from "./_secret.ts";

const { values } = netArgs(9999, {
  "key-file": { type: "string" },
  digest: { type: "string", default: "md5" },
});
const digest = choiceOption("digest", values.digest, ["md5", "sha256"]);
const key = await keyFileOption("hmac_lesson_server.ts", values["key-file"]);

const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  idleTimeout: 60_000,
  maxConnections: 100,
  handler: async (conn) => {
    const peer = peerName(conn.remoteAddr);
    console.log(`new connection ${peer}: verifying it`);
    try {
      await deliverRawChallenge(conn, key, { digest, timeout: 5_000 });
    } catch (error) {
      console.log(`${peer} refused: ${(error as Error).message}`);
      return; // closes the connection: the lesson's only verdict
    }
    console.log(`${peer} is legitimate`);
    while (true) {
      const data = await conn.recv(1024);
      if (data.length === 0) break;
      await conn.sendall(upper(data));
    }
    console.log(`${peer} closed`);
  },
  onError: (error, addr) =>
    console.error(`${peerName(addr)}: ${(error as Error).message}`),
});
console.log(
  `hmac lesson server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
