// The tutorials' plain TCP programs (echo, fixed replies, greeting, select,
// selectors, non-blocking): each entry of examples/tutorials.json is run as
// its `run` line says (examples/tcp_echo_server.ts / tcp_echo_client.ts
// with the entry's flags), against Python 3.11 peers written from the
// tutorials (tests/examples/peers/tcp_peers.py), in both roles.
import assert from "node:assert/strict";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

// Entries whose run lines are the same upper-case echo server / client.
const ECHO_SERVERS = ["001:130", "001:433", "001:1928"];
const ECHO_CLIENTS = ["001:117", "001:154", "001:462", "001:1908", "001:1968"];

Deno.test(pythonTest(
  "tutorials.json TCP servers answer the tutorials' Python clients with their bytes",
  async (py) => {
    // One upper-case echo server for every client of that family.
    const echo = await startEntry(ECHO_SERVERS);
    try {
      const port = echo.port;
      const [phone, loop, quit, select, gbk] = await Promise.all([
        runPython(py, "tcp_peers.py", ["phone-client", port]),
        runPython(py, "tcp_peers.py", ["loop-client", port], "hello\nabc\n"),
        runPython(
          py,
          "tcp_peers.py",
          ["quit-client", port],
          "one\n\n two \nquit\nnever\n",
        ),
        runPython(py, "tcp_peers.py", ["select-client", port], "sel\n"),
        runPython(py, "tcp_peers.py", ["gbk-client", port], "你好abc黑马\n"),
      ]);
      assert.equal(phone.code, 0, phone.stderr);
      assert.equal(phone.stdout, "收到服务端发来的消息 b'HELLO'\n");
      assert.equal(loop.code, 0, loop.stderr);
      assert.match(
        loop.stdout,
        /收到服务端发来消息 HELLO\n.*收到服务端发来消息 ABC\n/s,
      );
      assert.equal(
        quit.stdout,
        "收到服务端发来的消息: ONE\n收到服务端发来的消息: TWO\n",
      );
      assert.equal(select.stdout, "SEL\n");
      // gbk bytes pass through intact; only ASCII letters change.
      assert.equal(gbk.code, 0, gbk.stderr);
      assert.equal(gbk.stdout, "接收到的数据为: 你好ABC黑马\n");
    } finally {
      const log = (await echo.program.stop()).stdout;
      assert.match(log, /recv\[127\.0\.0\.1:\d+\]: hello/);
    }

    // The other servers, each with its own tutorial client, all at once.
    await Promise.all([
      (async () => {
        // The one-shot "phone" server: one message, then it exits by itself.
        const phone = await startEntry("001:102");
        const reply = await runPython(py, "tcp_peers.py", [
          "phone-client",
          phone.port,
        ]);
        assert.equal(reply.stdout, "收到服务端发来的消息 b'HELLO'\n");
        await phone.program.stop();
      })(),
      (async () => {
        // A fixed gbk reply, then close (document 000).
        const thanks = await startEntry("000:170");
        const gbk = await runPython(
          py,
          "tcp_peers.py",
          ["gbk-client", thanks.port],
          "你好\n",
        );
        assert.equal(gbk.stdout, "接收到的数据为: thank you !\n");
        const thanksLog = (await thanks.program.stop()).stdout;
        assert.match(thanksLog, /recv\[127\.0\.0\.1:\d+\]: 你好/);
      })(),
      // "ok!" / "threadOK!" for every message (document 003).
      ...[["003:22", "ok!"], ["003:75", "threadOK!"]].map(
        async ([key, answer]) => {
          const server = await startEntry(key);
          const out = await runPython(
            py,
            "tcp_peers.py",
            ["gbk-client", server.port],
            "你好\nb\n",
          );
          assert.equal(out.stdout, `接收到的数据为: ${answer}\n`.repeat(2));
          const log = (await server.program.stop()).stdout;
          assert.match(log, /recv\[127\.0\.0\.1:\d+\]: 你好/);
        },
      ),
      // The greeting servers send first and print what the client answers;
      // the non-blocking lesson's server prints what its client sent.
      ...["002:87", "002:151", "001:1845"].map(async (key) => {
        const server = await startEntry(key);
        const client = key === "001:1845"
          ? await runPython(py, "tcp_peers.py", [
            "nonblocking-client",
            server.port,
          ])
          : await runPython(py, "tcp_peers.py", [
            "welcome-client",
            server.port,
          ]);
        assert.equal(client.code, 0, client.stderr);
        // The client may be gone before the server has read its message.
        await server.program.until(
          key === "001:1845" ? /\]: hello\n/ : /socket很好玩/,
        );
        const log = (await server.program.stop()).stdout;
        if (key === "001:1845") {
          assert.match(log, /recv\[127\.0\.0\.1:\d+\]: hello\n/);
        } else {
          assert.equal(client.stdout, "客户端收到:welcome to socket\n");
          assert.match(log, /socket很好玩，很有趣，我很喜欢！/);
        }
      }),
      (async () => {
        // The select lesson: each message is answered with a stdin line.
        const select = await startEntry("001:1886", {}, {
          stdin: "first answer\nsecond answer\n",
        });
        const sel = await runPython(
          py,
          "tcp_peers.py",
          ["select-client", select.port],
          "q1\nq2\n",
        );
        assert.equal(sel.stdout, "first answer\nsecond answer\n");
        await select.program.stop();
      })(),
    ]);
  },
));

Deno.test(pythonTest(
  "tutorials.json TCP clients talk to the tutorials' Python servers",
  async (py) => {
    const serve = (program: string, options = {}) =>
      startPython(py, "tcp_peers.py", [program, "0"], options);
    await Promise.all([
      ...["socketserver-tcp", "selectors-server", "loop-server", "phone-server"]
        .map(async (program) => {
          await using server = await serve(program);
          const out = await runEntry(
            ECHO_CLIENTS,
            { port: String(server.port) },
            "hello\n\nmixed Case 1\nquit\n",
          );
          if (program === "phone-server") {
            // One reply, then the server closes: reported, not a crash.
            assert.equal(out.stdout, "HELLO\n", program);
            assert.match(out.stderr, /the server closed the connection/);
            assert.equal(out.code, 0);
          } else {
            assert.equal(out.code, 0, `${program}: ${out.stderr}`);
            assert.equal(out.stdout, "HELLO\nMIXED CASE 1\n", program);
          }
        }),
      (async () => {
        // "thank you !" in gbk, then the server closes.
        await using server = await serve("thankyou-server");
        const out = await runEntry(
          "000:138",
          { port: String(server.port) },
          "你好\n再见\n",
        );
        assert.equal(out.stdout, "thank you !\n");
        assert.match(out.stderr, /the server closed the connection/);
        assert.match(await server.stop(), /接收到的数据为: 你好/);
      })(),
      ...[["process-server", "ok!"], ["thread-server", "threadOK!"]].map(
        async ([program, reply]) => {
          await using server = await serve(program);
          const out = await runEntry(
            "000:138",
            { port: String(server.port) },
            "你好\nbye\n",
          );
          assert.equal(out.code, 0, out.stderr);
          assert.equal(out.stdout, `${reply}\n${reply}\n`);
          const log = await server.stop();
          assert.match(log, /recv\[\('127\.0\.0\.1', \d+\)\]:你好/);
        },
      ),
      // The greeting servers: read the greeting first, then send.
      ...["welcome-server", "welcome-loop-server"].map(async (program) => {
        await using server = await serve(program);
        const out = await runEntry(
          "002:125",
          { port: String(server.port) },
          "socket很好玩\n",
        );
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, "welcome to socket\n");
        await server.until(/信息:socket很好玩/);
      }),
      (async () => {
        // The select server answers from its stdin.
        await using server = await serve("select-server", {
          stdin: "answer one\nanswer two\n",
        });
        const out = await runEntry(
          "001:1908",
          { port: String(server.port) },
          "q1\nq2\n",
        );
        assert.equal(out.stdout, "answer one\nanswer two\n");
      })(),
      (async () => {
        // The non-blocking server prints what the no-reply client sent.
        await using server = await serve("nonblocking-server");
        const out = await runEntry(
          "001:1863",
          { port: String(server.port) },
          "hello\n",
        );
        assert.equal(out.code, 0, out.stderr);
        await server.until(/\+\+\+ \('127\.0\.0\.1', \d+\)\nhello\n/);
      })(),
      (async () => {
        // A silent server: the client gives up after --timeout, saying so.
        await using server = await serve("select-server", { holdStdin: true });
        const out = await runEntry(
          "001:1908",
          { port: String(server.port) },
          "anyone?\n",
          ["--timeout", "300"],
        );
        assert.equal(out.code, 1);
        assert.match(out.stderr, /no reply within 300 ms/);
      })(),
    ]);
  },
));
