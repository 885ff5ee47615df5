// connectEvents against a real socket.io 4 server (npm socket.io 4.8, run
// in this process through Deno's Node compatibility): both transports,
// namespaces, rooms with skip, acks with several values, nested binary,
// connect_error with data, reconnection after a server restart, and the
// client's own ping timeout.

import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { Server } from "npm:socket.io@4.8.1";
import {
  connectEvents,
  EventClient,
  EventConnectionError,
  Tuple,
  tuple,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { nextEvent, until } from "./_event_helpers.ts";

interface SioServer {
  url: string;
  io: Server;
  close(): Promise<void>;
}

async function startSocketIo(
  port = 0,
  options: Record<string, unknown> = {},
): Promise<SioServer> {
  const http: HttpServer = createServer();
  const io = new Server(http, { ...options });
  io.use((socket, next) => {
    if (socket.handshake.auth.token === "bad") {
      const error = new Error("Not authorized") as Error & { data?: unknown };
      error.data = { code: 4001 };
      return next(error);
    }
    next();
  });
  io.on("connection", (socket) => {
    socket.on("join", (room: string, ack: (...a: unknown[]) => void) => {
      socket.join(room);
      ack("joined", room);
    });
    socket.on(
      "say",
      (text: unknown, extra: unknown) =>
        socket.to("r").emit("said", text, extra),
    );
    socket.on("echo", (...args: unknown[]) => {
      const ack = args.pop() as (...a: unknown[]) => void;
      ack(...args);
    });
    socket.on("ask", async (ack: (...a: unknown[]) => void) => {
      const answer = await socket.timeout(10_000).emitWithAck(
        "question",
        "life",
      );
      ack(answer);
    });
  });
  io.of("/admin").on("connection", (socket) => {
    socket.on(
      "whoami",
      (ack: (...a: unknown[]) => void) => ack("admin", socket.id),
    );
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const actual = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    io,
    close: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections(); // idle keep-alive fetch connections too
      }),
  };
}

for (const transports of [["websocket"], ["polling"]] as const) {
  Deno.test(`connectEvents → socket.io 4 (${transports[0]}): rooms with skip, multi-value acks, nested binary, namespaces`, async () => {
    const sio = await startSocketIo();
    const a = await connectEvents(sio.url, {
      transports,
      namespaces: ["/", "/admin"],
    });
    const b = await connectEvents(sio.url, { transports });
    try {
      assert.equal(a.transport, transports[0]);
      const joined = await a.call("join", "r");
      assert.ok(joined instanceof Tuple);
      assert.deepEqual([...joined], ["joined", "r"]);
      await b.call("join", "r");
      let aHeard = 0;
      a.on("said", () => aHeard++);
      const atB = nextEvent(b, "said");
      a.emit("say", tuple("hi", { deep: [{ bytes: new Uint8Array([1, 2]) }] }));
      assert.deepEqual(await atB, ["hi", {
        deep: [{ bytes: new Uint8Array([1, 2]) }],
      }]);
      const echoed = await a.call(
        "echo",
        tuple(1, new Uint8Array([3]), { x: [new Uint8Array([4])] }),
      );
      assert.ok(echoed instanceof Tuple);
      assert.equal(echoed[0], 1);
      assert.deepEqual(
        new Uint8Array(echoed[1] as Uint8Array),
        new Uint8Array([3]),
      );
      assert.deepEqual(
        new Uint8Array((echoed[2] as { x: Uint8Array[] }).x[0]),
        new Uint8Array([4]),
      );
      const who = await a.call("whoami", undefined, { namespace: "/admin" });
      assert.ok(who instanceof Tuple);
      assert.deepEqual([...who], ["admin", a.getSid("/admin")]);
      a.on("question", (q) => `answer to ${q}`);
      assert.equal(await a.call("ask"), "answer to life");
      assert.equal(aHeard, 0);
    } finally {
      await a.disconnect();
      await b.disconnect();
      await sio.close();
    }
  });
}

Deno.test("connectEvents → socket.io 4: connect_error carries the server's message and data", async () => {
  const sio = await startSocketIo();
  try {
    const client = new EventClient({
      auth: { token: "bad" },
      reconnection: false,
    });
    const seen: unknown[] = [];
    client.on("connect_error", (data) => seen.push(data));
    await assert.rejects(client.connect(sio.url), (e: unknown) => {
      assert.ok(e instanceof EventConnectionError);
      assert.equal(e.message, "Not authorized");
      assert.deepEqual(e.data, { code: 4001 });
      return true;
    });
    assert.deepEqual(seen, [{
      message: "Not authorized",
      data: { code: 4001 },
    }]);
  } finally {
    await sio.close();
  }
});

Deno.test("connectEvents reconnects with back-off after the server restarts; buffered emits go out", async () => {
  let sio = await startSocketIo();
  const port = Number(new URL(sio.url).port);
  const client = await connectEvents(sio.url, {
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
  });
  try {
    const firstSid = client.sid;
    const events: string[] = [];
    client.on(
      "disconnect",
      (reason) => void events.push(`disconnect:${reason}`),
    );
    client.on("connect", () => void events.push("connect"));
    await sio.close();
    await until(() => events.length >= 1, "disconnect seen");
    assert.equal(client.connected, false);
    const answered = client.call("echo", "while away", { timeout: 30_000 });
    sio = await startSocketIo(port);
    await until(() => client.connected, "reconnected", 30_000);
    assert.equal(await answered, "while away");
    assert.notEqual(client.sid, firstSid);
    assert.equal(events.at(-1), "connect");
  } finally {
    await client.disconnect();
    await sio.close();
  }
});

Deno.test("connectEvents: a server that stops pinging is dropped after pingInterval + pingTimeout", async () => {
  // The only fake peer here: a WebSocket server that opens an Engine.IO
  // session and connects "/", then falls silent (a frozen server).
  const silent = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        socket.send(
          '0{"sid":"s1","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000}',
        );
      };
      socket.onmessage = (e) => {
        if (String(e.data).startsWith("40")) socket.send('40{"sid":"n1"}');
      };
      return response;
    },
  );
  const client = await connectEvents(`http://127.0.0.1:${silent.addr.port}`, {
    transports: ["websocket"],
    reconnection: false,
  });
  try {
    const reason = nextEvent(client, "disconnect", { ms: 10_000 });
    assert.deepEqual((await reason)[0], "ping timeout");
    await withTimeout(client.wait(), 10_000, "client finished");
  } finally {
    await client.disconnect();
    await silent.shutdown();
  }
});
