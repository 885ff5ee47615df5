// Uploads files to the upload server, all at once (one connection per
// file), and checks that the server computed the same SHA-256.
//
//   deno run --allow-net=127.0.0.1 --allow-read examples/upload_client.ts \
//     [--port 9003] FILE...
//
// Partner program: examples/upload_server.ts (see it for the wire format).
// Exits 1 if any upload failed.

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { FramedConnection, LengthPrefixCodec } from "../net/mod.ts";

const { values, positionals: files } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    port: { type: "string", default: "9003" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});
if (files.length === 0) {
  console.error("Usage: upload_client.ts [--port N] FILE...");
  Deno.exit(2);
}
const codec = new LengthPrefixCodec({
  headerBytes: 4,
  maxFrameSize: 64 * 1024,
});

async function upload(path: string): Promise<boolean> {
  const data = await Deno.readFile(path);
  const sha256 = createHash("sha256").update(data).digest("hex");
  using framed = new FramedConnection(
    await Deno.connect({
      hostname: values.hostname,
      port: Number(values.port),
    }),
    codec,
  );
  const name = path.split("/").pop()!;
  await framed.send(JSON.stringify({ name, size: data.length, sha256 }));
  const goAhead = await framed.receive();
  const verdict = goAhead && JSON.parse(new TextDecoder().decode(goAhead));
  if (!verdict?.ok) {
    console.log(`${name}: refused: ${verdict?.error ?? "connection closed"}`);
    return false;
  }
  for (let i = 0; i < data.length; i += 64 * 1024) {
    await framed.send(data.subarray(i, i + 64 * 1024));
  }
  await framed.send(new Uint8Array(0));
  const reply = await framed.receive();
  if (reply === null) {
    console.log(`${name}: the server closed the connection`);
    return false;
  }
  const result = JSON.parse(new TextDecoder().decode(reply));
  if (!result.ok) {
    console.log(`${name}: refused: ${result.error}`);
    return false;
  }
  if (result.sha256 !== sha256) {
    console.log(`${name}: server checksum differs`);
    return false;
  }
  console.log(
    `${name}: ${data.length} bytes stored as ${result.savedAs}, sha256 verified`,
  );
  return true;
}

const results = await Promise.all(files.map(upload));
if (!results.every(Boolean)) Deno.exitCode = 1;
