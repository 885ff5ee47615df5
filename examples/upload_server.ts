// File upload server for many clients at once (weft's serveTcp runs one
// handler per connection, concurrently), in the tutorial's wire format
// (default) or weft's verified one.
//
// --protocol raw (default, the tutorial's bytes, so its unchanged Python
// client works): the client sends the file's bytes and closes; everything
// until EOF is the file. The server then answers "文件上传成功!" (UTF-8),
// which the tutorial's client never reads. Files are stored as --name in
// --dir ("upload_%d" by default, %d counting up: the tutorial's
// "picture_<count>.jpg"; a fixed name such as my.txt is replaced whole).
// Hardening that changes no byte: each upload is written to a temporary
// file and renamed into place only once complete (a reader never sees half
// a file, two clients never interleave), an upload over --max-size is cut
// off and deleted, a client silent for 30 s is dropped, --clients N stops
// after N uploads (the tutorial's one-shot server is --clients 1). What the
// raw format cannot do: tell a complete upload from one whose client died
// (EOF is the only end marker), or check the content.
//
// --protocol weft: every upload is stored in its own new file —
// "<time>-<random>-<name>" in --dir, so two clients sending "report.pdf"
// never overwrite each other — and is checked with SHA-256 before it is
// kept: a mismatch deletes it and tells the client.
//
//   deno run --allow-net=127.0.0.1 --allow-read=uploads --allow-write=uploads \
//     examples/upload_server.ts --dir uploads [--port 9999] [--protocol raw|weft] \
//     [--name upload_%d] [--clients N] [--max-size 104857600]
//
// Partner program: examples/upload_client.ts (same --protocol). Prints
// "upload server listening on 127.0.0.1:PORT" once ready.
//
// weft's wire format (LengthPrefixCodec, 4-byte length + payload), one
// connection per file:
//   1. client: JSON {"name", "size", "sha256"}
//   2. server: JSON {"ok": true} (go ahead) or {"ok": false, "error"} (and
//      closes: too large, bad header)
//   3. client: data frames (<= 64 KiB each), then one empty frame
//   4. server: JSON {"ok": true, "savedAs", "sha256"} or {"ok": false, "error"}

import { createHash } from "node:crypto";
import {
  FramedConnection,
  LengthPrefixCodec,
  type ServedConnection,
  serveTcp,
} from "../net/mod.ts";
import { choiceOption, intOption, netArgs, peerName } from "./_tutorial.ts";

const { values } = netArgs(9999, {
  dir: { type: "string", default: "uploads" },
  protocol: { type: "string", default: "raw" },
  name: { type: "string", default: "upload_%d" },
  clients: { type: "string" },
  "max-size": { type: "string", default: String(100 * 1024 * 1024) },
});
choiceOption("protocol", values.protocol, ["raw", "weft"]);
if (!/^[A-Za-z0-9._%-]+$/.test(values.name) || values.name.startsWith(".")) {
  console.error(`Invalid --name "${values.name}": a plain file name`);
  Deno.exit(2);
}
const clientLimit = intOption("clients", values.clients, Infinity);
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

let counter = 0;

/** The next free "--name" for a raw upload (%d counts up). */
async function nextName(): Promise<string> {
  while (true) {
    const name = values.name.replaceAll("%d", String(++counter));
    if (!values.name.includes("%d")) return name;
    try {
      await Deno.lstat(`${dir}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return name;
      throw error;
    }
  }
}

/** The tutorial's upload: bytes until EOF, then "文件上传成功!". */
async function receiveRaw(conn: ServedConnection, peer: string) {
  const name = await nextName();
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const partial = `${dir}/.${name}.${random}.partial`;
  let received = 0;
  let keep = false;
  try {
    {
      using file = await Deno.open(partial, { write: true, createNew: true });
      while (true) {
        const data = await conn.recv(64 * 1024);
        if (data.length === 0) break; // EOF: the client closed, the file is done
        received += data.length;
        if (received > maxSize) {
          console.log(`${peer} upload refused: over ${maxSize} bytes`);
          return;
        }
        let done = 0;
        while (done < data.length) {
          done += await file.write(data.subarray(done));
        }
      }
    }
    await Deno.rename(partial, `${dir}/${name}`);
    keep = true;
    console.log(`${peer} uploaded ${received} bytes as ${name}`);
  } finally {
    if (!keep) await Deno.remove(partial).catch(() => {});
  }
  // The tutorial's client has usually closed already: a failure is fine.
  await conn.sendall("文件上传成功!").catch(() => {});
}

let served = 0;
const server = await serveTcp({
  hostname: values.hostname,
  port: Number(values.port),
  maxConnections: clientLimit === Infinity ? 50 : 1,
  idleTimeout: 30_000,
  handler: async (conn) => {
    const peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    if (values.protocol === "raw") {
      if (served >= clientLimit) return;
      try {
        return await receiveRaw(conn, peerName(conn.remoteAddr));
      } finally {
        if (++served >= clientLimit) queueMicrotask(() => server.shutdown());
      }
    }
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
