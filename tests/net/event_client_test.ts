import assert from "node:assert/strict";
import { connectEvents, EventClient } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import {
  closeAll,
  eventually,
  nextEvent,
  startServer,
} from "./_event_helpers.ts";

Deno.test("EventClient rejects bad urls and options with clear errors", () => {
  assert.throws(
    () => new EventClient("http://127.0.0.1:1/events"),
    /expected ws: or wss:/,
  );
  assert.throws(
    () => new EventClient("ws://127.0.0.1:1/", { reconnect: { jitter: 2 } }),
    /"jitter"/,
  );
  assert.throws(
    () => new EventClient("ws://127.0.0.1:1/", { ackTimeout: -1 }),
    /"ackTimeout"/,
  );
  assert.throws(
    () => new EventClient("ws://127.0.0.1:1/", { authKey: "" }),
    /"authKey"/,
  );
});

Deno.test("EventClient with an aborted signal is closed at once; abort closes a live one", async () => {
  const server = startServer();
  try {
    const client = new EventClient(server.url, { signal: AbortSignal.abort() });
    assert.equal(client.closed, true);
    await assert.rejects(client.ready(), /aborted/);
    const controller = new AbortController();
    const live = await connectEvents(server.url, { signal: controller.signal });
    const gone = nextEvent(live, "disconnect");
    controller.abort();
    assert.equal(await gone, "Client closed");
    assert.equal(live.closed, true);
    await live.close(); // idempotent
  } finally {
    await server.shutdown();
  }
});

Deno.test("EventClient drops a silent server (no pings) and reconnects", async () => {
  // A fake server that says hello with a 50+50 ms heartbeat window and
  // then never pings.
  let connections = 0;
  const sockets: WebSocket[] = [];
  const fake = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request, {
        idleTimeout: 0,
      });
      sockets.push(socket);
      socket.onopen = () => {
        connections++;
        socket.send(
          JSON.stringify({
            t: "h",
            sid: `s${connections}`,
            pi: 50,
            pt: 50,
            mx: 4096,
          }),
        );
      };
      return response;
    },
  );
  const client = new EventClient(`ws://127.0.0.1:${fake.addr.port}/`, {
    reconnect: { initialDelay: 10, maxDelay: 50 },
  });
  try {
    await withTimeout(client.ready(), 5000, "first connection");
    assert.equal(client.id, "s1");
    const reason = await nextEvent(client, "disconnect", 5000);
    assert.match(String(reason), /Ping timeout: the server went silent/);
    // (it may already be on its third connection: every fake one goes silent)
    await eventually(
      () => client.id !== undefined && client.id !== "s1",
      5000,
      "reconnected",
    );
    assert.ok(connections >= 2);
  } finally {
    await client.close();
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        // closed
      }
    }
    await fake.shutdown();
  }
});

Deno.test("EventClient buffers at most maxBuffered events while disconnected", async () => {
  const server = startServer();
  const url = server.url;
  await server.shutdown();
  const client = new EventClient(url, {
    maxBuffered: 2,
    reconnect: { initialDelay: 1000 },
  });
  try {
    client.emit("a");
    client.emit("b");
    assert.throws(
      () => client.emit("c"),
      (e: Error) =>
        e instanceof RangeError && /2 events already buffered/.test(e.message),
    );
  } finally {
    await client.close();
  }
});

Deno.test("EventClient.close() rejects pending acks and buffered ack emits", async () => {
  const server = startServer({
    onConnection: (s) => void s.on("stall", () => new Promise(() => {})),
  });
  const client = await connectEvents(server.url);
  try {
    const pending = assert.rejects(
      client.emit("stall", 1, { ack: true }),
      /acknowledgement for event "stall": the client was closed/,
    );
    await client.close();
    await pending;
    await assert.rejects(
      client.emit("stall", 2, { ack: true }),
      /client is closed/,
    );
    assert.equal(client.connected, false);
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("EventClient gives up on an attempt the server never answers (connectTimeout)", async () => {
  // Accepts TCP connections and never says a word.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch {
      // listener closed
    }
  })();
  const url = `ws://127.0.0.1:${listener.addr.port}/events`;
  try {
    const t0 = performance.now();
    const client = new EventClient(url, {
      connectTimeout: 150,
      reconnect: { initialDelay: 10, maxDelay: 20, maxAttempts: 2 },
    });
    await assert.rejects(
      withTimeout(client.ready(), 10_000, "give up"),
      /Cannot connect to .*: 2 attempts failed \(last: connection attempt timed out after 150 ms\)/,
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 290 && elapsed < 8000, `${elapsed} ms`);
    assert.ok(conns.length >= 2);
    await client.close();
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) conn.close();
  }
});
