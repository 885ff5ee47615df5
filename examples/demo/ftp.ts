// Demo step: the FTP-like example end to end. The server runs here; the
// client runs as a real child process, is interrupted mid-upload, then
// resumes, downloads the file back and verifies SHA-256 both ways.
import { makeAccount, saveAccounts } from "../ftp/_accounts.ts";
import { startFtpServer } from "../ftp/server.ts";
import type { DemoStep } from "./step.ts";

const CLIENT = new URL("../ftp/client.ts", import.meta.url).pathname;

async function client(
  port: number,
  dir: string,
  commands: string[],
  extra: string[] = [],
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      CLIENT,
      "--user",
      "demo",
      "--password-file",
      `${dir}/password`,
      "--port",
      String(port),
      "--protocol",
      "weft",
      ...extra,
    ],
    cwd: `${dir}/local`,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(commands.join("\n") + "\n"));
  await writer.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    const out = await child.output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  } finally {
    clearTimeout(timer);
  }
}

export const step: DemoStep = {
  title: "net: FTP-like server, interrupted upload resumed, SHA-256 verified",
  async run() {
    const dir = await Deno.makeTempDir({ prefix: "weft_demo_ftp_" });
    try {
      const password = crypto.randomUUID();
      await Deno.writeTextFile(`${dir}/password`, password, { mode: 0o600 });
      await saveAccounts(`${dir}/accounts.json`, {
        users: { demo: await makeAccount(password, "demo", 8 * 1024 * 1024) },
      });
      await Deno.mkdir(`${dir}/local`);
      const data = new Uint8Array(1024 * 1024);
      for (let i = 0; i < data.length; i += 65536) {
        crypto.getRandomValues(data.subarray(i, i + 65536));
      }
      await Deno.writeFile(`${dir}/local/data.bin`, data);
      const log: string[] = [];
      await using server = await startFtpServer({
        protocol: "weft",
        root: `${dir}/root`,
        accounts: `${dir}/accounts.json`,
        log: (line) => log.push(line),
      });
      const port = server.addr.port;
      const cut = await client(port, dir, ["put data.bin"], [
        "--interrupt-after",
        "300000",
      ]);
      if (cut.code !== 3) {
        throw new Error(
          `The interrupted client exited ${cut.code}: ${cut.stdout}`,
        );
      }
      const rest = await client(port, dir, [
        "put data.bin",
        "get data.bin copy.bin",
        "cd ..",
        "quit",
      ]);
      if (rest.code !== 0) {
        throw new Error(`The client exited ${rest.code}: ${rest.stdout}`);
      }
      const checks = [
        /put data\.bin: 1048576 bytes \(resumed at 300000\), sha256 \w+ verified/,
        /get data\.bin: 1048576 bytes, sha256 \w+ verified/,
        /error: Permission denied: "\.\." is outside your home directory/,
      ];
      for (const check of checks) {
        if (!check.test(rest.stdout)) {
          throw new Error(`Missing ${check} in:\n${rest.stdout}`);
        }
      }
      const copy = await Deno.readFile(`${dir}/local/copy.bin`);
      if (copy.length !== data.length || !copy.every((b, i) => b === data[i])) {
        throw new Error("The downloaded copy differs");
      }
      return [
        "1 MiB upload cut at 300000 bytes, resumed from there: SHA-256 verified by server and client",
        "downloaded back byte-identical; `cd ..` out of the home was refused",
        `server log: ${log.length} lines, e.g. "${
          log.find((l) => l.includes("resumed"))
        }"`,
      ];
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
};
