// File upload server for many clients at once (weft's serveTcp runs one
// handler per connection, concurrently). Every upload is stored in its own
// new file — "<time>-<random>-<name>" in --dir, so two clients sending
// "report.pdf" never overwrite each other — and is checked with SHA-256
// before it is kept: a mismatch deletes it and tells the client.
//
//   deno run --allow-net=127.0.0.1 --allow-read=uploads --allow-write=uploads \
//     examples/upload_server.ts --dir uploads [--port 9003] [--max-size 104857600]
//
// Partner program: examples/upload_client.ts. Prints
// "upload server listening on 127.0.0.1:PORT" once ready.
//
// Wire format (weft's LengthPrefixCodec, 4-byte length + payload), one
// connection per file:
//   1. client: JSON {"name", "size", "sha256"}
//   2. server: JSON {"ok": true} (go ahead) or {"ok": false, "error"} (and
//      closes: too large, bad header)
//   3. client: data frames (<= 64 KiB each), then one empty frame
//   4. server: JSON {"ok": true, "savedAs", "sha256"} or {"ok": false, "error"}

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { FramedConnection, LengthPrefixCodec, serveTcp } from "../net/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9003" },
    hostname: { type: "string", default: "127.0.0.1" },
    dir: { type: "string", default: "uploads" },
    "max-size": { type: "string", default: String(100 * 1024 * 1024) },
  },
});
const maxSize = Number(values["max-size"]);
const dir = values.dir;
await Deno.mkdir(dir, { recursive: true });
const codec = new LengthPrefixCodec({
  headerBytes: 4,
  maxFrameSize: 64 * 1024,
});

/** A safe local file name for what the client called `name`. */
function storedName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const clean = base.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "").slice(
    0,
    100,
  );
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `${Date.now()}-${random}-${clean || "unnamed"}`;
}

async function receiveUpload(
  framed: FramedConnection,
  peer: string,
): Promise<object> {
  const first = await framed.receive();
  if (first === null) throw new Error("No header");
  const header = JSON.parse(new TextDecoder().decode(first));
  const { name, size, sha256 } = header ?? {};
  if (
    typeof name !== "string" || !Number.isSafeInteger(size) || size < 0 ||
    typeof sha256 !== "string"
  ) {
    return { ok: false, error: "Invalid header: need name, size and sha256" };
  }
  if (size > maxSize) {
    return { ok: false, error: `Too large: ${size} > ${maxSize} bytes` };
  }
  await framed.send(JSON.stringify({ ok: true })); // go ahead
  const savedAs = storedName(name);
  const partial = `${dir}/.${savedAs}.partial`;
  const hash = createHash("sha256");
  let received = 0;
  let keep = false;
  try {
    using file = await Deno.open(partial, { write: true, createNew: true });
    while (true) {
      const chunk = await framed.receive();
      if (chunk === null) {
        throw new Error(`${peer} went away after ${received} bytes`);
      }
      if (chunk.length === 0) break;
      received += chunk.length;
      if (received > size) {
        return { ok: false, error: `More than the announced ${size} bytes` };
      }
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) {
        done += await file.write(chunk.subarray(done));
      }
    }
    const digest = hash.digest("hex");
    if (received !== size || digest !== sha256) {
      return {
        ok: false,
        error: `Checksum mismatch: got ${received} bytes, sha256 ${digest}`,
      };
    }
    await Deno.rename(partial, `${dir}/${savedAs}`);
    keep = true;
    console.log(
      `${peer} uploaded "${name}" (${size} bytes) as ${savedAs}, sha256 verified`,
    );
    return { ok: true, savedAs, sha256: digest };
  } finally {
    if (!keep) await Deno.remove(partial).catch(() => {});
  }
}

const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  maxConnections: 50,
  idleTimeout: 30_000,
  handler: async (conn) => {
    const peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    const framed = new FramedConnection(conn, codec);
    const reply = await receiveUpload(framed, peer);
    if (!("savedAs" in reply)) {
      console.log(`${peer} upload refused: ${JSON.stringify(reply)}`);
    }
    await framed.send(JSON.stringify(reply));
  },
  onError: (error, addr) =>
    console.error(`${addr.hostname}:${addr.port}: ${(error as Error).message}`),
});
console.log(
  `upload server listening on ${server.addr.hostname}:${server.addr.port}`,
);
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.finished;
