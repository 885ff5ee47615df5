// The client's incoming size cap (maxPayload) against hostile servers: tiny
// real servers in this process that open an Engine.IO session, connect "/",
// then announce or stream more than the client accepts. The client must
// refuse from the header (WebSocket frame, Content-Length) without waiting
// for the payload, cut a streamed body off at the cap, and end with the
// reason "payload too large".

import assert from "node:assert/strict";
import { EventClient, EventConnectionError } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { nextEvent } from "./_event_helpers.ts";

const OPEN =
  '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
const encoder = new TextEncoder();

/** An unmasked server frame header (+ payload, if given). */
function frame(opcode: number, length: number, payload?: Uint8Array) {
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(head + (payload?.length ?? 0));
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(length));
  }
  if (payload) out.set(payload, head);
  return out;
}

const text = (s: string) => {
  const bytes = encoder.encode(s);
  return frame(1, bytes.length, bytes);
};

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

/**
 * A raw WebSocket server for one client: handshake, open packet, CONNECT
 * answer (unless `refuseConnect`), then `hostile` bytes. Resolves with the
 * number of bytes the client sent after the hostile bytes went out, once
 * the client has closed the connection.
 */
function hostileWebSocket(
  hostile: Uint8Array,
  answerConnect: boolean,
): { url: string; done: Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    try {
      const buf = new Uint8Array(64 * 1024);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("client left during the handshake");
        head += new TextDecoder().decode(buf.subarray(0, n));
      }
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
      const digest = await crypto.subtle.digest(
        "SHA-1",
        encoder.encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
      );
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      await writeAll(
        conn,
        encoder.encode(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
            `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ),
      );
      await writeAll(conn, text(OPEN));
      // the client's CONNECT (a small masked frame) arrives next
      if ((await conn.read(buf)) === null) throw new Error("client left");
      if (answerConnect) await writeAll(conn, text('40{"sid":"n1"}'));
      await writeAll(conn, hostile);
      // the client must close without waiting for the announced payload
      while ((await conn.read(buf)) !== null);
    } finally {
      conn.close();
    }
  })();
  return { url: `http://127.0.0.1:${listener.addr.port}`, done };
}

Deno.test("maxPayload: a WebSocket frame announcing 60 MiB is refused from its header", async () => {
  // only the header goes out: a client waiting for the payload would hang
  const server = hostileWebSocket(frame(1, 60 * 1024 * 1024), true);
  const client = new EventClient({
    transports: ["websocket"],
    reconnection: false,
  });
  try {
    const disconnected = nextEvent(client, "disconnect");
    await withTimeout(client.connect(server.url), 10_000, "connect");
    assert.deepEqual(await disconnected, ["payload too large", "/"]);
    await withTimeout(server.done, 10_000, "client closed the connection");
    await withTimeout(client.wait(), 10_000, "client finished");
  } finally {
    await client.disconnect();
    await server.done.catch(() => {});
  }
});

Deno.test("maxPayload: an oversize answer to CONNECT fails connect() with the reason", async () => {
  const big = text("40" + JSON.stringify({ sid: "x".repeat(2000) }));
  const server = hostileWebSocket(big, false);
  const client = new EventClient({
    transports: ["websocket"],
    reconnection: false,
    maxPayload: 1000,
  });
  try {
    await assert.rejects(
      withTimeout(client.connect(server.url), 10_000, "connect"),
      (e: unknown) =>
        e instanceof EventConnectionError &&
        /payload too large/.test(e.message),
    );
    await withTimeout(server.done, 10_000, "client closed the connection");
  } finally {
    await client.disconnect();
    await server.done.catch(() => {});
  }
});

/**
 * A polling server whose second poll answers with `body` (headers
 * `headers`); counts the body bytes the client pulled.
 */
function hostilePolling(
  body: () => ReadableStream<Uint8Array>,
  headers: Record<string, string>,
) {
  let polls = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      if (req.method === "POST") {
        await req.text();
        return new Response("ok");
      }
      if (!url.searchParams.has("sid")) return new Response(OPEN);
      if (++polls === 1) return new Response('40{"sid":"n1"}');
      return new Response(body(), { headers });
    },
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, server };
}

Deno.test("maxPayload: a polling response announcing 100 MB in Content-Length is refused unread", async () => {
  let pulled = 0;
  const { url, server } = hostilePolling(
    () =>
      new ReadableStream({
        pull(c) {
          pulled++;
          c.enqueue(new Uint8Array(1)); // a trickle: never 100 MB
          return new Promise((r) => setTimeout(r, 50));
        },
      }),
    { "content-length": "100000000" },
  );
  const client = new EventClient({
    transports: ["polling"],
    reconnection: false,
  });
  try {
    const disconnected = nextEvent(client, "disconnect");
    await withTimeout(client.connect(url), 10_000, "connect");
    assert.deepEqual(await disconnected, ["payload too large", "/"]);
    assert.ok(pulled < 100, `${pulled} chunks`);
  } finally {
    await client.disconnect();
    await server.shutdown();
  }
});

Deno.test("maxPayload: a polling response streaming without end is cut off at the cap", async () => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const { url, server } = hostilePolling(
    () =>
      new ReadableStream({
        pull(c) {
          sent += chunk.length;
          c.enqueue(chunk);
        },
      }),
    {},
  );
  const client = new EventClient({
    transports: ["polling"],
    reconnection: false,
    maxPayload: 1024 * 1024,
  });
  try {
    const disconnected = nextEvent(client, "disconnect");
    await withTimeout(client.connect(url), 10_000, "connect");
    assert.deepEqual(await disconnected, ["payload too large", "/"]);
    // the cap plus what the sockets and streams had buffered, not more
    assert.ok(sent < 32 * 1024 * 1024, `${sent} bytes sent`);
  } finally {
    await client.disconnect();
    await server.shutdown();
  }
});

Deno.test("maxPayload is validated", () => {
  for (const maxPayload of [0, 63, 1.5, -1, NaN]) {
    assert.throws(() => new EventClient({ maxPayload }), RangeError);
  }
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new EventClient({ upgrade: "yes" as any }),
    TypeError,
  );
});
