// Issue #20 part 4: the FTP example under races and abuse. Each test runs
// the server in-process (startFtpServer) and drives it with many
// concurrent clients of weft's protocol (Wire); the guessing test also
// goes through the tutorial's protocol. Every case failed before: two
// uploads of one file interleaved, concurrent uploads and mkdir floods
// overshot the quota, and password guessing was unlimited.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { makeAccount, saveAccounts } from "../../examples/ftp/_accounts.ts";
import { type Message, Wire } from "../../examples/ftp/_protocol.ts";
import { startFtpServer } from "../../examples/ftp/server.ts";
import { DIR_COST, usedBytes } from "../../examples/ftp/_storage.ts";
import type { LoginGuardOptions } from "../../examples/ftp/_guard.ts";
import { recv, sendall } from "../../net/mod.ts";

const PASSWORD = "correct horse battery staple";
const sha = (data: Uint8Array) =>
  createHash("sha256").update(data).digest("hex");

async function setup(
  quota: number,
  guard?: LoginGuardOptions,
  protocol: "weft" | "tutorial" = "weft",
) {
  const dir = await Deno.makeTempDir({ prefix: "weft_ftp_limits_" });
  await saveAccounts(`${dir}/accounts.json`, {
    users: { alice: await makeAccount(PASSWORD, "alice", quota, 1000) },
  });
  const log: string[] = [];
  const server = await startFtpServer({
    root: `${dir}/root`,
    accounts: `${dir}/accounts.json`,
    protocol,
    guard,
    log: (line) => log.push(line),
  });
  const connect = async (password = PASSWORD) => {
    const wire = new Wire(await Deno.connect(server.addr));
    await wire.send({ op: "login", user: "alice", password });
    return { wire, reply: await wire.receiveMessage() };
  };
  return {
    dir,
    server,
    log,
    connect,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One weft-protocol upload; resolves with the server's final reply. */
async function upload(
  wire: Wire,
  path: string,
  data: Uint8Array,
): Promise<Message> {
  await wire.send({ op: "put", path, size: data.length, sha256: sha(data) });
  const go = await wire.receiveMessage();
  if (!go.ok) return go;
  for (let i = go.offset; i < data.length; i += 16 * 1024) {
    await wire.sendData(data.subarray(i, Math.min(data.length, i + 16 * 1024)));
    await new Promise((resolve) => setTimeout(resolve, 0)); // let others run
  }
  await wire.send({ op: "end" });
  return await wire.receiveMessage();
}

Deno.test("examples/ftp: two uploads of the same file at once never interleave", async () => {
  await using env = await setup(10_000_000);
  const data = crypto.getRandomValues(new Uint8Array(60_000));
  for (let round = 0; round < 3; round++) {
    const clients = await Promise.all([env.connect(), env.connect()]);
    const replies = await Promise.all(
      clients.map(({ wire }) => upload(wire, `same${round}.bin`, data)),
    );
    for (const reply of replies) {
      assert.equal(reply.ok, true, String(reply.error));
      assert.equal(reply.sha256, sha(data));
    }
    const stored = await Deno.readFile(
      `${env.dir}/root/alice/same${round}.bin`,
    );
    assert.equal(stored.length, data.length);
    assert.equal(sha(stored), sha(data));
    for (const { wire } of clients) wire.close();
  }
  const names = [];
  for await (const e of Deno.readDir(`${env.dir}/root/alice`)) {
    names.push(e.name);
  }
  assert.deepEqual(names.sort(), ["same0.bin", "same1.bin", "same2.bin"]);
});

Deno.test("examples/ftp: concurrent uploads cannot overshoot the quota", async () => {
  const quota = 1_000_000;
  await using env = await setup(quota);
  for (let round = 0; round < 3; round++) {
    const data = crypto.getRandomValues(new Uint8Array(65_536)).subarray(0);
    const file = new Uint8Array(900_000);
    for (let i = 0; i < file.length; i += data.length) {
      file.set(data.subarray(0, Math.min(data.length, file.length - i)), i);
    }
    file[0] = round;
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => env.connect()),
    );
    const replies = await Promise.all(
      clients.map(({ wire }, i) => upload(wire, `r${round}-${i}.bin`, file)),
    );
    const ok = replies.filter((r) => r.ok);
    const refused = replies.filter((r) => !r.ok);
    // Round 0 has room for one; later rounds replace nothing: no room.
    assert.equal(ok.length, round === 0 ? 1 : 0, JSON.stringify(replies));
    for (const r of refused) assert.match(r.error!, /Quota exceeded/);
    assert.ok(await usedBytes(`${env.dir}/root/alice`) <= quota);
    for (const { wire } of clients) wire.close();
  }
});

Deno.test("examples/ftp: folders count against the quota, even when created at once", async () => {
  const quota = 100_000;
  await using env = await setup(quota);
  const clients = await Promise.all(
    Array.from({ length: 4 }, () => env.connect()),
  );
  const replies = (await Promise.all(
    clients.map(async ({ wire }, c) => {
      const out = [];
      for (let i = 0; i < 15; i++) {
        out.push(
          await wire.request({ op: "mkdir", path: `d${c}-${i}` })
            .then(() => "ok", (e: Error) => e.message),
        );
      }
      return out;
    }),
  )).flat();
  const made = replies.filter((r) => r === "ok").length;
  assert.equal(made, Math.floor(quota / DIR_COST)); // 24 of 60
  for (const r of replies.filter((r) => r !== "ok")) {
    assert.match(r, /Quota exceeded: a folder counts 4096 bytes/);
  }
  assert.ok(await usedBytes(`${env.dir}/root/alice`) <= quota);
  for (const { wire } of clients) wire.close();
});

Deno.test("examples/ftp: password guessing from parallel connections is locked out", async () => {
  await using env = await setup(1_000_000, { lockout: 60_000, delay: 50 });
  // 8 connections guess 3 times each, all at once.
  const guesses = await Promise.all(
    Array.from(
      { length: 24 },
      (_, i) =>
        env.connect(`guess ${i}`).then(({ wire, reply }) => {
          wire.close();
          return reply.error as string;
        }),
    ),
  );
  const checked = guesses.filter((e) => /wrong user name or password/.test(e));
  const locked = guesses.filter((e) => /too many failed logins/.test(e));
  assert.ok(checked.length <= 5, `${checked.length} passwords were checked`);
  assert.equal(checked.length + locked.length, 24);
  // Even the right password is refused during the lockout.
  const { wire, reply } = await env.connect(PASSWORD);
  wire.close();
  assert.equal(reply.ok, false);
  assert.match(
    String(reply.error),
    /too many failed logins, try again in \d+ s/,
  );
});

Deno.test("examples/ftp --protocol tutorial: guesses on one connection hit the same limit", async () => {
  await using env = await setup(
    1_000_000,
    { lockout: 60_000, delay: 50 },
    "tutorial",
  );
  using conn = await Deno.connect(env.server.addr);
  const codes = [];
  for (let i = 0; i < 3; i++) {
    await sendall(
      conn,
      JSON.stringify({ action: "auth", username: "alice", password: `x${i}` }),
    );
    const reply = await recv(conn, 1024, { timeout: 5000 });
    if (reply.length === 0) break;
    codes.push(JSON.parse(new TextDecoder().decode(reply)).status_code);
  }
  assert.deepEqual(codes, [253, 253, 253]);
  // The connection is closed after 3 failures.
  assert.equal((await recv(conn, 1024, { timeout: 5000 })).length, 0);
  // Two more failures from elsewhere reach the limit; then the right
  // password is refused too.
  for (const password of ["y", "z", PASSWORD]) {
    using c = await Deno.connect(env.server.addr);
    await sendall(
      c,
      JSON.stringify({ action: "auth", username: "alice", password }),
    );
    const reply = await recv(c, 1024, { timeout: 5000 });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(reply)), {
      status_code: 253,
    });
  }
  assert.match(
    env.log.join("\n"),
    /login refused for "alice" from 127\.0\.0\.1: locked out/,
  );
});
