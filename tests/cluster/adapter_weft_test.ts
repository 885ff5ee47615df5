// weft-only fleets on a real redis-server: three nodes, namespaces, binary
// payloads, option checks, your own node-redis client, and Redis outages
// (frozen: requests fail with a clear timeout instead of hanging; restarted:
// the nodes re-subscribe and broadcasts flow again).
import assert from "node:assert/strict";
import { createClient } from "npm:redis@6.3.1";
import {
  connectEvents,
  type EventClient,
  type EventServer,
  serveEvents,
} from "../../net/mod.ts";
import {
  type RedisAdapter,
  redisAdapter,
  type RedisClientLike,
  RedisEmitter,
} from "../../cluster/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

function node(
  url: string,
  requestsTimeout = 1000,
  protocol: "socket.io" | "socket.io-streams" = "socket.io",
): EventServer {
  const server = serveEvents({
    namespaces: ["/chat"],
    adapter: redisAdapter({ url, requestsTimeout, protocol }),
  });
  for (const nsp of ["/", "/chat"]) {
    server.of(nsp).on("connect", (sid: string) => {
      server.of(nsp).enterRoom(sid, "room");
    });
  }
  return server;
}

/** Resolves after the n-th `event` (every origin's end marker). */
function nth(client: EventClient, event: string, n: number, namespace = "/") {
  let seen = 0;
  return withTimeout(
    new Promise<void>((resolve) =>
      client.on(event, () => void (++seen === n && resolve()), { namespace })
    ),
    10_000,
    `${n} × ${event} in ${namespace}`,
  );
}

async function ready(server: EventServer): Promise<void> {
  await (server.of("/").adapter as RedisAdapter).ready;
  await (server.of("/chat").adapter as RedisAdapter).ready;
}

function next(client: EventClient, event: string, namespace = "/") {
  return withTimeout(
    new Promise<unknown[]>((resolve) =>
      client.on(event, (...args: unknown[]) => resolve(args), { namespace })
    ),
    10_000,
    `event ${event} in ${namespace}`,
  );
}

Deno.test("redis adapter: options are checked", () => {
  assert.throws(
    () => redisAdapter({}),
    /Cannot create Redis adapter: give "url" or "client"/,
  );
  assert.throws(
    () => redisAdapter({ url: "http://x" }),
    /Cannot create Redis adapter: "http:" is not redis:/,
  );
  assert.throws(
    () => redisAdapter({ url: "redis://x", key: "a*b" }),
    TypeError,
  );
  assert.throws(
    () =>
      redisAdapter({
        url: "redis://x",
        protocol: "nope" as "socket.io",
      }),
    /Cannot create Redis adapter: unknown protocol "nope"/,
  );
  assert.throws(
    () => redisAdapter({ url: "redis://x", requestsTimeout: 0 }),
    RangeError,
  );
  assert.throws(
    () => redisAdapter({ client: {} as RedisClientLike }),
    /"client" is not a node-redis client/,
  );
});

for (const protocol of ["socket.io", "socket.io-streams"] as const) {
  redisTest(
    `redis adapter (${protocol}): three weft nodes, namespaces and binary, exactly once`,
    (redis) => threeNodes(redis.url, protocol),
  );
}

async function threeNodes(
  url: string,
  protocol: "socket.io" | "socket.io-streams",
) {
  const servers = [
    node(url, 1000, protocol),
    node(url, 1000, protocol),
    node(url, 1000, protocol),
  ];
  const clients: EventClient[] = [];
  try {
    await Promise.all(servers.map(ready));
    for (const s of servers) {
      clients.push(
        await connectEvents(s.url, { namespaces: ["/", "/chat"] }),
      );
    }
    assert.equal(await servers[0].of("/chat").adapter.serverCount(), 3);
    const counts = clients.map(() => 0);
    clients.forEach((c, i) =>
      c.on("count", () => void counts[i]++, { namespace: "/chat" })
    );
    // binary + nested data from node 0 reaches the clients of nodes 1 and 2
    const bytes = new Uint8Array([1, 2, 3, 255]);
    const got = [next(clients[1], "bin"), next(clients[2], "bin")];
    servers[0].emit("bin", { bytes, list: [1, "two"] }, { room: "room" });
    for (const [value] of await Promise.all(got)) {
      const v = value as { bytes: Uint8Array; list: unknown[] };
      assert.deepEqual(new Uint8Array(v.bytes), bytes);
      assert.deepEqual(v.list, [1, "two"]);
    }
    // a /chat broadcast stays in /chat, each client once
    const chatEnd = clients.map((c) => nth(c, "end", 3, "/chat"));
    for (let i = 0; i < 5; i++) {
      servers[i % 3].of("/chat").emit("count", i, { room: "room" });
    }
    for (const s of servers) s.of("/chat").emit("end", 0);
    await Promise.all(chatEnd);
    assert.deepEqual(counts, [5, 5, 5]);
    // skip by sid on another node, on the main namespace
    const skipped = clients[2].sid!;
    const seen: string[] = [];
    clients.forEach((c, i) => c.on("hi", () => void seen.push(`c${i}`)));
    const ends = clients.map((c) => next(c, "end"));
    servers[1].emit("hi", 1, { skip: skipped });
    servers[1].emit("end", 0);
    await Promise.all(ends);
    assert.deepEqual(seen.sort(), ["c0", "c1"]);
    // rooms and sockets of /chat are separate from /
    const chatSockets = await servers[2].of("/chat").fetchSockets({
      room: "room",
    });
    assert.equal(chatSockets.length, 3);
  } finally {
    for (const c of clients) await c.disconnect();
    await Promise.all(servers.map((s) => s.shutdown()));
  }
}

redisTest(
  "redis adapter: your own node-redis client stays open",
  async (redis) => {
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    try {
      const a = serveEvents({
        adapter: redisAdapter({ client: client as unknown as RedisClientLike }),
      });
      const b = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
      assert.equal(await b.of("/").adapter.serverCount(), 2);
      b.of("/").onServerSideEmit("who", () => "b");
      assert.deepEqual(await a.of("/").serverSideEmit("who"), ["b"]);
      await a.shutdown();
      await b.shutdown();
      assert.equal(client.isOpen, true);
      assert.equal(await client.ping(), "PONG");
    } finally {
      await client.close();
    }
  },
);

redisTest(
  "redis adapter: Redis frozen → clear timeouts; restarted → fleet resumes",
  async (redis) => {
    const servers = [node(redis.url, 800), node(redis.url, 800)];
    const clients: EventClient[] = [];
    try {
      await Promise.all(servers.map(ready));
      clients.push(await connectEvents(servers[1].url));
      // frozen Redis: requests reject in time instead of hanging
      redis.kill("SIGSTOP");
      try {
        const t0 = Date.now();
        await assert.rejects(
          servers[0].fetchSockets({ room: "room" }),
          (e: Error) => {
            assert.equal(e.name, "TimeoutError");
            assert.equal(
              e.message,
              "Cannot fetch sockets: Redis did not answer within 800 ms",
            );
            return true;
          },
        );
        await assert.rejects(
          servers[0].of("/").adapter.serverCount(),
          /Cannot count servers: Redis did not answer within 800 ms/,
        );
        assert.ok(Date.now() - t0 < 4000);
      } finally {
        redis.kill("SIGCONT");
      }
      // restarted Redis (same port, empty): node-redis reconnects and
      // re-subscribes; what was published while it was down is lost.
      await redis.restart();
      let count = 0;
      for (let i = 0; i < 100 && count !== 2; i++) {
        count = await servers[0].of("/").adapter.serverCount().catch(() => 0);
        if (count !== 2) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(count, 2, "both nodes back on the bus");
      const got = next(clients[0], "back");
      servers[0].emit("back", "again", { room: "room" });
      assert.deepEqual(await got, ["again"]);
      assert.equal((await servers[0].fetchSockets({ room: "room" })).length, 1);
    } finally {
      for (const c of clients) await c.disconnect();
      await Promise.all(servers.map((s) => s.shutdown()));
    }
  },
);

Deno.test("redis adapter and emitter: unreachable Redis fails clearly, never hangs", async () => {
  const server = serveEvents({
    adapter: redisAdapter({ url: "redis://127.0.0.1:1", requestsTimeout: 300 }),
  });
  await assert.rejects(
    server.fetchSockets(),
    /^TimeoutError: Cannot fetch sockets: Redis did not answer within 300 ms$/,
  );
  server.emit("lost", 1); // local only; never throws
  await withTimeout(server.shutdown(), 5000, "shutdown without Redis");
  const emitter = new RedisEmitter({
    url: "redis://127.0.0.1:1",
    connectTimeout: 300,
  });
  await assert.rejects(
    emitter.emit("x", 1),
    /Cannot connect to Redis: no server answers within 300 ms/,
  );
  await emitter.close();
  await assert.rejects(
    emitter.emit("x", 1),
    /Cannot emit: the emitter is closed/,
  );
});
