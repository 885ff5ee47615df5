// The FTP tutorial's own wire protocol (document 001, "FTP服务器"), served
// with this example's hardening underneath. Bytes on the wire are the
// tutorial's, so its unchanged ftp_client.py works:
//
//   step | client sends (one send, no framing)               | server answers
//   -----+---------------------------------------------------+--------------------------------
//   auth | {"action":"auth","username","password"}            | {"status_code": 254} passed,
//        |                                                   | {"status_code": 253} refused
//   put  | {"action":"put","file_name","file_size",           | "802" new file, "801" it exists
//        |  "target_path"}                                   | whole, "800" it exists partly
//        | after "800": "Y" (resume) or "N"                   | after "Y": str(bytes it has)
//        | the file's bytes from there to file_size           | (nothing)
//   ls   | {"action":"ls"}                                    | names joined by "\n", or
//        |                                                   | "<empty dir>"
//   cd   | {"action":"cd","dirname"}                          | the new working folder's path
//   mkdir| {"action":"mkdir","dirname"}                       | "create success" / "dirname exist"
//
// What the server does differently, without changing a byte:
// - Accounts are the PBKDF2 file of adduser.ts, not plain-text passwords in
//   accounts.cfg; logins go through the guessing limits (_guard.ts) and a
//   connection gets 3 attempts.
// - Every path is confined to the user's home (_paths.ts): "cd .." at the
//   home stays there, escapes are refused. `cd` answers a virtual path
//   "/<user>/<folders>" instead of the server's real path (the client only
//   shows its last part).
// - A command before a successful auth, malformed JSON, a message over
//   8 KiB, a bad file name, or a refused upload (quota, busy) closes the
//   connection: the protocol has no way to say no to a put.
// - An upload is read to exactly file_size bytes (the tutorial's server
//   reads 1024-byte chunks and can swallow the next command into the
//   file), written to a partial file, and renamed into place when complete;
//   a partial upload is resumed from that partial file. Two uploads of one
//   file never interleave (the second waits), and the quota holds under
//   concurrency and counts folders (_storage.ts).
// - A message for an unknown action is ignored, as in the tutorial.

import { posix } from "node:path";
import type { ServedConnection } from "../../net/mod.ts";
import type { Account, AccountsFile } from "./_accounts.ts";
import type { LoginGuard } from "./_guard.ts";
import { Home, UserError } from "./_paths.ts";
import { Quota, uploads } from "./_storage.ts";

const MAX_MESSAGE = 8 * 1024;
const MAX_ATTEMPTS = 3;
const UPLOAD_WAIT = 30_000;
const HOME_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the session needs from the server. */
export interface TutorialContext {
  accounts: AccountsFile;
  root: string;
  guard: LoginGuard;
  log: (line: string) => void;
  checkLogin(
    user: string,
    password: string,
    address: string,
  ): Promise<Account | string>;
}

/** The tutorial has no error replies: this ends the connection. */
class Hangup extends Error {}

/** Reads the unframed stream: JSON messages, short answers, file bytes. */
class Reader {
  #pending = new Uint8Array(0);
  constructor(readonly conn: ServedConnection) {}

  /** Up to `max` bytes: buffered ones first, else one recv(); empty at EOF. */
  async some(max: number): Promise<Uint8Array> {
    if (this.#pending.length) {
      const out = this.#pending.subarray(0, max);
      this.#pending = this.#pending.subarray(out.length);
      return out;
    }
    return await this.conn.recv(Math.min(max, 64 * 1024));
  }

  /** One JSON object (the tutorial's recv(1024) + json.loads); null at EOF. */
  async message(): Promise<Record<string, unknown> | null> {
    let buffer = new Uint8Array(0);
    while (true) {
      const data = await this.some(MAX_MESSAGE);
      if (data.length === 0) {
        if (buffer.length === 0) return null;
        throw new Hangup("the client closed inside a message");
      }
      const grown = new Uint8Array(buffer.length + data.length);
      grown.set(buffer);
      grown.set(data, buffer.length);
      buffer = grown;
      try {
        const value = JSON.parse(decoder.decode(buffer).trim());
        if (
          typeof value !== "object" || value === null || Array.isArray(value)
        ) {
          throw new Hangup("a message that is not a JSON object");
        }
        return value;
      } catch (error) {
        if (error instanceof Hangup) throw error;
        if (buffer.length >= MAX_MESSAGE) {
          throw new Hangup("a message that is not JSON (or over 8 KiB)");
        }
        // maybe not all of it has arrived yet: read more
      }
    }
  }

  /** A short text answer ("Y", "N"). */
  async answer(): Promise<string> {
    return decoder.decode(await this.some(1024)).trim();
  }
}

/** One connection speaking the tutorial's protocol. */
class TutorialSession {
  user: string | undefined;
  account: Account | undefined;
  home: Home | undefined;
  cwd = "/";
  attempts = 0;
  readonly reader: Reader;

  constructor(readonly conn: ServedConnection, readonly ctx: TutorialContext) {
    this.reader = new Reader(conn);
  }

  log(text: string): void {
    this.ctx.log(`${this.user ?? this.conn.remoteAddr.hostname}: ${text}`);
  }

  send(text: string): Promise<void> {
    return this.conn.sendall(encoder.encode(text));
  }

  async run(): Promise<void> {
    while (true) {
      const m = await this.reader.message();
      if (m === null) return;
      const action = m.action;
      if (action === "auth") {
        await this.auth(m);
        continue;
      }
      if (!this.home) throw new Hangup(`"${String(action)}" before auth`);
      switch (action) {
        case "put":
          await this.put(m);
          break;
        case "ls":
          await this.ls();
          break;
        case "cd":
          await this.cd(m);
          break;
        case "mkdir":
          await this.mkdir(m);
          break;
        default:
          this.log(`Invalid cmd ${JSON.stringify(action)}`); // no reply, as in the tutorial
      }
    }
  }

  async auth(m: Record<string, unknown>): Promise<void> {
    const user = String(m.username ?? "").slice(0, 256);
    const result = await this.ctx.checkLogin(
      user,
      String(m.password ?? "").slice(0, 1024),
      this.conn.remoteAddr.hostname,
    );
    if (typeof result === "string" || !HOME_NAME.test(result.home)) {
      await this.send(JSON.stringify({ status_code: 253 }));
      if (++this.attempts >= MAX_ATTEMPTS) {
        throw new Hangup(`${MAX_ATTEMPTS} failed logins`);
      }
      return;
    }
    const homePath = posix.join(this.ctx.root, result.home);
    await Deno.mkdir(homePath, { recursive: true });
    this.user = user;
    this.account = result;
    this.home = new Home(await Deno.realPath(homePath));
    this.cwd = "/";
    this.log("passed authenticate");
    await this.send(JSON.stringify({ status_code: 254 }));
  }

  /** The path `cd` answers: "/<user>/<folders>". */
  shownPath(): string {
    return `/${this.user}${this.cwd === "/" ? "" : this.cwd}`;
  }

  async ls(): Promise<void> {
    const { real } = await this.home!.resolve(this.cwd, ".");
    const names = [];
    for await (const entry of Deno.readDir(real)) {
      if (entry.name.startsWith(".") && entry.name.endsWith(".part")) continue;
      names.push(entry.name);
    }
    names.sort();
    await this.send(names.length ? names.join("\n") : "<empty dir>");
  }

  async cd(m: Record<string, unknown>): Promise<void> {
    const dirname = m.dirname;
    try {
      if (typeof dirname !== "string" || dirname.length > 4096) {
        throw new UserError("Invalid dirname");
      }
      const target = await this.home!.resolve(this.cwd, dirname);
      if (!target.exists || !(await Deno.stat(target.real)).isDirectory) {
        throw new UserError(`Not a directory: "${dirname}"`);
      }
      this.cwd = target.virtual;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.log(`cd refused: ${error.message}`); // the path stays as it was
    }
    await this.send(this.shownPath());
  }

  async mkdir(m: Record<string, unknown>): Promise<void> {
    const dirname = m.dirname;
    let reply: string;
    try {
      if (typeof dirname !== "string" || !dirname || dirname.length > 4096) {
        throw new UserError("Invalid dirname");
      }
      const target = await this.home!.resolve(this.cwd, dirname);
      if (target.exists) {
        reply = "dirname exist";
      } else {
        // os.makedirs: count the folders that will be created.
        let missing = 0;
        for (let v = target.virtual; v !== "/"; v = posix.dirname(v)) {
          if ((await this.home!.resolve("/", v)).exists) break;
          missing++;
        }
        await Quota.of(this.home!.realRoot).mkdir(
          missing,
          this.account!.quota,
          () => Deno.mkdir(target.real, { recursive: true }),
        );
        this.log(`mkdir ${target.virtual}`);
        reply = "create success";
      }
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.log(`mkdir refused: ${error.message}`);
      reply = error.message; // the tutorial's client ignores this reply
    }
    await this.send(reply);
  }

  async put(m: Record<string, unknown>): Promise<void> {
    const name = m.file_name;
    const size = m.file_size;
    const targetPath = m.target_path ?? ".";
    if (
      typeof name !== "string" || !name || name.length > 255 ||
      /[/\\\0]/.test(name) || name === "." || name === ".." ||
      typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 ||
      typeof targetPath !== "string" || targetPath.length > 4096
    ) {
      throw new Hangup("a put with a bad file_name, file_size or target_path");
    }
    let target;
    try {
      target = await this.home!.resolve(
        this.cwd,
        posix.join(targetPath || ".", name),
      );
    } catch (error) {
      if (error instanceof UserError) throw new Hangup(error.message);
      throw error;
    }
    const unlock = await uploads.acquire(target.real, UPLOAD_WAIT).catch(
      (error) => {
        throw new Hangup((error as Error).message);
      },
    );
    try {
      await this.#put(target, name, size);
    } finally {
      unlock();
    }
  }

  async #put(
    target: { virtual: string; real: string; exists: boolean },
    name: string,
    size: number,
  ): Promise<void> {
    const part = posix.join(posix.dirname(target.real), `.${name}.part`);
    let existing = -1;
    try {
      const info = await Deno.stat(target.real);
      if (info.isDirectory) throw new Hangup(`put onto a folder`);
      existing = info.size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    let partSize = -1;
    try {
      partSize = (await Deno.lstat(part)).size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    // The tutorial's codes, with an interrupted upload's partial file
    // standing in for the tutorial's half-written target.
    let have = -1;
    if (partSize >= 0 && partSize < size) have = partSize;
    else if (existing >= size) {
      await this.send("801");
      this.log(`put ${target.virtual}: exists already`);
      return;
    } else if (existing >= 0) {
      have = existing;
    }
    let reservation;
    try {
      reservation = await Quota.of(this.home!.realRoot).reserve(
        part,
        size,
        Math.max(existing, 0),
        this.account!.quota,
      );
    } catch (error) {
      if (error instanceof UserError) throw new Hangup(error.message);
      throw error;
    }
    try {
      let offset = 0;
      if (have >= 0) {
        await this.send("800");
        if ((await this.reader.answer()).toUpperCase() === "Y") {
          if (have !== partSize) await Deno.copyFile(target.real, part);
          offset = have;
          await this.send(String(offset));
        }
      } else {
        await this.send("802");
      }
      if (offset === 0) {
        await Deno.writeFile(part, new Uint8Array(0));
      }
      let received = offset;
      {
        using file = await Deno.open(part, { append: true });
        while (received < size) {
          const data = await this.reader.some(size - received);
          if (data.length === 0) {
            this.log(
              `put ${target.virtual} interrupted at ${received} of ${size}`,
            );
            throw new Hangup("the client left during an upload");
          }
          let done = 0;
          while (done < data.length) {
            done += await file.write(data.subarray(done));
          }
          received += data.length;
        }
      }
      await reservation.commit(part, target.real);
      this.log(`put ${target.virtual} ${size} bytes (resumed at ${offset})`);
    } finally {
      await reservation.release();
    }
  }
}

/** Serves one connection in the tutorial's protocol. */
export async function serveTutorial(
  conn: ServedConnection,
  ctx: TutorialContext,
): Promise<void> {
  const session = new TutorialSession(conn, ctx);
  try {
    await session.run();
  } catch (error) {
    if (error instanceof Hangup) session.log(`closing: ${error.message}`);
    else if (error instanceof Deno.errors.TimedOut) {
      session.log("idle, dropped");
    } else session.log(`connection ended: ${(error as Error).message}`);
  }
}
