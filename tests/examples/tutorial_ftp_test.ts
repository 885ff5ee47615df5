// The FTP tutorial's own protocol: entries 001:649 and 001:855 of
// examples/tutorials.json run as their `run` lines say (examples/ftp/
// server.ts and client.ts, --protocol tutorial by default) against Python
// 3.11 peers written from the tutorial (tests/examples/peers/ftp_peers.py),
// in both roles.
import assert from "node:assert/strict";
import { makeAccount, saveAccounts } from "../../examples/ftp/_accounts.ts";
import { sendall } from "../../net/mod.ts";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

Deno.test(pythonTest(
  "tutorials.json 001:649: the FTP server serves the tutorial's Python client",
  async (py) => {
    const dir = await Deno.makeTempDir({ prefix: "weft_tftp_" });
    try {
      await Deno.mkdir(`${dir}/local`);
      const data = randomBytes(200_000);
      const big = randomBytes(500_000);
      await Deno.writeFile(`${dir}/local/data.bin`, data);
      await Deno.writeFile(`${dir}/local/big.bin`, big);
      // The tutorial's account: alex / 123 (stored as a PBKDF2 hash).
      await saveAccounts(`${dir}/accounts.json`, {
        users: { alex: await makeAccount("123", "alex", 2_000_000, 10_000) },
      });
      const server = await startEntry("001:649", {
        dir: `${dir}/root`,
        file: `${dir}/accounts.json`,
      });
      const client = (stdin: string, password = "123") =>
        runPython(
          py,
          "ftp_peers.py",
          [
            "client",
            "-s",
            "127.0.0.1",
            "-P",
            server.port,
            "-u",
            "alex",
            "-p",
            password,
          ],
          stdin,
          `${dir}/local`,
        );
      try {
        const first = await client(
          "mkdir docs\ncd docs\nput data.bin .\nls\ncd ..\nls\ncd ../../..\nmkdir ../evil\nls\n",
        );
        assert.equal(first.code, 0, first.stderr);
        assert.equal(
          first.stdout,
          "response: 254\nPassed authentication\n[docs]\nsuccessfully upload!\n" +
            "data.bin\n[alex]\ndocs\n[alex]\ndocs\n",
        );
        assert.deepEqual(
          await Deno.readFile(`${dir}/root/alex/docs/data.bin`),
          data,
        );
        await assert.rejects(Deno.stat(`${dir}/root/evil`));

        // An upload cut after 123 456 bytes resumes with the tutorial's
        // "800" / "Y" / offset exchange and ends byte-identical.
        {
          using raw = await Deno.connect({ port: Number(server.port) });
          await sendall(
            raw,
            JSON.stringify({
              action: "auth",
              username: "alex",
              password: "123",
            }),
          );
          const buf = new Uint8Array(1024);
          await raw.read(buf);
          await sendall(
            raw,
            JSON.stringify({
              action: "put",
              file_name: "big.bin",
              file_size: big.length,
              target_path: ".",
            }),
          );
          const n = await raw.read(buf);
          assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "802");
          await sendall(raw, big.subarray(0, 123_456));
        }
        const resumed = await client("put big.bin .\nY\nls\n");
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stdout, /successfully upload!\nbig\.bin\ndocs\n$/);
        assert.deepEqual(await Deno.readFile(`${dir}/root/alex/big.bin`), big);
        // Uploading it again: "801", the file exists whole.
        const again = await client("put big.bin .\n");
        assert.match(again.stdout, /the file exist\n$/);

        const wrong = await client("ls\n", "124");
        assert.equal(
          wrong.stdout,
          "response: 253\nWrong username or password\n",
        );
      } finally {
        const log = (await server.program.stop()).stdout;
        assert.match(
          log,
          /alex: put \/docs\/data\.bin 200000 bytes \(resumed at 0\)/,
        );
        assert.match(
          log,
          /alex: put \/big\.bin 500000 bytes \(resumed at 123456\)/,
        );
        assert.match(log, /mkdir refused: Permission denied/);
        assert.match(log, /login refused for "alex"/);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
));

Deno.test(pythonTest(
  "tutorials.json 001:855: the FTP client talks to the tutorial's Python server",
  async (py) => {
    const dir = await Deno.makeTempDir({ prefix: "weft_tftp_" });
    try {
      await Deno.mkdir(`${dir}/root/conf`, { recursive: true });
      await Deno.mkdir(`${dir}/root/home/alex`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/root/conf/accounts.cfg`,
        "[DEFAULT]\n\n[alex]\nPassword = 123\nQuotation = 100\n",
      );
      await Deno.mkdir(`${dir}/local`);
      await Deno.writeTextFile(`${dir}/pass`, "123\n");
      const data = randomBytes(100_000);
      const big = randomBytes(300_000);
      await Deno.writeFile(`${dir}/local/data.bin`, data);
      await Deno.writeFile(`${dir}/local/big.bin`, big);
      // A half-uploaded big.bin, as the tutorial's server leaves it.
      await Deno.writeFile(
        `${dir}/root/home/alex/big.bin`,
        big.subarray(0, 100_000),
      );
      await using server = await startPython(py, "ftp_peers.py", [
        "server",
        "0",
        `${dir}/root`,
      ]);
      const client = (stdin: string) =>
        runEntry(
          "001:855",
          { file: `${dir}/pass`, port: String(server.port) },
          stdin,
          [],
          `${dir}/local`,
        );
      const out = await client(
        "mkdir docs\ncd docs\nput data.bin .\nls\ncd ..\nput big.bin .\nY\nquit\n",
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(
        out.stdout,
        "Passed authentication\ncreate success\n[docs]\n" +
          "successfully upload! (data.bin: 100000 bytes)\ndata.bin\n[alex]\n" +
          "the file exist,but not enough,is continue?[Y/N]\n" +
          "successfully upload! (big.bin: 300000 bytes, resumed at 100000)\n",
      );
      assert.deepEqual(
        await Deno.readFile(`${dir}/root/home/alex/docs/data.bin`),
        data,
      );
      assert.deepEqual(
        await Deno.readFile(`${dir}/root/home/alex/big.bin`),
        big,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
));
