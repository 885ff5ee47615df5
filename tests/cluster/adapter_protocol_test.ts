// Every request type of the classic @socket.io/redis-adapter protocol, sent
// raw to a weft node (JSON as the Node adapter sends them, msgpack where it
// may), answered as the Node adapter answers — including the older
// single-socket forms (`sid` + `room`) that adapters before 8.x send. An
// unanswered request stalls a Node requester until its timeout, so each
// answer is awaited here. Bytes decoded with notepack.io (the Node side's
// codec).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import notepack from "npm:notepack.io@3.0.1";
import { createClient } from "npm:redis@6.3.1";
import { connectEvents } from "../../net/mod.ts";
import { type RedisAdapter, redisAdapter } from "../../cluster/mod.ts";
import { serveEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

redisTest(
  "redis adapter: answers every request type of the classic protocol",
  async (redis) => {
    const server = serveEvents({ adapter: redisAdapter({ url: redis.url }) });
    server.on("connect", (sid: string) => server.enterRoom(sid, "lobby"));
    server.of("/").onServerSideEmit("sum", (a: number, b: number) => a + b);
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    pub.on("error", () => {});
    sub.on("error", () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    const client = await connectEvents(server.url);
    try {
      await (server.of("/").adapter as RedisAdapter).ready;
      const sid = client.sid!;
      client.on("ask", (q: string) => `answer to ${q}`);
      const seen: string[] = [];
      client.on("news", (m: string) => void seen.push(m));

      const responses: Record<string, unknown>[] = [];
      const waiters: [(r: Record<string, unknown>) => boolean, () => void][] =
        [];
      await sub.subscribe("socket.io-response#/#", (msg: Buffer) => {
        const r = msg[0] === 0x7b
          ? JSON.parse(msg.toString())
          : notepack.decode(msg) as Record<string, unknown>;
        responses.push(r);
        for (const w of [...waiters]) {
          if (w[0](r)) waiters.splice(waiters.indexOf(w), 1), w[1]();
        }
      }, true);
      const answer = (
        requestId: string,
        extra = (_: Record<string, unknown>) => true,
      ) =>
        withTimeout(
          new Promise<Record<string, unknown>>((resolve) => {
            const test = (r: Record<string, unknown>) =>
              r.requestId === requestId && extra(r);
            const found = responses.find(test);
            if (found) {
              return resolve(found);
            }
            waiters.push([test, () => resolve(responses.find(test)!)]);
          }),
          5000,
          `answer to ${requestId}`,
        );
      const ask = (body: Record<string, unknown>) =>
        pub.publish(
          "socket.io-request#/#",
          JSON.stringify({ uid: "nodeX", ...body }),
        );

      // 0 SOCKETS
      await ask({ requestId: "r0", type: 0, rooms: ["lobby"] });
      assert.deepEqual((await answer("r0")).sockets, [sid]);
      // 1 ALL_ROOMS
      await ask({ requestId: "r1", type: 1 });
      assert.deepEqual(
        ((await answer("r1")).rooms as string[]).sort(),
        [sid, "lobby"].sort(),
      );
      // 2 REMOTE_JOIN, single-socket form (answered) and opts form (not answered)
      await ask({ requestId: "r2", type: 2, sid, room: "a" });
      await answer("r2");
      await ask({
        type: 2,
        opts: { rooms: ["lobby"], except: [] },
        rooms: ["b"],
      });
      // 5 REMOTE_FETCH (also proves the joins above were applied in order)
      await ask({
        requestId: "r5",
        type: 5,
        opts: { rooms: ["lobby"], except: [] },
      });
      const [info] = (await answer("r5")).sockets as {
        id: string;
        rooms: string[];
        handshake: { address: string; url: string };
      }[];
      assert.equal(info.id, sid);
      assert.deepEqual(info.rooms.sort(), [sid, "a", "b", "lobby"].sort());
      assert.equal(info.handshake.address, "127.0.0.1");
      assert.match(info.handshake.url, /^\/socket\.io\/\?EIO=4/);
      // 3 REMOTE_LEAVE, both forms
      await ask({ requestId: "r3", type: 3, sid, room: "a" });
      await answer("r3");
      await ask({ type: 3, opts: { rooms: [], except: [] }, rooms: ["b"] });
      await ask({ requestId: "r3b", type: 0, rooms: ["b"] }); // after the leave
      assert.deepEqual((await answer("r3b")).sockets, []);
      assert.deepEqual(server.rooms(sid).sort(), [sid, "lobby"].sort());
      // 6 SERVER_SIDE_EMIT with an ack (answered) and without (run only)
      await ask({ requestId: "r6", type: 6, data: ["sum", 2, 3] });
      assert.deepEqual(await answer("r6"), {
        type: 6,
        requestId: "r6",
        data: 5,
      });
      // 7 BROADCAST with acks (msgpack, like the Node adapter sends it)
      await pub.publish(
        "socket.io-request#/#",
        Buffer.from(notepack.encode({
          uid: "nodeX",
          requestId: "r7",
          type: 7,
          packet: { type: 2, data: ["ask", "life"], nsp: "/" },
          opts: { rooms: ["lobby"], except: [], flags: { timeout: 2000 } },
        })),
      );
      assert.deepEqual(await answer("r7", (r) => r.type === 8), {
        type: 8,
        requestId: "r7",
        clientCount: 1,
      });
      assert.deepEqual(await answer("r7", (r) => r.type === 9), {
        type: 9,
        requestId: "r7",
        packet: "answer to life",
      });
      // a broadcast on a room channel, msgpack as the Node adapter publishes it
      await pub.publish(
        "socket.io#/#lobby#",
        Buffer.from(notepack.encode([
          "nodeX",
          { type: 2, data: ["news", "hello"], nsp: "/" },
          { rooms: ["lobby"], except: [], flags: {} },
        ])),
      );
      // and one for a room nobody here is in: ignored
      await pub.publish(
        "socket.io#/#nowhere#",
        Buffer.from(notepack.encode([
          "nodeX",
          { type: 2, data: ["news", "not for us"], nsp: "/" },
          { rooms: ["nowhere"], except: [], flags: {} },
        ])),
      );
      // malformed messages are ignored, the node keeps answering
      await pub.publish("socket.io-request#/#", "{not json");
      await pub.publish("socket.io-request#/#", Buffer.from([0xc1, 0xff]));
      await pub.publish("socket.io#/#", Buffer.from([0x93, 0xc1]));
      // 4 REMOTE_DISCONNECT, single-socket form (answered)
      const gone = new Promise<void>((r) => client.on("disconnect", () => r()));
      await ask({ requestId: "r4", type: 4, sid, close: true });
      await answer("r4");
      await withTimeout(gone, 5000, "disconnect");
      assert.deepEqual(seen, ["hello"]);
    } finally {
      await client.disconnect();
      await server.shutdown();
      await Promise.allSettled([pub.close(), sub.close()]);
    }
  },
);
