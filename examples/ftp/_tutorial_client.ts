// client.ts --protocol tutorial: the FTP tutorial's client side, speaking
// its bytes (see _tutorial_session.ts for the table), so it works against
// the tutorial's unchanged Python server and against server.ts.
//
// Commands, one per line: ls | cd DIR | mkdir DIR | put LOCAL [TARGET_DIR] |
// quit. When the server says a file exists partly ("800"), the next input
// line answers the tutorial's "is continue?[Y/N]" question.
//
// Differences that change no byte: every reply has a deadline; after an
// upload the client pauses 200 ms before the next command, because the
// tutorial's server reads the file in 1024-byte chunks and would swallow a
// command sent right behind the data into the file (this protocol has no
// framing to prevent it, and no reply to wait for).

import { posix } from "node:path";
import { recv, sendall } from "../../net/mod.ts";
import { CHUNK, Progress } from "./_protocol.ts";

const STATUS: Record<number, string> = {
  253: "Wrong username or password",
  254: "Passed authentication",
};

/** Options of {@linkcode tutorialClient}. */
export interface TutorialClientOptions {
  progress: boolean;
  /** Milliseconds to wait for each reply. */
  timeout: number;
}

/** Runs the session; returns the exit code. */
export async function tutorialClient(
  conn: Deno.TcpConn,
  user: string,
  password: string,
  input: AsyncIterator<string>,
  opts: TutorialClientOptions,
): Promise<number> {
  const decoder = new TextDecoder();
  const reply = async () =>
    decoder.decode(await recv(conn, 64 * 1024, { timeout: opts.timeout }));
  const send = (value: unknown) =>
    sendall(conn, typeof value === "string" ? value : JSON.stringify(value));

  await send({ action: "auth", username: user, password });
  let text = "";
  let status: { status_code?: number } | undefined;
  while (status === undefined) {
    const more = await reply();
    if (!more) throw new Error("Connection closed by the server");
    text += more;
    try {
      status = JSON.parse(text);
    } catch {
      if (text.length > 8192) throw new Error("Unreadable auth reply");
    }
  }
  const code = status?.status_code ?? 0;
  console.log(STATUS[code] ?? `status ${code}`);
  if (code !== 254) return 1;

  let cwd = user;
  while (true) {
    const next = await input.next();
    if (next.done) return 0;
    const [command, ...args] = next.value.trim().split(/\s+/);
    switch (command) {
      case "":
        continue;
      case "quit":
      case "exit":
        return 0;
      case "ls":
        await send({ action: "ls" });
        console.log(await reply());
        break;
      case "cd":
        if (!args[0]) {
          console.log("usage: cd DIR");
          break;
        }
        await send({ action: "cd", dirname: args[0] });
        cwd = posix.basename(await reply());
        console.log(`[${cwd}]`);
        break;
      case "mkdir":
        if (!args[0]) {
          console.log("usage: mkdir DIR");
          break;
        }
        await send({ action: "mkdir", dirname: args[0] });
        console.log(await reply());
        break;
      case "put":
        if (!args[0]) {
          console.log("usage: put LOCAL [TARGET_DIR]");
          break;
        }
        await put(args[0], args[1] ?? ".");
        break;
      default:
        console.log(`unknown command "${command}"`);
    }
  }

  async function put(local: string, target: string): Promise<void> {
    const size = (await Deno.stat(local)).size;
    const name = posix.basename(local);
    await send({
      action: "put",
      file_name: name,
      file_size: size,
      target_path: target,
    });
    const code = await reply();
    let offset = 0;
    if (code === "800") {
      console.log("the file exist,but not enough,is continue?[Y/N]");
      const answer = await input.next();
      if (!answer.done && answer.value.trim().toUpperCase() === "Y") {
        await send("Y");
        offset = Number(await reply());
        if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
          throw new Error("The server sent a bad resume offset");
        }
      } else {
        await send("N");
      }
    } else if (code === "801") {
      console.log("the file exist");
      return;
    } else if (code !== "802") {
      throw new Error(`Unexpected reply to put: ${JSON.stringify(code)}`);
    }
    const progress = new Progress(`put ${name}`, size, offset, opts.progress);
    using file = await Deno.open(local, { read: true });
    await file.seek(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(CHUNK);
    let sent = offset;
    while (sent < size) {
      const n = await file.read(
        buffer.subarray(0, Math.min(CHUNK, size - sent)),
      );
      if (n === null) throw new Error(`${local} shrank while being sent`);
      await sendall(conn, buffer.subarray(0, n));
      sent += n;
      progress.add(n);
    }
    progress.finish();
    const resumed = offset > 0 ? `, resumed at ${offset}` : "";
    console.log(`successfully upload! (${name}: ${size} bytes${resumed})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
