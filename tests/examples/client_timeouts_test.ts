// No example client can hang: against a server that accepts and then says
// nothing, every socket client gives up after its --timeout with a clear
// message and a non-zero exit code.
import assert from "node:assert/strict";
import { runExample } from "./_program.ts";

Deno.test("example clients give up on a silent server with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weft_silent_" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn); // never answers
  })();
  try {
    await Deno.writeTextFile(`${dir}/key`, "ab".repeat(32) + "\n");
    await Deno.writeTextFile(`${dir}/pass`, "secret\n");
    await Deno.writeFile(`${dir}/file.bin`, new Uint8Array(1000));
    const port = String(listener.addr.port);
    const net = "--allow-net=127.0.0.1";
    const read = `--allow-read=${dir}`;
    const cases: [string[], string, string[], string, RegExp][] = [
      [[net], "tcp_echo_client.ts", [], "hi\n", /no reply within 300 ms/],
      [
        [net],
        "remote_command_client.ts",
        [],
        "echo hi\n",
        /no reply within 300 ms/,
      ],
      [
        [net],
        "remote_command_client.ts",
        ["--protocol", "ready"],
        "echo hi\n",
        /no reply within 300 ms/,
      ],
      [
        [net],
        "remote_command_client.ts",
        ["--protocol", "weft", "--", "echo"],
        "",
        /no reply within 300 ms/,
      ],
      [
        [net, read],
        "upload_client.ts",
        [`${dir}/file.bin`],
        "",
        /no answer in 300 ms/,
      ],
      [
        [net, read],
        "upload_client.ts",
        ["--protocol", "weft", `${dir}/file.bin`],
        "",
        /no reply within 300 ms/,
      ],
      [
        [net, read],
        "hmac_lesson_client.ts",
        ["--key-file", `${dir}/key`],
        "",
        /refused: Cannot authenticate: no answer within 300 ms/,
      ],
      [
        [net, read],
        "ftp/client.ts",
        ["--user", "alex", "--password-file", `${dir}/pass`],
        "",
        /error: .*300 ms/,
      ],
      [
        [net, read],
        "ftp/client.ts",
        [
          "--protocol",
          "weft",
          "--user",
          "alex",
          "--password-file",
          `${dir}/pass`,
        ],
        "",
        /error: No reply from the server within 300 ms/,
      ],
    ];
    const outs = await Promise.all(
      cases.map(([perms, file, args, stdin]) =>
        runExample(
          perms,
          file,
          ["--port", port, "--timeout", "300", ...args],
          { stdin, timeout: 20_000 },
        )
      ),
    );
    outs.forEach((out, i) => {
      const [, file, args, , message] = cases[i];
      const what = `${file} ${args.join(" ")}`;
      assert.notEqual(out.code, 0, what);
      assert.match(out.stdout + out.stderr, message, what);
      assert.doesNotMatch(out.stderr, /^\s+at /m, `${what}: no stack trace`);
    });
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
});
