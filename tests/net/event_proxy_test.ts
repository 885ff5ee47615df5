// weft's client behind an HTTP proxy named in the environment: Deno's own
// WebSocket (and fetch) go through HTTP_PROXY, and so must weft's client,
// whose Deno WebSocket framing would otherwise connect directly. A small
// forward proxy in this test relays to weft's server and records what it
// was asked; the client runs in a child Deno with HTTP_PROXY set (and, the
// second time, NO_PROXY naming the host: then it must go directly).

import assert from "node:assert/strict";
import { serveEvents } from "../../net/mod.ts";
import { proxied } from "../../net/_event_client_websocket.ts";
import { runCommand, withTimeout } from "../_helpers.ts";

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** A forward proxy for absolute-form `GET http://host:port/...` requests. */
function forwardProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const asked: string[] = [];
  const conns = new Set<Deno.Conn>();
  const relay = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(16 * 1024);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^GET http:\/\/([^/:]+):(\d+)(\/\S*) HTTP\/1\.1\r\n/.exec(head);
    asked.push(head.slice(0, head.indexOf("\r\n")));
    if (!m) return;
    const up = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(m[2]),
    });
    conns.add(up);
    await up.write(
      new TextEncoder().encode(
        `GET ${m[3]} HTTP/1.1\r\n${head.slice(m[0].length)}`,
      ),
    );
    await Promise.all([
      conn.readable.pipeTo(up.writable).catch(() => {}),
      up.readable.pipeTo(conn.writable).catch(() => {}),
    ]);
  };
  const tasks: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      tasks.push(relay(conn).catch(() => {}).finally(() => closeQuietly(conn)));
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    asked,
    async close() {
      listener.close();
      for (const c of conns) closeQuietly(c);
      await accepting;
      await Promise.all(tasks);
    },
  };
}

const CLIENT = `
import { EventClient } from ${
  JSON.stringify(new URL("../../net/mod.ts", import.meta.url).href)
};
const client = new EventClient({ transports: ["websocket"], reconnection: false });
await client.connect(Deno.args[0]);
console.log(JSON.stringify(await client.call("echo", "hi")));
await client.disconnect();
`;

Deno.test("behind HTTP_PROXY the client's WebSocket goes through the proxy; NO_PROXY bypasses it", async () => {
  await using server = serveEvents({ onError: () => {} });
  server.on("echo", (_sid, x) => x);
  const proxy = forwardProxy();
  const dir = await Deno.makeTempDir({ prefix: "weft-proxy-" });
  try {
    await Deno.writeTextFile(`${dir}/client.ts`, CLIENT);
    const target = server.url.replace("127.0.0.1", "localhost");
    const run = (env: Record<string, string>) =>
      withTimeout(
        runCommand(Deno.execPath(), [
          "run",
          "--allow-net=127.0.0.1,localhost",
          "--allow-read",
          "--allow-env=HTTP_PROXY,NO_PROXY",
          `${dir}/client.ts`,
          target,
        ], { env, timeout: 60_000 }),
        70_000,
        "client",
      );
    const via = await run({ HTTP_PROXY: proxy.url });
    assert.equal(via.code, 0, via.stderr);
    assert.equal(via.stdout.trim(), '"hi"');
    assert.equal(proxy.asked.length, 1);
    assert.match(proxy.asked[0], /^GET http:\/\/localhost:\d+\/socket\.io\/\?/);

    const direct = await run({ HTTP_PROXY: proxy.url, NO_PROXY: "localhost" });
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(direct.stdout.trim(), '"hi"');
    assert.equal(proxy.asked.length, 1); // not asked again
  } finally {
    await proxy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proxied(): which variables apply to which URL, NO_PROXY forms, unreadable variables", () => {
  const deno = (env: Record<string, string>, denied: string[] = []) =>
    ({
      connect: Deno.connect,
      connectTls: Deno.connectTls,
      env: { get: (name: string) => env[name] },
      permissions: {
        querySync: ({ variable }: { variable: string }) => ({
          state: denied.includes(variable) ? "prompt" : "granted",
        }),
      },
    }) as Parameters<typeof proxied>[0];
  const url = (u: string) => new URL(u);
  const p = "http://proxy:3128";
  assert.equal(proxied(deno({}), url("ws://a.example:80/")), false);
  assert.equal(proxied(deno({ HTTP_PROXY: p }), url("ws://a.example/")), true);
  assert.equal(proxied(deno({ http_proxy: p }), url("ws://a.example/")), true);
  assert.equal(
    proxied(deno({ HTTP_PROXY: p }), url("wss://a.example/")),
    false,
  );
  assert.equal(
    proxied(deno({ HTTPS_PROXY: p }), url("wss://a.example/")),
    true,
  );
  assert.equal(proxied(deno({ ALL_PROXY: p }), url("wss://a.example/")), true);
  for (
    const [noProxy, host, expected] of [
      ["*", "a.example", false],
      ["a.example", "a.example", false],
      ["example", "a.example", false], // a domain covers its subdomains
      [".example", "example", false],
      ["*.example", "a.example", false],
      ["b.example", "a.example", true],
      ["xample", "a.example", true], // not a label boundary
      [" other , a.example ", "a.example", false],
      ["::1", "[::1]", false],
    ] as const
  ) {
    assert.equal(
      proxied(
        deno({ HTTP_PROXY: p, NO_PROXY: noProxy }),
        url(`ws://${host}:8000/`),
      ),
      expected,
      `NO_PROXY=${noProxy} host=${host}`,
    );
  }
  // a variable the program may not read counts as unset (never a prompt)
  assert.equal(
    proxied(deno({ HTTP_PROXY: p }, ["HTTP_PROXY"]), url("ws://a.example/")),
    false,
  );
});
