// A mixed fleet on one real redis-server: two Node socket.io 4.8 servers
// with the official @socket.io/redis-adapter 8.3 (child processes) and two
// weft nodes with redisAdapter, official socket.io-client clients on each.
// Room broadcasts with skip reach every member exactly once whichever node
// sends them; fetchSockets, allRooms, serverCount, serverSideEmit with acks,
// broadcasts with acks, remote join and disconnect work both ways; a frozen
// node makes requests fail with a clear timeout (never hang) while
// broadcasts carry on; once it is killed the fleet answers again.
import assert from "node:assert/strict";
import { Emitter } from "npm:@socket.io/redis-emitter@5.1.0";
import { createClient } from "npm:redis@6.3.1";
import type { EventServer } from "../../net/mod.ts";
import { RedisEmitter, type RedisServer } from "../../cluster/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";
import { Client, NodePeer, type Protocol, weftNode } from "./_adapter_fleet.ts";

const ALL = new Set<string>();
function expectExactlyOnce(clients: Client[], expected: Map<Client, string[]>) {
  for (const c of clients) {
    const want = [...(expected.get(c) ?? [])].sort();
    const got = c.got.filter((m) => ALL.has(m)).sort();
    assert.deepEqual(got, want, `${c.label} received`);
  }
}

async function mixedFleet(redis: RedisServer, protocol: Protocol) {
  const A = new NodePeer(redis.url, "A", protocol);
  const B = new NodePeer(redis.url, "B", protocol);
  const servers: EventServer[] = [];
  const clients: Client[] = [];
  try {
    const [W1, W2] = await Promise.all([
      weftNode(redis.url, "W1", protocol),
      weftNode(redis.url, "W2", protocol),
    ]);
    servers.push(W1, W2);
    await Promise.all([A.ready(), B.ready()]);

    // one lobby member + one outsider per node
    const url = { A: A.url, B: B.url, W1: W1.url, W2: W2.url };
    const lobby: Record<string, Client> = {};
    const other: Record<string, Client> = {};
    for (const [name, u] of Object.entries(url)) {
      lobby[name] = new Client(u, `${name}.lobby`, ["lobby"]);
      other[name] = new Client(u, `${name}.other`, ["other", `kick-${name}`]);
      clients.push(lobby[name], other[name]);
    }
    await Promise.all(clients.map((c) => c.connected()));

    assert.equal(await W1.of("/").adapter.serverCount(), 4);
    assert.equal(await A.run({ op: "count" }), 4);

    // ---- broadcasts: exactly once, skip honoured, from every kind of node
    const expected = new Map<Client, string[]>();
    const add = (msg: string, to: Client[]) => {
      ALL.add(msg);
      for (const c of to) expected.set(c, [...(expected.get(c) ?? []), msg]);
    };
    const lobbyAll = Object.values(lobby);
    const everyone = clients;
    // Node A → lobby except B's member (by sid)
    await A.run({
      op: "emit",
      room: "lobby",
      except: [lobby.B.id],
      event: "news",
      args: ["m1"],
    });
    add("m1", lobbyAll.filter((c) => c !== lobby.B));
    // weft W1 → lobby, skip W2's member
    W1.emit("news", "m2", { room: "lobby", skip: lobby.W2.id });
    add("m2", lobbyAll.filter((c) => c !== lobby.W2));
    // weft W2 → everyone except room "other"
    W2.emit("news", "m3", { skip: "other" });
    add("m3", lobbyAll);
    // Node B → everyone
    await B.run({ op: "emit", event: "news", args: ["m4"] });
    add("m4", everyone);
    // weft W1 → two rooms (published on the main channel)
    W1.emit("news", "m5", { room: ["lobby", "other"] });
    add("m5", everyone);
    // markers from each origin close the window: anything duplicated
    // would have been delivered before them, on the same path.
    const markers: [string, () => Promise<unknown>][] = [
      ["end-A", () => A.run({ op: "emit", event: "news", args: ["end-A"] })],
      ["end-B", () => B.run({ op: "emit", event: "news", args: ["end-B"] })],
      ["end-W1", () => Promise.resolve(W1.emit("news", "end-W1"))],
      ["end-W2", () => Promise.resolve(W2.emit("news", "end-W2"))],
    ];
    for (const [, send] of markers) await send();
    await Promise.all(
      everyone.flatMap((c) => markers.map(([m]) => c.received(m))),
    );
    expectExactlyOnce(everyone, expected);

    // the messages took the protocol's path: a stream, or pub/sub only
    const raw = createClient({ url: redis.url });
    raw.on("error", () => {});
    await raw.connect();
    const xlen = await raw.xLen("socket.io");
    await raw.close();
    if (protocol === "socket.io") assert.equal(xlen, 0);
    else assert.ok(xlen >= 9, `stream has ${xlen} entries`);

    // ---- binary from a Node node reaches weft nodes' clients
    const bins = [lobby.W1, lobby.W2].map((c) =>
      new Promise<number[]>((resolve) =>
        c.socket.once(
          "bin",
          (m: { bytes: ArrayBuffer }) => resolve([...new Uint8Array(m.bytes)]),
        )
      )
    );
    await A.run({
      op: "emitBinary",
      room: "lobby",
      event: "bin",
      args: [0, 1, 255],
    });
    assert.deepEqual(
      await withTimeout(Promise.all(bins), 10_000, "binary"),
      [[0, 1, 255], [0, 1, 255]],
    );

    // and from a weft node to Node nodes' clients
    const bins2 = [lobby.A, lobby.B].map((c) =>
      new Promise<number[]>((resolve) =>
        c.socket.once(
          "bin2",
          (m: { bytes: ArrayBuffer }) => resolve([...new Uint8Array(m.bytes)]),
        )
      )
    );
    W1.emit("bin2", { bytes: new Uint8Array([9, 8, 7]) }, { room: "lobby" });
    assert.deepEqual(
      await withTimeout(Promise.all(bins2), 10_000, "binary to Node"),
      [[9, 8, 7], [9, 8, 7]],
    );

    // ---- fetchSockets / allRooms across the fleet, both ways
    const lobbyIds = lobbyAll.map((c) => c.id).sort();
    const fromWeft = await W1.fetchSockets({ room: "lobby" });
    assert.deepEqual(fromWeft.map((s) => s.id).sort(), lobbyIds);
    assert.deepEqual(
      fromWeft.map((s) => s.data.node).sort(),
      ["A", "B", "W1", "W2"],
    );
    const remote = fromWeft.find((s) => s.id === lobby.A.id)!;
    assert.deepEqual([...remote.rooms].sort(), [lobby.A.id, "lobby"].sort());
    const fromNode = await A.run({ op: "fetch", room: "lobby" }) as {
      id: string;
      rooms: string[];
      data: { node: string };
    }[];
    assert.deepEqual(fromNode.map((s) => s.id).sort(), lobbyIds);
    const weftSocket = fromNode.find((s) => s.id === lobby.W2.id)!;
    assert.equal(weftSocket.data.node, "W2");
    assert.ok(weftSocket.rooms.includes("lobby"));
    const rooms = await W2.of("/").adapter.allRooms();
    for (const r of ["lobby", "other", "kick-A", "kick-W1", lobby.B.id]) {
      assert.ok(rooms.has(r), `allRooms from weft has ${r}`);
    }
    if (protocol === "socket.io") { // the streams adapter's allRooms() is local
      const nodeRooms = await B.run({ op: "rooms" }) as string[];
      assert.ok(
        nodeRooms.includes("kick-W2") && nodeRooms.includes(lobby.W1.id),
      );
    }
    const sids = await W1.of("/").adapter.sockets(new Set(["other"]));
    assert.deepEqual(
      [...sids].sort(),
      Object.values(other).map((c) => c.id).sort(),
    );

    // ---- serverSideEmit with acks, both ways
    assert.deepEqual(
      (await W1.of("/").serverSideEmit("hello", "x")).sort(),
      ["A says x", "B says x", "W2 says x"],
    );
    assert.deepEqual(
      (await A.run({ op: "sse", event: "hello", args: ["y"] }) as string[])
        .sort(),
      ["B says y", "W1 says y", "W2 says y"],
    );

    // ---- a Node broadcast with acks reaches weft clients and collects their acks
    const acks = await A.run({
      op: "emitWithAck",
      room: "lobby",
      event: "ask",
      args: ["q"],
      timeout: 3000,
    }) as string[];
    assert.deepEqual(acks.sort(), lobbyAll.map((c) => c.label).sort());

    // ---- remote join from Node onto a weft socket, checked by a broadcast
    // the same node sends after it (one publisher's messages stay in order)
    await A.run({ op: "join", room: other.W1.id, rooms: ["late"] });
    ALL.add("m6");
    await A.run({ op: "emit", room: "late", event: "news", args: ["m6"] });
    await other.W1.received("m6");
    const late = await A.run({ op: "fetch", room: "late" }) as { id: string }[];
    assert.deepEqual(late.map((s) => s.id), [other.W1.id]);
    // and from weft onto a Node socket
    W2.of("/").adapter.addSockets(
      { rooms: new Set([other.B.id]), except: new Set() },
      ["late2"],
    );
    ALL.add("m8");
    W2.emit("news", "m8", { room: "late2" });
    await other.B.received("m8");
    assert.deepEqual(
      (await W2.fetchSockets({ room: "late2" })).map((s) => s.id),
      [other.B.id],
    );

    // ---- remote disconnect both ways
    const gone = (c: Client) =>
      new Promise<void>((resolve) =>
        c.socket.once("disconnect", () => resolve())
      );
    const kicked = [gone(other.B), gone(other.W1)];
    W2.of("/").adapter.disconnectSockets(
      { rooms: new Set(["kick-B"]), except: new Set() },
      true,
    );
    await A.run({ op: "disconnect", room: "kick-W1" });
    await Promise.all(kicked);

    // ---- a frozen Node node: requests time out with a clear error, broadcasts carry on
    B.kill("SIGSTOP");
    const started = Date.now();
    await assert.rejects(
      W1.fetchSockets({ room: "lobby" }),
      (e: Error) => {
        assert.equal(e.name, "TimeoutError");
        assert.match(
          e.message,
          /^Cannot fetch sockets: timeout reached after 1500 ms, 2 of 3 node\(s\) answered$/,
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(
      W2.of("/").serverSideEmit("hello", "z", { timeout: 800 }),
      /Cannot emit to other servers: timeout reached after 800 ms, 2 of 3/,
    );
    ALL.add("m7");
    W2.emit("news", "m7", { room: "lobby" });
    await Promise.all(
      [lobby.A, lobby.W1, lobby.W2].map((c) => c.received("m7")),
    );
    B.kill("SIGKILL");
    await B.stop();
    // the dead node's subscriptions are gone: the fleet answers again
    assert.equal(await W1.of("/").adapter.serverCount(), 3);
    const after = await W1.fetchSockets({ room: "lobby" });
    assert.deepEqual(
      after.map((s) => s.id).sort(),
      [lobby.A.id, lobby.W1.id, lobby.W2.id].sort(),
    );
    assert.deepEqual(
      (await W2.of("/").serverSideEmit("hello", "again")).sort(),
      ["A says again", "W1 says again"],
    );
  } finally {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.shutdown()));
    await Promise.all([A.stop(), B.stop()]);
  }
}

redisTest(
  "redis adapter: mixed fleet of 2 Node socket.io (@socket.io/redis-adapter) + 2 weft nodes",
  (redis) => mixedFleet(redis, "socket.io"),
);

redisTest(
  "redis streams adapter: mixed fleet of 2 Node socket.io (@socket.io/redis-streams-adapter) + 2 weft nodes",
  (redis) => mixedFleet(redis, "socket.io-streams"),
);

redisTest(
  "redis emitter: weft's RedisEmitter and the official emitter reach a mixed fleet",
  async (redis) => {
    const A = new NodePeer(redis.url, "A");
    const servers: EventServer[] = [];
    const clients: Client[] = [];
    const official = createClient({ url: redis.url });
    official.on("error", () => {});
    const emitter = new RedisEmitter({ url: redis.url });
    try {
      const W = await weftNode(redis.url, "W");
      servers.push(W);
      await A.ready();
      const a = new Client(A.url, "A.lobby", ["lobby"]);
      const aOut = new Client(A.url, "A.out", ["out"]);
      const w = new Client(W.url, "W.lobby", ["lobby"]);
      const wOut = new Client(W.url, "W.out", ["out"]);
      clients.push(a, aOut, w, wOut);
      await Promise.all(clients.map((c) => c.connected()));
      ALL.add("e1").add("e2").add("e3").add("e4");

      // weft emitter: room with a skip, then everyone
      await emitter.emit("news", "e1", { room: "lobby", skip: a.id });
      await emitter.emit("news", "e2");
      // the official emitter (notepack.io) → weft and Node nodes
      await official.connect();
      const io = new Emitter(official);
      io.to("lobby").emit("news", "e3");
      io.except("lobby").emit("news", "e4");
      await official.ping(); // Redis has published e3 and e4 before "end"
      await emitter.emit("news", "end");
      ALL.add("end");
      await Promise.all(clients.map((c) => c.received("end")));
      expectExactlyOnce(
        clients,
        new Map([
          [a, ["e2", "e3", "end"]],
          [w, ["e1", "e2", "e3", "end"]],
          [aOut, ["e2", "e4", "end"]],
          [wOut, ["e2", "e4", "end"]],
        ]),
      );

      // rooms from the emitters, checked by broadcasts sent after them on
      // the same connection (the bus keeps one publisher's order)
      ALL.add("v1").add("v2").add("g1").add("end2");
      await emitter.socketsJoin("vip", { room: "out" });
      await emitter.emit("news", "v1", { room: "vip" });
      io.in("lobby").socketsJoin("gold");
      io.to("gold").emit("news", "g1");
      await official.ping();
      await emitter.closeRoom("vip");
      await emitter.emit("news", "v2", { room: "vip" });
      await emitter.emit("news", "end2");
      await Promise.all(clients.map((c) => c.received("end2")));
      expectExactlyOnce(
        clients,
        new Map([
          [a, ["e2", "e3", "end", "g1", "end2"]],
          [w, ["e1", "e2", "e3", "end", "g1", "end2"]],
          [aOut, ["e2", "e4", "end", "v1", "end2"]],
          [wOut, ["e2", "e4", "end", "v1", "end2"]],
        ]),
      );
      assert.deepEqual(
        (await W.fetchSockets({ room: "gold" })).map((s) => s.id).sort(),
        [a.id, w.id].sort(),
      );
      assert.deepEqual(await W.fetchSockets({ room: "vip" }), []);
      const seen: unknown[] = [];
      W.of("/").onServerSideEmit("tick", (n: unknown) => void seen.push(n));
      await emitter.serverSideEmit("tick", 7);
      const gone = new Promise<void>((r) =>
        wOut.socket.once("disconnect", () => r())
      );
      await emitter.disconnectSockets({ room: "out", close: true });
      await gone;
      assert.deepEqual(seen, [7]); // requests are handled in order
    } finally {
      for (const c of clients) c.close();
      await emitter.close();
      if (official.isOpen) await official.close();
      await Promise.all(servers.map((s) => s.shutdown()));
      await A.stop();
    }
  },
);

redisTest(
  "redis emitter (socket.io-streams): reaches weft and Node nodes through the stream",
  async (redis) => {
    const A = new NodePeer(redis.url, "A", "socket.io-streams");
    const servers: EventServer[] = [];
    const clients: Client[] = [];
    const emitter = new RedisEmitter({
      url: redis.url,
      protocol: "socket.io-streams",
    });
    try {
      const W = await weftNode(redis.url, "W", "socket.io-streams");
      servers.push(W);
      await A.ready();
      const a = new Client(A.url, "A.lobby", ["lobby"]);
      const aOut = new Client(A.url, "A.out", ["out"]);
      const w = new Client(W.url, "W.lobby", ["lobby"]);
      const wOut = new Client(W.url, "W.out", ["out"]);
      clients.push(a, aOut, w, wOut);
      await Promise.all(clients.map((c) => c.connected()));
      for (const m of ["s1", "s2", "s3", "s4", "s-end"]) ALL.add(m);
      const ticked = new Promise((resolve) =>
        W.of("/").onServerSideEmit("tick", resolve)
      );

      await emitter.emit("news", "s1", { room: "lobby", skip: a.id });
      await emitter.emit("news", "s2");
      await emitter.socketsJoin("vip", { room: "out" });
      await emitter.emit("news", "s3", { room: "vip" });
      await emitter.closeRoom("vip");
      await emitter.emit("news", "s4", { room: "vip" });
      await emitter.serverSideEmit("tick", 7);
      await emitter.emit("news", "s-end");
      await Promise.all(clients.map((c) => c.received("s-end")));
      expectExactlyOnce(
        clients,
        new Map([
          [a, ["s2", "s-end"]],
          [w, ["s1", "s2", "s-end"]],
          [aOut, ["s2", "s3", "s-end"]],
          [wOut, ["s2", "s3", "s-end"]],
        ]),
      );
      assert.equal(await withTimeout(ticked, 5000, "tick"), 7);
      const gone = [aOut, wOut].map((c) =>
        new Promise<void>((r) => c.socket.once("disconnect", () => r()))
      );
      await emitter.disconnectSockets({ room: "out", close: true });
      await withTimeout(Promise.all(gone), 5000, "disconnects");
    } finally {
      for (const c of clients) c.close();
      await emitter.close();
      await Promise.all(servers.map((s) => s.shutdown()));
      await A.stop();
    }
  },
);
