import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { withTimeout } from "../_helpers.ts";
import { example, runExample, startProgram } from "./_program.ts";
import { FramedConnection, LengthPrefixCodec } from "../../net/mod.ts";

const sha = (data: Uint8Array) =>
  createHash("sha256").update(data).digest("hex");

Deno.test("examples/upload_*.ts --protocol weft: many clients upload at once, each file stored apart and verified", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weft_upload_" });
  try {
    const uploads = `${dir}/uploads`;
    await Deno.mkdir(uploads);
    await using server = await startProgram(
      [
        example("upload_server.ts"),
        "--protocol",
        "weft",
        "--dir",
        uploads,
        "--port",
        "0",
        "--max-size",
        "1000000",
      ],
      /listening on 127\.0\.0\.1:(\d+)/,
      {
        permissions: [
          "--allow-net=127.0.0.1",
          `--allow-read=${uploads}`,
          `--allow-write=${uploads}`,
        ],
      },
    );
    const port = server.match[1];
    const upload = (files: string[]) =>
      runExample(
        ["--allow-net=127.0.0.1", "--allow-read"],
        "upload_client.ts",
        ["--protocol", "weft", "--port", port, ...files],
        { timeout: 30_000 },
      );
    const expected: string[] = [];
    const clients = [];
    for (let c = 0; c < 4; c++) {
      await Deno.mkdir(`${dir}/c${c}`);
      const files = [];
      // "same name.bin" comes from every client: the server keeps them apart.
      for (
        const [name, size] of [["f1.bin", 1], [
          "same name.bin",
          150_000,
        ]] as const
      ) {
        const data = new Uint8Array(size);
        crypto.getRandomValues(data.subarray(0, 65536));
        data[size - 1] = c; // make every client's file distinct
        await Deno.writeFile(`${dir}/c${c}/${name}`, data);
        expected.push(sha(data));
        files.push(`${dir}/c${c}/${name}`);
      }
      await Deno.writeFile(`${dir}/c${c}/empty.bin`, new Uint8Array(0));
      expected.push(sha(new Uint8Array(0)));
      files.push(`${dir}/c${c}/empty.bin`);
      clients.push(upload(files));
    }
    const outs = await withTimeout(
      Promise.all(clients),
      40_000,
      "upload clients",
    );
    for (const out of outs) {
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.equal(out.stdout.match(/sha256 verified/g)?.length, 3, out.stdout);
    }
    const stored = [];
    for await (const entry of Deno.readDir(uploads)) {
      assert.match(
        entry.name,
        /^\d+-[0-9a-z]+-(f1\.bin|same_name\.bin|empty\.bin)$/,
      );
      stored.push(sha(await Deno.readFile(`${uploads}/${entry.name}`)));
    }
    assert.deepEqual(stored.sort(), expected.sort());

    // A wrong checksum is refused after the data, an oversize announcement
    // before any data; nothing is kept.
    const codec = new LengthPrefixCodec({
      headerBytes: 4,
      maxFrameSize: 64 * 1024,
    });
    const decode = (frame: Uint8Array | null) =>
      JSON.parse(new TextDecoder().decode(frame!));
    {
      using framed = new FramedConnection(
        await Deno.connect({ hostname: "127.0.0.1", port: Number(port) }),
        codec,
      );
      await framed.send(
        JSON.stringify({ name: "bad.bin", size: 3, sha256: "0".repeat(64) }),
      );
      assert.deepEqual(decode(await framed.receive()), { ok: true });
      await framed.send(new Uint8Array([1, 2, 3]));
      await framed.send(new Uint8Array(0));
      const reply = decode(await framed.receive());
      assert.equal(reply.ok, false);
      assert.match(reply.error, /Checksum mismatch/);
    }
    {
      using framed = new FramedConnection(
        await Deno.connect({ hostname: "127.0.0.1", port: Number(port) }),
        codec,
      );
      await framed.send(
        JSON.stringify({
          name: "huge.bin",
          size: 2_000_000,
          sha256: "0".repeat(64),
        }),
      );
      const reply = decode(await framed.receive());
      assert.equal(reply.ok, false);
      assert.match(reply.error, /Too large: 2000000 > 1000000 bytes/);
    }
    await Deno.writeFile(`${dir}/big.bin`, new Uint8Array(1_200_000));
    const big = await upload([`${dir}/big.bin`]);
    assert.equal(big.code, 1);
    assert.equal(
      big.stdout,
      "big.bin: refused: Too large: 1200000 > 1000000 bytes\n",
    );

    const names = [];
    for await (const entry of Deno.readDir(uploads)) names.push(entry.name);
    assert.equal(names.length, 12, "no partial or refused file is left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
