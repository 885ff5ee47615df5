// Uploads files to the upload server, all at once (one connection per
// file).
//
// --protocol raw (default, the tutorial's bytes, so the tutorial's
// unchanged Python server accepts it): the file's bytes, then end of
// stream. Unlike the tutorial's client, which closes without reading, this
// one half-closes (shutdown of its sending side: the server sees EOF) and
// then waits up to --timeout ms for the server's answer ("文件上传成功!")
// and prints it; no byte sent differs.
// --protocol weft: weft's framing; checks that the server computed the
// same SHA-256.
//
//   deno run --allow-net=127.0.0.1 --allow-read examples/upload_client.ts \
//     [--port 9999] [--protocol raw|weft] [--timeout 10000] FILE...
//
// Partner program: examples/upload_server.ts (see it for the wire formats).
// Exits 1 if any upload failed.

import { createHash } from "node:crypto";
import {
  FramedConnection,
  LengthPrefixCodec,
  recv,
  sendall,
} from "../net/mod.ts";
import { choiceOption, deadline, intOption, netArgs } from "./_tutorial.ts";

const { values, positionals: files } = netArgs(9999, {
  protocol: { type: "string", default: "raw" },
  timeout: { type: "string", default: "10000" },
}, true);
choiceOption("protocol", values.protocol, ["raw", "weft"]);
const timeout = intOption("timeout", values.timeout);
if (files.length === 0) {
  console.error("Usage: upload_client.ts [--port N] FILE...");
  Deno.exit(2);
}
const codec = new LengthPrefixCodec({
  headerBytes: 4,
  maxFrameSize: 64 * 1024,
});

/** The tutorial's upload: raw bytes, EOF, then the server's answer if any. */
async function uploadRaw(path: string): Promise<boolean> {
  const name = path.split("/").pop()!;
  using file = await Deno.open(path, { read: true });
  const conn = await Deno.connect({
    hostname: values.hostname,
    port: Number(values.port),
  });
  try {
    let sent = 0;
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await file.read(buffer);
      if (n === null) break;
      await sendall(conn, buffer.subarray(0, n));
      sent += n;
    }
    await conn.closeWrite(); // the server's recv() returns b'': file done
    let reply: Uint8Array;
    try {
      reply = await recv(conn, 1024, { timeout });
    } catch (error) {
      if (error instanceof Deno.errors.TimedOut) {
        console.log(`${name}: ${sent} bytes sent, no answer in ${timeout} ms`);
        return false;
      }
      throw error;
    }
    const answer = new TextDecoder().decode(reply);
    console.log(
      `${name}: ${sent} bytes sent; server: ${answer || "(closed, no answer)"}`,
    );
    return true;
  } catch (error) {
    console.log(`${name}: failed: ${(error as Error).message}`);
    return false;
  } finally {
    try {
      conn.close();
    } catch {
      // closed by a timeout
    }
  }
}

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
  const goAhead = await deadline(
    framed.receive(),
    timeout,
    () => framed.close(),
  );
  const verdict = goAhead && JSON.parse(new TextDecoder().decode(goAhead));
  if (!verdict?.ok) {
    console.log(`${name}: refused: ${verdict?.error ?? "connection closed"}`);
    return false;
  }
  for (let i = 0; i < data.length; i += 64 * 1024) {
    await framed.send(data.subarray(i, i + 64 * 1024));
  }
  await framed.send(new Uint8Array(0));
  const reply = await deadline(framed.receive(), timeout, () => framed.close());
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

const results = await Promise.all(
  files.map((file) =>
    (values.protocol === "raw" ? uploadRaw : upload)(file).catch((error) => {
      console.log(`${file.split("/").pop()}: failed: ${error.message}`);
      return false;
    })
  ),
);
if (!results.every(Boolean)) Deno.exitCode = 1;
