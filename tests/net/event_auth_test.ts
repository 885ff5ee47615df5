import assert from "node:assert/strict";
import { connectEvents, EventAuthError, serveEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { closeAll, RawSocket, startServer } from "./_event_helpers.ts";

const KEY = crypto.getRandomValues(new Uint8Array(32));

/** A server with an auth key that records what reached the application. */
function authServer(authTimeout = 5000) {
  const reached: string[] = [];
  const server = startServer({
    authKey: KEY,
    authTimeout,
    onConnection(socket) {
      reached.push(`connection ${socket.id}`);
      socket.on("secret", (d) => {
        reached.push(`event ${JSON.stringify(d)}`);
        return "classified";
      });
    },
  });
  return { server, reached };
}

Deno.test("authKey: a client with the right key connects and its events are handled", async () => {
  const { server, reached } = authServer();
  const client = await connectEvents(server.url, { authKey: KEY });
  try {
    assert.equal(await client.emit("secret", 1, { ack: true }), "classified");
    assert.equal(reached.length, 2);
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("authKey: a string key is its UTF-8 bytes on both sides", async () => {
  const server = serveEvents({
    authKey: "s3cret",
    onConnection: (s) => void s.on("ping!", () => "pong!"),
  });
  const client = await connectEvents(server.url, {
    authKey: new TextEncoder().encode("s3cret"),
  });
  try {
    assert.equal(await client.emit("ping!", null, { ack: true }), "pong!");
  } finally {
    await closeAll(server, [client]);
  }
});

Deno.test("authKey: a wrong key is refused (EventAuthError, code 4001) before any event is handled", async () => {
  const { server, reached } = authServer();
  try {
    const wrong = crypto.getRandomValues(new Uint8Array(32));
    await assert.rejects(
      connectEvents(server.url, {
        authKey: wrong,
        reconnect: { initialDelay: 10 },
      }),
      (e: Error) =>
        e instanceof EventAuthError &&
        /Authentication failed: wrong key/.test(e.message),
    );
    await assert.rejects(
      connectEvents(server.url), // no key at all
      (e: Error) =>
        e instanceof EventAuthError && /requires an auth key/.test(e.message),
    );
    assert.deepEqual(reached, []);
    assert.equal(server.sockets.size, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("authKey: events sent instead of (or along with) the answer never reach a handler", async () => {
  const { server, reached } = authServer();
  const raws = [new RawSocket(server.url), new RawSocket(server.url)];
  try {
    // 1: an event instead of the answer
    await raws[0].opened();
    const challenge = await raws[0].nextJson();
    assert.equal(challenge.t, "c");
    assert.equal(challenge.alg, "HMAC-SHA256");
    raws[0].ws.send(JSON.stringify({ t: "e", n: "secret", d: "sneak", id: 1 }));
    const closed = await withTimeout(raws[0].closed, 5000, "close 1");
    assert.equal(closed.code, 4001);
    assert.match(
      closed.reason,
      /Authentication failed: expected the challenge answer/,
    );

    // 2: a forged answer immediately followed by an event
    await raws[1].opened();
    await raws[1].nextJson();
    const nonce = btoa(String.fromCharCode(...new Uint8Array(32)));
    raws[1].ws.send(
      JSON.stringify({ t: "r", mac: btoa("x".repeat(32)), nonce }),
    );
    raws[1].ws.send(JSON.stringify({ t: "e", n: "secret", d: "sneak", id: 2 }));
    const closed2 = await withTimeout(raws[1].closed, 5000, "close 2");
    assert.equal(closed2.code, 4001);
    assert.equal(raws[1].messages.length, 0); // no hello, no ack
    assert.deepEqual(reached, []);
  } finally {
    await Promise.all(raws.map((r) => r.close()));
    await server.shutdown();
  }
});

Deno.test("authKey: a client that never answers is closed after authTimeout", async () => {
  const { server, reached } = authServer(150);
  const raw = new RawSocket(server.url);
  try {
    await raw.opened();
    const t0 = performance.now();
    await raw.nextJson(); // the challenge
    const closed = await withTimeout(raw.closed, 5000, "auth deadline");
    const elapsed = performance.now() - t0;
    assert.equal(closed.code, 4001);
    assert.match(closed.reason, /no answer within 150 ms/);
    assert.ok(elapsed < 4000, `${elapsed} ms`);
    assert.deepEqual(reached, []);
  } finally {
    await raw.close();
    await server.shutdown();
  }
});

Deno.test("authKey: a client with a key refuses a server that cannot prove it knows the key", async () => {
  const server = startServer(); // no auth: sends a hello without a proof
  try {
    await assert.rejects(
      connectEvents(server.url, { authKey: KEY }),
      (e: Error) =>
        e instanceof EventAuthError &&
        /server did not prove it knows the key/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }
});
