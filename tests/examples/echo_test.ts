import assert from "node:assert/strict";
import { example, runExample, startProgram } from "./_program.ts";

// The exact permissions of the examples' header lines.
const NET = ["--allow-net=127.0.0.1"];

Deno.test("examples/tcp_echo_*.ts --framing lines: the client upper-cases stdin lines until quit", async () => {
  await using server = await startProgram(
    [example("tcp_echo_server.ts"), "--port", "0", "--framing", "lines"],
    /listening on 127\.0\.0\.1:(\d+)/,
    { permissions: NET },
  );
  const port = server.match[1];
  const client = (stdin: string) =>
    runExample(NET, "tcp_echo_client.ts", [
      "--port",
      port,
      "--framing",
      "lines",
    ], { stdin, timeout: 30_000 });
  const out = await client("hello\nweft on deno\n\nquit\nnever sent\n");
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "HELLO\nWEFT ON DENO\n");
  // Two clients at once, each gets its own replies.
  const [a, b] = await Promise.all(["a\nb\n", "c\n"].map(client));
  assert.equal(a.stdout, "A\nB\n");
  assert.equal(b.stdout, "C\n");
  const log = (await server.stop()).stdout;
  assert.match(log, /closed after 2 messages/);
});

Deno.test("examples/udp_echo_*.ts: datagrams come back upper-cased", async () => {
  await using server = await startProgram(
    [example("udp_echo_server.ts"), "--port", "0"],
    /listening on 127\.0\.0\.1:(\d+)/,
    { permissions: NET },
  );
  const port = server.match[1];
  const out = await runExample(NET, "udp_echo_client.ts", ["--port", port], {
    stdin: "ping\nudp is lossy\nquit\n",
    timeout: 30_000,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "PING\nUDP IS LOSSY\n");
  // An oversize datagram is dropped by the server and reported, not answered.
  const big = await runExample(NET, "udp_echo_client.ts", [
    "--port",
    port,
    "--timeout",
    "200",
    "--retries",
    "0",
  ], { stdin: "x".repeat(2000) + "\nsmall\n", timeout: 30_000 });
  assert.equal(big.code, 1);
  assert.match(big.stdout, /no reply for "x+" after 1 tries\nSMALL\n/);
  assert.match(
    (await server.stop()).stderr,
    /dropped a datagram: .*2000 bytes from 127\.0\.0\.1/,
  );
});
