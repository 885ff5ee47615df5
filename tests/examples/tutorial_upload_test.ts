// The tutorial's file-upload lesson (raw bytes until EOF): each entry of
// examples/tutorials.json is run as its `run` line says
// (examples/upload_server.ts / upload_client.ts, --protocol raw by
// default) against Python 3.11 peers written from the lesson
// (tests/examples/peers/upload_peers.py), in both roles.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  pythonTest,
  runEntry,
  runPython,
  startEntry,
  startPython,
} from "./_peers.ts";

const sha = (data: Uint8Array) =>
  createHash("sha256").update(data).digest("hex");

async function shasIn(dir: string): Promise<string[]> {
  const out = [];
  for await (const entry of Deno.readDir(dir)) {
    out.push(sha(await Deno.readFile(`${dir}/${entry.name}`)));
  }
  return out.sort();
}

Deno.test(pythonTest(
  "tutorials.json 002:231 / 002:267 / 002:291 speak the tutorial's raw upload bytes in both roles",
  async (py) => {
    const dir = await Deno.makeTempDir({ prefix: "weft_tupload_" });
    try {
      const files: Record<string, Uint8Array> = {
        "big.bin": crypto.getRandomValues(new Uint8Array(65536)),
        "empty.txt": new Uint8Array(0),
        "绕口令.txt": new TextEncoder().encode(
          "吃葡萄不吐葡萄皮\n".repeat(500),
        ),
      };
      for (const [name, data] of Object.entries(files)) {
        await Deno.writeFile(`${dir}/${name}`, data);
      }
      const expected = Object.values(files).map(sha).sort();
      const uploads = `${dir}/uploads`;
      await Deno.mkdir(uploads);

      // weft server for many clients (002:291), three tutorial clients at
      // once, and one over --max-size.
      const server = await startEntry("002:291", { dir: uploads }, {
        extra: ["--max-size", "100000"],
      });
      try {
        const outs = await Promise.all(
          Object.keys(files).map((name) =>
            runPython(py, "upload_peers.py", [
              "upload-client",
              server.port,
              `${dir}/${name}`,
            ])
          ),
        );
        for (const out of outs) {
          assert.equal(out.code, 0, out.stderr);
          assert.equal(out.stdout, "客户端收到消息\n");
        }
        // An upload over --max-size is cut off and leaves nothing behind.
        await Deno.writeFile(`${dir}/huge.bin`, new Uint8Array(300_000));
        await runPython(py, "upload_peers.py", [
          "upload-client",
          server.port,
          `${dir}/huge.bin`,
        ]);
        // The tutorial's client closes without waiting: the server may
        // still be writing when it exits.
        await server.program.until(
          /(?:[\s\S]*uploaded \d+ bytes as picture_\d\.jpg){3}/,
        );
        await server.program.until(/upload refused: over 100000 bytes/);
      } finally {
        const log = (await server.program.stop()).stdout;
        assert.match(log, /uploaded 65536 bytes as picture_\d\.jpg/);
        assert.match(log, /upload refused: over 100000 bytes/);
      }
      assert.deepEqual(await shasIn(uploads), expected);

      // The one-shot server (--clients 1 --name my.txt) exits after one.
      const once = `${dir}/once`;
      await Deno.mkdir(once);
      const single = await startEntry("002:231", { dir: once });
      await runPython(py, "upload_peers.py", [
        "upload-client",
        single.port,
        `${dir}/绕口令.txt`,
      ]);
      await single.program.until(/uploaded \d+ bytes as my\.txt/);
      await single.program.stop();
      assert.deepEqual(
        await Deno.readFile(`${once}/my.txt`),
        files["绕口令.txt"],
      );

      // weft client against the tutorial's servers (they write ./data/...).
      const cwd = `${dir}/peer`;
      await Deno.mkdir(`${cwd}/data`, { recursive: true });
      // 002:267's run line takes one {file}; more files may follow it.
      const client = (port: number, names: string[]) =>
        runEntry(
          "002:267",
          { port: String(port), file: `${dir}/${names[0]}` },
          "",
          names.slice(1).map((n) => `${dir}/${n}`),
        );
      {
        await using peer = await startPython(
          py,
          "upload_peers.py",
          ["upload-server", "0"],
          { cwd },
        );
        const out = await client(peer.port, ["big.bin"]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(
          out.stdout,
          "big.bin: 65536 bytes sent; server: 文件上传成功!\n",
        );
        assert.deepEqual(
          await Deno.readFile(`${cwd}/data/my.txt`),
          files["big.bin"],
        );
      }
      await Deno.remove(`${cwd}/data`, { recursive: true });
      await Deno.mkdir(`${cwd}/data`);
      {
        await using peer = await startPython(
          py,
          "upload_peers.py",
          ["upload-multi-server", "0"],
          { cwd },
        );
        const out = await client(peer.port, Object.keys(files));
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout.match(/server: 文件上传成功!/g)?.length, 3);
        await peer.until(/saved picture_3\.jpg/);
      }
      assert.deepEqual(await shasIn(`${cwd}/data`), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
));
