// An FTP-like file server: users log in with a password checked against
// salted PBKDF2 hashes, are confined to their home folder (no escape by
// "..", absolute paths or symlinks), and can ls, cd, mkdir and put (and,
// in weft's protocol, get) within a per-user quota. Many clients are
// served at once by weft's serveTcp.
//
// Two wire protocols (--protocol):
//   tutorial (default)  the FTP tutorial's own bytes (unframed JSON
//       commands, "800"/"801"/"802" upload codes, resume by "Y"), so its
//       unchanged Python client works; see _tutorial_session.ts for the
//       table and for what is hardened underneath without changing a byte.
//       It is the default because it is the protocol the tutorial teaches.
//   weft  the hardened variant: every message a LengthPrefixCodec frame,
//       get as well as put, resumable both ways, SHA-256 checked end to
//       end, an error reply for every refusal (_protocol.ts).
// Both: password-guessing limits (5 failures per user or address, then a
// lockout of --lockout seconds; _guard.ts), uploads that are atomic and
// never interleave, and a quota that holds under concurrent uploads and
// counts folders (_storage.ts). Passwords cross the connection as sent in
// both protocols (no TLS): keep the server on loopback or behind TLS.
//
//   deno run --allow-net=127.0.0.1 --allow-read=ftp-root,accounts.json \
//     --allow-write=ftp-root examples/ftp/server.ts \
//     --root ftp-root --accounts accounts.json [--protocol tutorial|weft] \
//     [--port 2121] [--hostname 127.0.0.1] [--lockout 60]
//
// Create accounts first with examples/ftp/adduser.ts; talk to the server
// with examples/ftp/client.ts (its partner program, same --protocol) or the
// tutorial's ftp_client.py. Prints "ftp server listening on HOST:PORT"
// once ready (--port 0 picks a port). Ctrl-C shuts it down.

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
import { Home, UserError } from "./_paths.ts";
import { Quota, uploads } from "./_storage.ts";
import { LoginGuard, type LoginGuardOptions } from "./_guard.ts";
import { serveTutorial } from "./_tutorial_session.ts";
import {
  hashPrefix,
  type Message,
  newHash,
  partName,
  sha256File,
  Wire,
} from "./_protocol.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** How long an upload waits for another upload of the same file. */
const UPLOAD_WAIT = 30_000;
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
    await Quota.of(this.home.realRoot).mkdir(
      1,
      this.account.quota,
      () => Deno.mkdir(target.real),
    );
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
    // One upload per file at a time: a second one waits for the first.
    const unlock = await uploads.acquire(target.real, UPLOAD_WAIT);
    try {
      return await this.#put(path, size, sha256, target);
    } finally {
      unlock();
    }
  }

  async #put(
    path: string,
    size: number,
    sha256: string,
    target: { virtual: string; real: string; exists: boolean },
  ): Promise<Message> {
    if (!target.exists) {
      // it may have been created while this upload waited for the lock
      target = await this.home.resolve(this.cwd, path);
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
    const reservation = await Quota.of(this.home.realRoot).reserve(
      part.real,
      size,
      existing,
      this.account.quota,
    );
    try {
      return await this.#receive(target, part.real, offset, size, sha256, {
        commit: () => reservation.commit(part.real, target.real),
      });
    } finally {
      await reservation.release();
    }
  }

  async #receive(
    target: { virtual: string; real: string },
    part: string,
    offset: number,
    size: number,
    sha256: string,
    done: { commit(): Promise<void> },
  ): Promise<Message> {
    await this.wire.send({ ok: true, offset });

    const hash = newHash();
    if (offset > 0) await hashPrefix(part, offset, hash);
    let received = offset;
    {
      using file = await Deno.open(part, { append: true, create: true });
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
          await Deno.remove(part).catch(() => {});
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
      await Deno.remove(part).catch(() => {});
      throw new UserError(
        `Checksum mismatch: got ${received} bytes with sha256 ${digest}`,
      );
    }
    await done.commit(); // the rename: atomic, and counted by the quota
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

/**
 * Checks a password under the guessing limits; returns the account, or the
 * error text to send.
 */
export async function checkLogin(
  guard: LoginGuard,
  accounts: AccountsFile,
  user: string,
  password: string,
  address: string,
  log: (line: string) => void,
): Promise<Account | string> {
  const attempt = guard.begin(user, address);
  if (typeof attempt === "number") {
    log(`login refused for "${user}" from ${address}: locked out`);
    return `Login failed: too many failed logins, try again in ${attempt} s`;
  }
  const account = await verifyLogin(accounts, user, password);
  if (!account) {
    log(`login refused for "${user}" from ${address}`);
    await attempt.fail(); // also slows the client down
    return "Login failed: wrong user name or password";
  }
  attempt.succeed();
  return account;
}

async function login(
  wire: Wire,
  accounts: AccountsFile,
  root: string,
  log: (line: string) => void,
  guard: LoginGuard,
  address: string,
): Promise<Session | undefined> {
  const m = await wire.receive();
  if (m === null || m.kind !== "message" || m.message.op !== "login") {
    return undefined;
  }
  const user = String(m.message.user ?? "").slice(0, 256);
  const account = await checkLogin(
    guard,
    accounts,
    user,
    String(m.message.password ?? "").slice(0, 1024),
    address,
    log,
  );
  if (typeof account === "string") {
    // The connection gets one attempt.
    await wire.send({ ok: false, error: account });
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
  const used = await Quota.of(session.home.realRoot).used();
  await wire.send({ ok: true, cwd: "/", quota: account.quota, used });
  session.log("logged in");
  return session;
}

async function serve(
  conn: ServedConnection,
  accounts: AccountsFile,
  root: string,
  log: (line: string) => void,
  guard: LoginGuard,
) {
  const wire = new Wire(conn);
  try {
    const session = await login(
      wire,
      accounts,
      root,
      log,
      guard,
      conn.remoteAddr.hostname,
    );
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
  /** Wire protocol: the tutorial's (default) or weft's framed one. */
  protocol?: "tutorial" | "weft";
  /** Password-guessing limits. */
  guard?: LoginGuardOptions;
}

/** Starts the server (also used by the demo); `server.addr` has the port. */
export async function startFtpServer(
  options: FtpServerOptions,
): Promise<TcpServer> {
  const accounts = await loadAccounts(options.accounts);
  await Deno.mkdir(options.root, { recursive: true });
  const root = await Deno.realPath(options.root);
  const log = options.log ?? console.log;
  const guard = new LoginGuard(options.guard);
  const protocol = options.protocol ?? "tutorial";
  return await serveTcp({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    idleTimeout: 120_000,
    handler: (conn) =>
      protocol === "weft"
        ? serve(conn, accounts, root, log, guard)
        : serveTutorial(conn, {
          accounts,
          root,
          guard,
          log,
          checkLogin: (user, password, address) =>
            checkLogin(guard, accounts, user, password, address, log),
        }),
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
      protocol: { type: "string", default: "tutorial" },
      lockout: { type: "string", default: "60" },
    },
  });
  const protocol = values.protocol;
  if (protocol !== "tutorial" && protocol !== "weft") {
    console.error(`Unknown --protocol "${protocol}": use tutorial or weft`);
    Deno.exit(2);
  }
  const lockout = Number(values.lockout);
  if (!Number.isFinite(lockout) || lockout < 0) {
    console.error(`Invalid --lockout "${values.lockout}" (seconds)`);
    Deno.exit(2);
  }
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
    protocol,
    guard: { lockout: lockout * 1000 },
  });
  console.log(
    `ftp server listening on ${server.addr.hostname}:${server.addr.port}`,
  );
  Deno.addSignalListener("SIGINT", () => server.shutdown());
  await server.finished;
}
