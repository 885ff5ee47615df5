import assert from "node:assert/strict";
import { example, runExample, startProgram } from "./_program.ts";

Deno.test("examples/remote_command_*.ts --protocol weft: allowlisted commands run without a shell, with a timeout", async () => {
  // The exact permissions of the server's header line.
  await using server = await startProgram(
    [
      example("remote_command_server.ts"),
      "--port",
      "0",
      "--timeout",
      "1500",
      "--protocol",
      "weft",
    ],
    /listening on 127\.0\.0\.1:(\d+)/,
    {
      permissions: [
        "--allow-net=127.0.0.1",
        "--allow-run=echo,date,uname,sleep,false,ls,pwd,seq",
      ],
    },
  );
  const port = server.match[1];
  const remote = (...argv: string[]) =>
    runExample(["--allow-net=127.0.0.1"], "remote_command_client.ts", [
      "--port",
      port,
      "--protocol",
      "weft",
      "--",
      ...argv,
    ], { timeout: 30_000 });
  const [echo, noShell, failing, refused, slow] = await Promise.all([
    remote("echo", "hello", "world"),
    remote("echo", "$(id)", ";", "rm", "-rf", "/"),
    remote("false"),
    remote("cat", "/etc/passwd"),
    remote("sleep", "20"),
  ]);
  assert.equal(echo.code, 0, echo.stderr);
  assert.equal(echo.stdout, "hello world\n");
  assert.equal(
    noShell.stdout,
    "$(id) ; rm -rf /\n",
    "arguments reach echo as plain text",
  );
  assert.equal(failing.code, 1);
  assert.equal(refused.code, 126);
  assert.equal(refused.stdout, "");
  assert.match(
    refused.stderr,
    /Command refused: "cat" is not on the allowlist/,
  );
  assert.equal(slow.code, 124);
  assert.match(slow.stderr, /timed out and was killed/);

  // A large output arrives whole however TCP splits it.
  const big = await remote("echo", "-n", ...Array(60).fill("x".repeat(4000)));
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout.length, 60 * 4001 - 1);

  const log = (await server.stop()).stdout;
  assert.match(log, /ran \["sleep","20"\]: timed out/);
  assert.match(log, /refused: Command refused: "cat"/);
});
