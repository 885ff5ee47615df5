import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { example, runExample, startProgram } from "./_program.ts";
import { makeAccount, saveAccounts } from "../../examples/ftp/_accounts.ts";

const PASSWORD = "correct horse battery staple";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

async function setup(quota = 1_000_000) {
  const dir = await Deno.makeTempDir({ prefix: "weft_ftp_" });
  await Deno.mkdir(`${dir}/root/alice`, { recursive: true });
  await Deno.mkdir(`${dir}/local`);
  await Deno.mkdir(`${dir}/outside`);
  await Deno.writeTextFile(`${dir}/outside/secret.txt`, "top secret\n");
  await Deno.writeTextFile(`${dir}/pass`, PASSWORD + "\n");
  await Deno.writeTextFile(`${dir}/wrong`, "not the password\n");
  await saveAccounts(`${dir}/accounts.json`, {
    users: { alice: await makeAccount(PASSWORD, "alice", quota, 10_000) },
  });
  const server = await startProgram(
    [
      example("ftp/server.ts"),
      "--protocol",
      "weft",
      "--root",
      `${dir}/root`,
      "--accounts",
      `${dir}/accounts.json`,
      "--port",
      "0",
    ],
    /listening on 127\.0\.0\.1:(\d+)/,
    {
      // The exact permissions of the server's header line.
      permissions: [
        "--allow-net=127.0.0.1",
        `--allow-read=${dir}/root,${dir}/accounts.json`,
        `--allow-write=${dir}/root`,
      ],
    },
  );
  const port = server.match[1];
  const client = (commands: string[], extra: string[] = [], pass = "pass") =>
    runExample(
      ["--allow-net=127.0.0.1", "--allow-read", "--allow-write"],
      "ftp/client.ts",
      [
        "--protocol",
        "weft",
        "--user",
        "alice",
        "--password-file",
        `${dir}/${pass}`,
        "--port",
        port,
        ...extra,
      ],
      {
        stdin: commands.join("\n") + "\n",
        cwd: `${dir}/local`,
        timeout: 30_000,
      },
    );
  return { dir, server, client };
}

Deno.test("examples/ftp/adduser.ts stores a salted PBKDF2 hash, never the password", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weft_ftp_" });
  try {
    for (const user of ["alice", "bob"]) {
      const out = await runExample(
        [
          `--allow-read=${dir}/accounts.json`,
          `--allow-write=${dir}/accounts.json`,
        ],
        "ftp/adduser.ts",
        [
          "--accounts",
          `${dir}/accounts.json`,
          "--user",
          user,
          "--quota",
          "1000",
        ],
        { stdin: PASSWORD + "\n", timeout: 30_000 },
      );
      assert.equal(out.code, 0, out.stderr);
    }
    const text = await Deno.readTextFile(`${dir}/accounts.json`);
    assert.ok(!text.includes(PASSWORD));
    const { users } = JSON.parse(text);
    assert.equal(users.alice.iterations, 600_000);
    assert.notEqual(users.alice.salt, users.bob.salt);
    assert.notEqual(users.alice.hash, users.bob.hash);
    assert.equal((await Deno.stat(`${dir}/accounts.json`)).mode! & 0o077, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ftp: login, mkdir, cd, put, ls and get round-trip a file", async () => {
  const { dir, server, client } = await setup();
  try {
    const data = randomBytes(200_000);
    await Deno.writeFile(`${dir}/local/data.bin`, data);
    const out = await withTimeout(
      client([
        "pwd",
        "mkdir docs",
        "cd docs",
        "put data.bin",
        "ls",
        "cd /",
        "get docs/data.bin copy.bin",
        "quit",
      ]),
      40_000,
      "ftp client",
    );
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /logged in as alice/);
    assert.match(out.stdout, /^\/docs$/m);
    assert.match(
      out.stdout,
      /put data\.bin: 200000 bytes, sha256 [0-9a-f]{16} verified/,
    );
    assert.match(out.stdout, /file\s+200000\s+data\.bin/);
    assert.match(
      out.stdout,
      /get docs\/data\.bin: 200000 bytes, sha256 [0-9a-f]{16} verified/,
    );
    assert.deepEqual(
      await Deno.readFile(`${dir}/root/alice/docs/data.bin`),
      data,
    );
    assert.deepEqual(await Deno.readFile(`${dir}/local/copy.bin`), data);
    assert.equal(out.stderr, "", "no progress bar without a TTY or --progress");

    const bad = await client(["ls"], [], "wrong");
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /Login failed: wrong user name or password/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ftp: a user cannot leave home by '..', absolute paths or symlinks", async () => {
  const { dir, server, client } = await setup();
  try {
    const home = `${dir}/root/alice`;
    await Deno.symlink(`${dir}/outside`, `${home}/link`);
    await Deno.symlink(`${dir}/outside/secret.txt`, `${home}/secret-link`);
    await Deno.symlink(`${dir}/nowhere`, `${home}/dangling`);
    await Deno.mkdir(`${home}/sub`);
    await Deno.writeTextFile(`${dir}/local/x.txt`, "payload\n");
    const out = await withTimeout(
      client([
        // ".." above the home
        "cd ..",
        "ls ../outside",
        "get ../outside/secret.txt a.txt",
        "cd sub",
        "get ../../outside/secret.txt b.txt",
        "put x.txt ../../outside/x.txt",
        "cd /",
        // absolute paths mean the home's root, never the real "/"
        "get /etc/passwd c.txt",
        `get ${dir}/outside/secret.txt d.txt`,
        "cd /",
        "pwd",
        // symlinks leading out
        "ls link",
        "cd link",
        "get link/secret.txt e.txt",
        "get secret-link f.txt",
        "put x.txt link/x.txt",
        "mkdir link/newdir",
        "put x.txt dangling",
        "quit",
      ]),
      40_000,
      "ftp client",
    );
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const errors = out.stdout.split("\n").filter((l) => l.startsWith("error:"));
    assert.deepEqual(errors, [
      'error: Permission denied: ".." is outside your home directory',
      'error: Permission denied: "../outside" is outside your home directory',
      'error: Permission denied: "../outside/secret.txt" is outside your home directory',
      'error: Permission denied: "../../outside/secret.txt" is outside your home directory',
      'error: Permission denied: "../../outside/x.txt" is outside your home directory',
      'error: No such file: "/etc/passwd"',
      `error: No such file: "${dir}/outside/secret.txt"`,
      'error: Permission denied: "link" is outside your home directory',
      'error: Permission denied: "link" is outside your home directory',
      'error: Permission denied: "link/secret.txt" is outside your home directory',
      'error: Permission denied: "secret-link" is outside your home directory',
      'error: Permission denied: "link/x.txt" is outside your home directory',
      'error: Permission denied: "link/newdir" is outside your home directory',
      'error: Permission denied: "dangling" goes through a broken symlink',
    ]);
    assert.match(out.stdout, /^\/$/m);
    for (const name of ["a", "b", "c", "d", "e", "f"]) {
      await assert.rejects(
        Deno.stat(`${dir}/local/${name}.txt`),
        Deno.errors.NotFound,
      );
    }
    const outside = [];
    for await (const entry of Deno.readDir(`${dir}/outside`)) {
      outside.push(entry.name);
    }
    assert.deepEqual(outside, ["secret.txt"]);
    await assert.rejects(Deno.lstat(`${dir}/nowhere`), Deno.errors.NotFound);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ftp: the per-user quota refuses an upload that does not fit", async () => {
  const { dir, server, client } = await setup(150_000);
  try {
    await Deno.writeFile(`${dir}/local/a.bin`, randomBytes(100_000));
    const out = await client(["put a.bin", "put a.bin b.bin", "ls", "quit"]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /put a\.bin: 100000 bytes/);
    assert.match(
      out.stdout,
      /error: Quota exceeded: 100000 more bytes would make 200000 of 150000/,
    );
    await assert.rejects(
      Deno.stat(`${dir}/root/alice/b.bin`),
      Deno.errors.NotFound,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ftp: an interrupted upload and download resume and verify", async () => {
  const { dir, server, client } = await setup();
  try {
    const data = randomBytes(300_000);
    await Deno.writeFile(`${dir}/local/big.bin`, data);

    const cut = await client(["put big.bin"], ["--interrupt-after", "100000"]);
    assert.equal(cut.code, 3, cut.stdout + cut.stderr);
    assert.match(cut.stdout, /put big\.bin: interrupted after 100000 bytes/);
    await assert.rejects(
      Deno.stat(`${dir}/root/alice/big.bin`),
      Deno.errors.NotFound,
    );

    const resumed = await client(["put big.bin", "quit"]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(
      resumed.stdout,
      /put big\.bin: 300000 bytes \(resumed at 100000\), sha256 [0-9a-f]{16} verified/,
    );
    assert.deepEqual(await Deno.readFile(`${dir}/root/alice/big.bin`), data);

    const cutGet = await client(["get big.bin back.bin"], [
      "--interrupt-after",
      "70000",
    ]);
    assert.equal(cutGet.code, 3, cutGet.stdout + cutGet.stderr);
    assert.match(cutGet.stdout, /get big\.bin: interrupted after 70000 bytes/);
    await assert.rejects(
      Deno.stat(`${dir}/local/back.bin`),
      Deno.errors.NotFound,
    );

    const resumedGet = await client(["get big.bin back.bin", "ls", "quit"], [
      "--progress",
    ]);
    assert.equal(resumedGet.code, 0, resumedGet.stdout + resumedGet.stderr);
    assert.match(
      resumedGet.stdout,
      /get big\.bin: 300000 bytes \(resumed at 70000\), sha256 [0-9a-f]{16} verified/,
    );
    assert.match(
      resumedGet.stderr,
      /get big\.bin \[#+\] 100%/,
      "--progress draws a bar on stderr",
    );
    assert.deepEqual(await Deno.readFile(`${dir}/local/back.bin`), data);
    const left = [];
    for await (const e of Deno.readDir(`${dir}/local`)) left.push(e.name);
    assert.deepEqual(
      left.sort(),
      ["back.bin", "big.bin"],
      "no .part file is left",
    );

    const log = (await server.stop()).stdout;
    assert.match(
      log,
      /alice: put \/big\.bin interrupted at 100000 of 300000 bytes/,
    );
    assert.match(
      log,
      /alice: put \/big\.bin 300000 bytes \(resumed at 100000\), sha256 verified/,
    );
    assert.match(log, /alice: get \/big\.bin 230000 bytes from offset 70000/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
