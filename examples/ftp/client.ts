// Client of the FTP-like file server (examples/ftp/server.ts, its partner
// program, or the FTP tutorial's Python server). Reads commands from stdin,
// one per line, interactively on a terminal or from a pipe.
//
// --protocol tutorial (default, the tutorial's bytes; _tutorial_client.ts):
//   ls | cd dir | mkdir dir | put local [target_dir] | quit
// --protocol weft (the hardened variant; _protocol.ts):
//   pwd | ls [path] | cd path | mkdir path | put local [remote] |
//   get remote [local] | help | quit
//
// Transfers show a progress bar on stderr when stderr is a terminal (or with
// --progress) and resume where an earlier interrupted transfer stopped; in
// weft's protocol they are also checked with SHA-256 at the end.
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write \
//     examples/ftp/client.ts --user alice --password-file alice.pass \
//     [--protocol tutorial|weft] [--port 2121]
//
// The password is read from --password-file, or asked for (without echo)
// when stdin is a terminal; never from the command line. Every reply has a
// deadline (--timeout ms, default 30000; then the client says so and exits). --interrupt-after N
// cuts the connection after N bytes of file data, to try resuming.

import { parseArgs } from "node:util";
import { posix } from "node:path";
import { readLines, readSecret } from "../_lines.ts";
import { tutorialClient } from "./_tutorial_client.ts";
import {
  CHUNK,
  hashPrefix,
  newHash,
  partName,
  Progress,
  sha256File,
  Wire,
} from "./_protocol.ts";

/** Raised by --interrupt-after: the transfer was cut on purpose. */
class Interrupted extends Error {}

interface Options {
  progress: boolean;
  interruptAfter: number | undefined;
}

async function put(wire: Wire, local: string, remote: string, opts: Options) {
  const size = (await Deno.stat(local)).size;
  const sha256 = await sha256File(local);
  const { offset } = await wire.request({
    op: "put",
    path: remote,
    size,
    sha256,
  });
  const progress = new Progress(`put ${remote}`, size, offset, opts.progress);
  using file = await Deno.open(local, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  const buffer = new Uint8Array(CHUNK);
  let sent = 0;
  while (true) {
    let n = await file.read(buffer);
    if (n === null) break;
    if (opts.interruptAfter !== undefined && sent + n >= opts.interruptAfter) {
      n = opts.interruptAfter - sent;
      if (n > 0) await wire.sendData(buffer.subarray(0, n));
      throw new Interrupted(
        `put ${remote}: interrupted after ${sent + n} bytes`,
      );
    }
    await wire.sendData(buffer.subarray(0, n));
    sent += n;
    progress.add(n);
  }
  await wire.send({ op: "end" });
  const reply = await wire.receiveMessage();
  progress.finish();
  if (!reply.ok) throw new Error(reply.error);
  if (reply.sha256 !== sha256) {
    throw new Error("Server reported a different checksum");
  }
  const resumed = offset > 0 ? ` (resumed at ${offset})` : "";
  console.log(
    `put ${remote}: ${size} bytes${resumed}, sha256 ${
      sha256.slice(0, 16)
    } verified`,
  );
}

async function get(wire: Wire, remote: string, local: string, opts: Options) {
  const { size, sha256 } = await wire.request({ op: "stat", path: remote });
  const dir = posix.dirname(local);
  const part = posix.join(dir, partName(posix.basename(local), sha256));
  let offset = 0;
  try {
    offset = (await Deno.stat(part)).size;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (offset > size) {
    await Deno.remove(part);
    offset = 0;
  }
  await wire.request({ op: "get", path: remote, offset, sha256 });
  const hash = newHash();
  if (offset > 0) await hashPrefix(part, offset, hash);
  const progress = new Progress(`get ${remote}`, size, offset, opts.progress);
  let received = 0;
  {
    using file = await Deno.open(part, { append: true, create: true });
    while (true) {
      const incoming = await wire.receive();
      if (incoming === null) {
        throw new Error("Connection closed during download");
      }
      if (incoming.kind === "message") {
        if (incoming.message.op !== "end") {
          throw new Error("Unexpected message");
        }
        break;
      }
      let bytes = incoming.bytes;
      if (
        opts.interruptAfter !== undefined &&
        received + bytes.length >= opts.interruptAfter
      ) {
        bytes = bytes.subarray(0, opts.interruptAfter - received);
        await writeAll(file, bytes);
        throw new Interrupted(
          `get ${remote}: interrupted after ${received + bytes.length} bytes`,
        );
      }
      await writeAll(file, bytes);
      hash.update(bytes);
      received += bytes.length;
      progress.add(bytes.length);
    }
  }
  progress.finish();
  const digest = hash.digest();
  if (offset + received !== size || digest !== sha256) {
    await Deno.remove(part);
    throw new Error(
      `Checksum mismatch on "${remote}": the partial file was removed`,
    );
  }
  await Deno.rename(part, local);
  const resumed = offset > 0 ? ` (resumed at ${offset})` : "";
  console.log(
    `get ${remote}: ${size} bytes${resumed}, sha256 ${
      digest.slice(0, 16)
    } verified`,
  );
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

async function run(wire: Wire, line: string, opts: Options): Promise<boolean> {
  const [command, ...args] = line.trim().split(/\s+/);
  switch (command) {
    case "":
      return true;
    case "quit":
    case "exit":
      await wire.request({ op: "quit" });
      return false;
    case "help":
      console.log(
        "commands: pwd, ls [path], cd path, mkdir path, put local [remote], get remote [local], quit",
      );
      return true;
    case "pwd":
      console.log((await wire.request({ op: "pwd" })).cwd);
      return true;
    case "cd":
      console.log(
        (await wire.request({ op: "cd", path: need(args[0], "cd path") })).cwd,
      );
      return true;
    case "mkdir":
      await wire.request({ op: "mkdir", path: need(args[0], "mkdir path") });
      console.log(`created ${args[0]}`);
      return true;
    case "ls": {
      const { entries } = await wire.request({ op: "ls", path: args[0] });
      for (
        const e of entries as { name: string; type: string; size: number }[]
      ) {
        const suffix = e.type === "dir" ? "/" : e.type === "link" ? "@" : "";
        console.log(
          `${e.type.padEnd(4)} ${
            String(e.size).padStart(10)
          }  ${e.name}${suffix}`,
        );
      }
      if (entries.length === 0) console.log("(empty)");
      return true;
    }
    case "put": {
      const local = need(args[0], "put local-file");
      await put(wire, local, args[1] ?? posix.basename(local), opts);
      return true;
    }
    case "get": {
      const remote = need(args[0], "get remote-file");
      await get(wire, remote, args[1] ?? posix.basename(remote), opts);
      return true;
    }
    default:
      console.log(`error: unknown command "${command}" (try help)`);
      return true;
  }
}

function need(value: string | undefined, usage: string): string {
  if (!value) throw new Error(`Usage: ${usage}`);
  return value;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "2121" },
      user: { type: "string" },
      "password-file": { type: "string" },
      progress: { type: "boolean", default: false },
      "interrupt-after": { type: "string" },
      protocol: { type: "string", default: "tutorial" },
      timeout: { type: "string", default: "30000" },
    },
  });
  if (values.protocol !== "tutorial" && values.protocol !== "weft") {
    console.error(
      `Unknown --protocol "${values.protocol}": use tutorial or weft`,
    );
    Deno.exit(2);
  }
  if (!values.user) {
    console.error(
      "Usage: client.ts --user NAME [--password-file FILE] [--port N]",
    );
    Deno.exit(2);
  }
  const interactive = Deno.stdin.isTerminal();
  let password: string;
  if (values["password-file"]) {
    password = (await Deno.readTextFile(values["password-file"])).replace(
      /\r?\n$/,
      "",
    );
  } else if (interactive) {
    password = await readSecret("password: ");
  } else {
    console.error(
      "No password: pass --password-file FILE, or run on a terminal",
    );
    Deno.exit(2);
  }
  const opts: Options = {
    progress: values.progress || Deno.stderr.isTerminal(),
    interruptAfter: values["interrupt-after"] === undefined
      ? undefined
      : Number(values["interrupt-after"]),
  };
  const conn = await Deno.connect({
    hostname: values.hostname,
    port: Number(values.port),
  });
  if (values.protocol === "tutorial") {
    let code = 1;
    try {
      code = await tutorialClient(
        conn,
        values.user,
        password,
        readLines(Deno.stdin.readable),
        { progress: opts.progress, timeout: Number(values.timeout) },
      );
    } catch (error) {
      console.log(`error: ${(error as Error).message}`);
    } finally {
      try {
        conn.close();
      } catch {
        // closed by a timeout
      }
    }
    Deno.exit(code);
  }
  const wire = new Wire(conn);
  wire.timeout = Number(values.timeout);
  let code = 0;
  try {
    const reply = await wire.request({
      op: "login",
      user: values.user,
      password,
    });
    console.log(
      `logged in as ${values.user} (${reply.used} of ${reply.quota} bytes used)`,
    );
    const lines = readLines(Deno.stdin.readable);
    if (interactive) await Deno.stdout.write(new TextEncoder().encode("ftp> "));
    for await (const line of lines) {
      let more = true;
      try {
        more = await run(wire, line, opts);
      } catch (error) {
        if (error instanceof Interrupted) {
          console.log(
            `${error.message} (simulated; run the same command again to resume)`,
          );
          code = 3;
          break;
        }
        if (wire.frames.closed) throw error;
        console.log(`error: ${(error as Error).message}`);
      }
      if (!more) break;
      if (interactive) {
        await Deno.stdout.write(new TextEncoder().encode("ftp> "));
      }
    }
  } catch (error) {
    console.log(`error: ${(error as Error).message}`);
    code = 1;
  } finally {
    wire.close();
  }
  Deno.exit(code);
}
