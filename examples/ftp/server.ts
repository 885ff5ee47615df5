// An FTP-like file server: users log in with a password checked against
// salted PBKDF2 hashes, are confined to their home folder (no escape by
// "..", absolute paths or symlinks), and can ls, cd, mkdir, put and get
// within a per-user quota. Uploads and downloads resume after an
// interruption and are verified with SHA-256. Many clients are served at
// once by weft's serveTcp; every message is a LengthPrefixCodec frame (see
// _protocol.ts for the conversation, _paths.ts for the confinement rules).
//
//   deno run --allow-net=127.0.0.1 --allow-read=ftp-root,accounts.json \
//     --allow-write=ftp-root examples/ftp/server.ts \
//     --root ftp-root --accounts accounts.json [--port 2121] [--hostname 127.0.0.1]
//
// Create accounts first with examples/ftp/adduser.ts; talk to the server
// with examples/ftp/client.ts (its partner program). Prints
// "ftp server listening on HOST:PORT" once ready (--port 0 picks a port).
// Ctrl-C shuts it down.

import { parseArgs } from "node:util";
import { posix } from "node:path";
import {
  type ServedConnection,
  serveTcp,
  type TcpServer,
} from "../../net/mod.ts";
import {
  type Account,
  type AccountsFile,
  loadAccounts,
  verifyLogin,
} from "./_accounts.ts";
import { Home, usedBytes, UserError } from "./_paths.ts";
import {
  hashPrefix,
  type Message,
  newHash,
  partName,
  sha256File,
  Wire,
} from "./_protocol.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const HOME_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The peer went away in the middle of a transfer. */
class Interrupted extends Error {}

/** One logged-in user's connection. */
class Session {
  cwd = "/";
  constructor(
    readonly wire: Wire,
    readonly user: string,
    readonly account: Account,
    readonly home: Home,
    readonly logger: (line: string) => void,
  ) {}

  log(text: string): void {
    this.logger(`${this.user}: ${text}`);
  }

  async handle(m: Message): Promise<Message | undefined> {
    switch (m.op) {
      case "pwd":
        return { ok: true, cwd: this.cwd };
      case "cd":
        return await this.cd(text(m.path, "path"));
      case "ls":
        return await this.ls(m.path === undefined ? "." : text(m.path, "path"));
      case "mkdir":
        return await this.mkdir(text(m.path, "path"));
      case "put":
        return await this.put(m);
      case "stat":
        return await this.stat(text(m.path, "path"));
      case "get":
        return await this.get(m);
      default:
        throw new UserError(`Unknown command "${String(m.op)}"`);
    }
  }

  async cd(path: string): Promise<Message> {
    const target = await this.home.resolve(this.cwd, path);
    if (!target.exists || !(await Deno.stat(target.real)).isDirectory) {
      throw new UserError(`Not a directory: "${path}"`);
    }
    this.cwd = target.virtual;
    return { ok: true, cwd: this.cwd };
  }

  async ls(path: string): Promise<Message> {
    const target = await this.home.resolve(this.cwd, path);
    if (!target.exists) {
      throw new UserError(`No such file or directory: "${path}"`);
    }
    const info = await Deno.stat(target.real);
    const entries = [];
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(target.real)) {
        const stat = await Deno.lstat(posix.join(target.real, entry.name));
        entries.push({
          name: entry.name,
          type: stat.isSymlink ? "link" : stat.isDirectory ? "dir" : "file",
          size: stat.size,
        });
      }
      entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    } else {
      entries.push({
        name: posix.basename(target.virtual),
        type: "file",
        size: info.size,
      });
    }
    return { ok: true, entries };
  }

  async mkdir(path: string): Promise<Message> {
    const target = await this.home.resolve(this.cwd, path);
    if (target.exists) throw new UserError(`Already exists: "${path}"`);
    await Deno.mkdir(target.real);
    this.log(`mkdir ${target.virtual}`);
    return { ok: true };
  }

  async put(m: Message): Promise<Message> {
    const path = text(m.path, "path");
    const size = m.size;
    const sha256 = m.sha256;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new UserError("Invalid size");
    }
    if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256)) {
      throw new UserError("Invalid sha256");
    }
    const target = await this.home.resolve(this.cwd, path);
    if (target.virtual === "/") {
      throw new UserError(`Is a directory: "${path}"`);
    }
    let existing = 0;
    if (target.exists) {
      const info = await Deno.stat(target.real);
      if (info.isDirectory) throw new UserError(`Is a directory: "${path}"`);
      existing = info.size;
    }
    const partVirtual = posix.join(
      posix.dirname(target.virtual),
      partName(posix.basename(target.virtual), sha256),
    );
    const part = await this.home.resolve("/", partVirtual);
    let offset = part.exists ? (await Deno.stat(part.real)).size : 0;
    if (offset > size) {
      await Deno.remove(part.real);
      offset = 0;
    }
    const used = await usedBytes(this.home.realRoot);
    if (used - existing + (size - offset) > this.account.quota) {
      throw new UserError(
        `Quota exceeded: ${size - offset} more bytes would make ${
          used - existing + size - offset
        } of ${this.account.quota}`,
      );
    }
    await this.wire.send({ ok: true, offset });

    const hash = newHash();
    if (offset > 0) await hashPrefix(part.real, offset, hash);
    let received = offset;
    {
      using file = await Deno.open(part.real, { append: true, create: true });
      while (true) {
        const incoming = await this.wire.receive();
        if (incoming === null) {
          this.log(
            `put ${target.virtual} interrupted at ${received} of ${size} bytes`,
          );
          throw new Interrupted();
        }
        if (incoming.kind === "message") {
          if (incoming.message.op !== "end") {
            throw new UserError("Expected file data");
          }
          break;
        }
        received += incoming.bytes.length;
        if (received > size) {
          await Deno.remove(part.real).catch(() => {});
          throw new UserError(
            `Upload is larger than the announced ${size} bytes`,
          );
        }
        await writeAll(file, incoming.bytes);
        hash.update(incoming.bytes);
      }
    }
    const digest = hash.digest();
    if (received !== size || digest !== sha256) {
      await Deno.remove(part.real).catch(() => {});
      throw new UserError(
        `Checksum mismatch: got ${received} bytes with sha256 ${digest}`,
      );
    }
    await Deno.rename(part.real, target.real);
    this.log(
      `put ${target.virtual} ${size} bytes (resumed at ${offset}), sha256 verified`,
    );
    return { ok: true, size, sha256: digest };
  }

  async #file(
    path: string,
  ): Promise<{ virtual: string; real: string; size: number }> {
    const target = await this.home.resolve(this.cwd, path);
    if (!target.exists) throw new UserError(`No such file: "${path}"`);
    const info = await Deno.stat(target.real);
    if (!info.isFile) throw new UserError(`Not a file: "${path}"`);
    return { virtual: target.virtual, real: target.real, size: info.size };
  }

  async stat(path: string): Promise<Message> {
    const file = await this.#file(path);
    return { ok: true, size: file.size, sha256: await sha256File(file.real) };
  }

  async get(m: Message): Promise<Message | undefined> {
    const file = await this.#file(text(m.path, "path"));
    const offset = m.offset;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > file.size) {
      throw new UserError("Invalid offset");
    }
    if (m.sha256 !== await sha256File(file.real)) {
      throw new UserError("File changed since stat: start the download again");
    }
    await this.wire.send({ ok: true, size: file.size });
    using f = await Deno.open(file.real, { read: true });
    await f.seek(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await f.read(buffer);
        if (n === null) break;
        await this.wire.sendData(buffer.subarray(0, n));
      }
      await this.wire.send({ op: "end" });
    } catch (error) {
      this.log(`get ${file.virtual} interrupted: ${(error as Error).message}`);
      throw new Interrupted();
    }
    this.log(
      `get ${file.virtual} ${file.size - offset} bytes from offset ${offset}`,
    );
    return undefined; // the "end" message was the reply
  }
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 4096) {
    throw new UserError(`Invalid ${name}`);
  }
  return value;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

function describe(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof Deno.errors.NotFound) return "No such file or directory";
  if (error instanceof Deno.errors.AlreadyExists) return "Already exists";
  if (error instanceof Deno.errors.NotADirectory) return "Not a directory";
  return "Internal server error";
}

async function login(
  wire: Wire,
  accounts: AccountsFile,
  root: string,
  log: (line: string) => void,
): Promise<Session | undefined> {
  const m = await wire.receive();
  if (m === null || m.kind !== "message" || m.message.op !== "login") {
    return undefined;
  }
  const user = String(m.message.user ?? "");
  const account = await verifyLogin(
    accounts,
    user,
    String(m.message.password ?? ""),
  );
  if (!account) {
    log(`login refused for "${user}"`);
    // Slow down password guessing; the connection gets one attempt.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await wire.send({
      ok: false,
      error: "Login failed: wrong user name or password",
    });
    return undefined;
  }
  if (!HOME_NAME.test(account.home)) {
    await wire.send({ ok: false, error: "Account has an invalid home folder" });
    return undefined;
  }
  const homePath = posix.join(root, account.home);
  await Deno.mkdir(homePath, { recursive: true });
  const session = new Session(
    wire,
    user,
    account,
    new Home(await Deno.realPath(homePath)),
    log,
  );
  const used = await usedBytes(session.home.realRoot);
  await wire.send({ ok: true, cwd: "/", quota: account.quota, used });
  session.log("logged in");
  return session;
}

async function serve(
  conn: ServedConnection,
  accounts: AccountsFile,
  root: string,
  log: (line: string) => void,
) {
  const wire = new Wire(conn);
  try {
    const session = await login(wire, accounts, root, log);
    if (!session) return;
    while (true) {
      const incoming = await wire.receive();
      if (incoming === null) return;
      if (incoming.kind !== "message") {
        throw new UserError("Unexpected file data");
      }
      if (incoming.message.op === "quit") {
        await wire.send({ ok: true });
        return;
      }
      let reply: Message | undefined;
      try {
        reply = await session.handle(incoming.message);
      } catch (error) {
        if (error instanceof Interrupted) return;
        if (wire.frames.closed) throw error; // the connection is gone
        if (!(error instanceof UserError)) {
          log(`error: ${(error as Error).stack}`);
        }
        reply = { ok: false, error: describe(error) };
      }
      if (reply) await wire.send(reply);
    }
  } catch (error) {
    if (!(error instanceof Interrupted)) {
      log(`connection ended: ${(error as Error).message}`);
    }
  } finally {
    wire.close();
  }
}

/** Options of {@linkcode startFtpServer}. */
export interface FtpServerOptions {
  /** Folder holding every user's home folder. */
  root: string;
  /** Path of the accounts file (see _accounts.ts). */
  accounts: string;
  hostname?: string;
  port?: number;
  /** Where log lines go (default console.log). */
  log?: (line: string) => void;
}

/** Starts the server (also used by the demo); `server.addr` has the port. */
export async function startFtpServer(
  options: FtpServerOptions,
): Promise<TcpServer> {
  const accounts = await loadAccounts(options.accounts);
  await Deno.mkdir(options.root, { recursive: true });
  const root = await Deno.realPath(options.root);
  return await serveTcp({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    idleTimeout: 120_000,
    handler: (conn) => serve(conn, accounts, root, options.log ?? console.log),
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string" },
      accounts: { type: "string" },
      port: { type: "string", default: "2121" },
      hostname: { type: "string", default: "127.0.0.1" },
    },
  });
  if (!values.root || !values.accounts) {
    console.error(
      "Usage: server.ts --root DIR --accounts FILE [--port N] [--hostname H]",
    );
    Deno.exit(2);
  }
  const server = await startFtpServer({
    root: values.root,
    accounts: values.accounts,
    hostname: values.hostname,
    port: Number(values.port),
  });
  console.log(
    `ftp server listening on ${server.addr.hostname}:${server.addr.port}`,
  );
  Deno.addSignalListener("SIGINT", () => server.shutdown());
  await server.finished;
}
