// weft's client over TLS against a real socket.io 4.8 server on node:https:
// https:// long-polling upgraded to wss://, and wss:// directly (weft's own
// WebSocket framing on Deno.connectTls). The certificate comes from a test
// CA made with openssl; the client runs in a child Deno started with
// `--cert ca.pem`, as a program trusting a private CA would.

import assert from "node:assert/strict";
import { createServer } from "node:https";
import { Server } from "npm:socket.io@4.8.1";
import { runCommand, runDeno, withTimeout } from "../_helpers.ts";
import { peerTest } from "./_event_helpers.ts";

const OPENSSL = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** A CA and a localhost certificate signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const run = async (args: string[]) => {
    const r = await runCommand(OPENSSL!, args, { cwd: dir, timeout: 30_000 });
    if (r.code !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  await Deno.writeTextFile(
    `${dir}/leaf.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  const key = ["-newkey", "rsa:2048", "-nodes"];
  await run(["req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.pem"]
    .concat(["-days", "1", "-subj", "/CN=weft test CA"]));
  await run(["req", ...key, "-keyout", "key.pem", "-out", "leaf.csr"]
    .concat(["-subj", "/CN=localhost"]));
  await run(
    ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem"]
      .concat(["-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem"])
      .concat(["-days", "1", "-extfile", "leaf.cnf"]),
  );
}

const CLIENT = `
import { EventClient } from ${
  JSON.stringify(new URL("../../net/mod.ts", import.meta.url).href)
};
const url = Deno.args[0];
const results = [];
for (const transports of [["polling", "websocket"], ["websocket"]]) {
  const client = new EventClient({ transports, reconnection: false });
  await client.connect(url);
  const first = client.transport;
  for (let i = 0; i < 200 && client.transport === "polling"; i++) {
    await client.call("echo", i);
  }
  results.push({ first, last: client.transport, echo: await client.call("echo", "hi") });
  await client.disconnect();
}
console.log(JSON.stringify(results));
`;

Deno.test(peerTest(
  "TLS: https polling upgraded to wss, and wss directly, against socket.io 4.8 on node:https",
  OPENSSL ? undefined : "openssl not found",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "weft-tls-" });
    try {
      await makeCertificates(dir);
      await Deno.writeTextFile(`${dir}/client.ts`, CLIENT);
      const https = createServer({
        key: await Deno.readTextFile(`${dir}/key.pem`),
        cert: await Deno.readTextFile(`${dir}/cert.pem`),
      });
      const io = new Server(https);
      io.on("connection", (s) => {
        s.on("echo", (x: unknown, ack: (v: unknown) => void) => ack(x));
      });
      await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
      try {
        const port = (https.address() as { port: number }).port;
        const out = await withTimeout(
          runDeno([
            "run",
            "--allow-net=127.0.0.1,localhost",
            "--allow-read",
            "--cert",
            `${dir}/ca.pem`,
            `${dir}/client.ts`,
            `https://localhost:${port}`,
          ], { timeout: 60_000 }),
          70_000,
          "TLS client",
        );
        assert.equal(out.code, 0, out.stderr);
        assert.deepEqual(JSON.parse(out.stdout), [
          { first: "polling", last: "websocket", echo: "hi" },
          { first: "websocket", last: "websocket", echo: "hi" },
        ]);
      } finally {
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          https.closeAllConnections();
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
));
