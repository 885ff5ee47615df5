// weft's client upgrading from long-polling to WebSocket (probe, pause,
// switch), against a real socket.io 4.8 server (npm, through Deno's Node
// compatibility) and against weft's own server: a numbered sequence sent
// both ways while the transports switch arrives whole, once and in order,
// and acknowledgements asked for during the switch all come back.

import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { Server, type Socket } from "npm:socket.io@4.8.1";
import { EventClient, serveEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { until } from "./_event_helpers.ts";

interface Peer {
  url: string;
  /** Numbers the server got as "seq" events, in arrival order. */
  up: number[];
  /** Sends "down" with `i` to the (only) connected client. */
  down(i: number): void;
  /** The server's view of the client's transport. */
  transport(): string | undefined;
  close(): Promise<void>;
}

async function socketIoPeer(): Promise<Peer> {
  const http: HttpServer = createServer();
  const io = new Server(http);
  const up: number[] = [];
  let socket: Socket | undefined;
  io.on("connection", (s) => {
    socket = s;
    s.on("seq", (i: number) => up.push(i));
    s.on("echo", (x: unknown, ack: (v: unknown) => void) => ack(x));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}`,
    up,
    down: (i) => socket!.emit("down", i),
    transport: () => socket?.conn.transport.name,
    close: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function weftPeer(): Peer {
  const server = serveEvents({ onError: () => {} });
  const up: number[] = [];
  let sid: string | undefined;
  server.on("connect", (s) => void (sid = s));
  server.on("seq", (_sid, i) => void up.push(i as number));
  server.on("echo", (_sid, x) => x);
  return {
    url: server.url,
    up,
    down: (i) => server.emit("down", i, { to: sid! }),
    transport: () => sid && server.transport(sid),
    close: () => server.shutdown(),
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Connects on polling, then sends numbers both ways (and acknowledged
 * calls) in small batches until the client is on WebSocket, and 100 more.
 */
async function sequenceAcrossUpgrade(peer: Peer): Promise<void> {
  const client = new EventClient({ transports: ["polling", "websocket"] });
  const down: number[] = [];
  client.on("down", (i) => void down.push(i));
  // the numbers that went in polling POST bodies (the rest: WebSocket)
  const posted: number[] = [];
  const fetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (typeof init?.body === "string") {
      for (const m of init.body.matchAll(/42\["seq",(\d+)\]/g)) {
        posted.push(Number(m[1]));
      }
    }
    return fetch(input, init);
  };
  try {
    await withTimeout(client.connect(peer.url), 10_000, "connect");
    assert.equal(client.transport, "polling");
    let n = 0;
    const calls: Promise<unknown>[] = [];
    const step = () => {
      client.emit("seq", n);
      peer.down(n);
      if (n % 10 === 0) calls.push(client.call("echo", n, { timeout: 20_000 }));
      n++;
    };
    await withTimeout(
      (async () => {
        while (client.transport === "polling") {
          for (let k = 0; k < 20; k++) step();
          await new Promise((r) => setTimeout(r, 0));
        }
        for (let k = 0; k < 100; k++) step();
      })(),
      15_000,
      "upgrade to WebSocket",
    );
    await until(
      () => peer.up.length >= n && down.length >= n,
      `all ${n} numbers both ways (got ${peer.up.length} up, ${down.length} down)`,
      15_000,
    );
    // the switch came in the middle of the sequence: a first part went by
    // polling, the rest (at least the 100 sent once the client reported
    // WebSocket) by WebSocket
    assert.ok(
      posted.length > 0 && posted.length <= n - 100,
      `${posted.length}`,
    );
    assert.deepEqual(posted, range(posted.length));
    assert.deepEqual(peer.up, range(n)); // none lost, none twice, in order
    assert.deepEqual(down, range(n));
    const answers = await withTimeout(Promise.all(calls), 15_000, "acks");
    assert.deepEqual(answers, range(n).filter((i) => i % 10 === 0));
    assert.equal(client.transport, "websocket");
    assert.equal(peer.transport(), "websocket");
  } finally {
    globalThis.fetch = fetch;
    await client.disconnect();
  }
}

for (
  const [name, start] of [
    ["socket.io 4.8", socketIoPeer],
    ["weft's server", weftPeer],
  ] as const
) {
  Deno.test(`upgrade polling → WebSocket against ${name}: a numbered sequence both ways, nothing lost or doubled`, async () => {
    const peer = await start();
    try {
      await sequenceAcrossUpgrade(peer);
    } finally {
      await peer.close();
    }
  });
}

Deno.test('no upgrade with upgrade: false, with transports: ["polling"], or when the server offers none', async () => {
  const peer = weftPeer();
  await using pollingOnly = serveEvents({ transports: ["polling"] });
  pollingOnly.on("echo", (_sid, x) => x);
  try {
    for (
      const [url, options] of [
        [peer.url, { upgrade: false, transports: ["polling", "websocket"] }],
        [peer.url, { transports: ["polling"] }],
        [pollingOnly.url, { transports: ["polling", "websocket"] }],
      ] as const
    ) {
      await using client = new EventClient(options);
      await withTimeout(client.connect(url), 10_000, "connect");
      // 20 round trips: an upgrade would have finished long before
      for (let i = 0; i < 20; i++) {
        assert.equal(await client.call("echo", i, { timeout: 10_000 }), i);
      }
      assert.equal(client.transport, "polling", JSON.stringify(options));
    }
  } finally {
    await peer.close();
  }
});
