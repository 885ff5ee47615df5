// The authkey scheme: an HMAC-SHA256 proof over the server-chosen Engine.IO
// session id, carried in the CONNECT auth payload (net/_event_auth.ts).

import assert from "node:assert/strict";
import {
  connectEvents,
  EventAuthError,
  EventClient,
  serveEvents,
} from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { startServer } from "./_event_helpers.ts";

const KEY = crypto.getRandomValues(new Uint8Array(32));

Deno.test("authkey: the right key connects, the rest of the auth payload reaches the handler", async () => {
  await using server = startServer({ authkey: KEY });
  const auths: unknown[] = [];
  server.on("connect", (_sid, _environ, auth) => void auths.push(auth));
  server.on("echo", (_sid, x) => x);
  await using client = await connectEvents(server.url, {
    authkey: KEY,
    auth: { user: "ada" },
  });
  assert.equal(await client.call("echo", 7), 7);
  assert.deepEqual(auths, [{ user: "ada" }]);
  // over polling too
  await using poller = await connectEvents(server.url, {
    authkey: KEY,
    transports: ["polling"],
  });
  assert.equal(await poller.call("echo", 8), 8);
});

Deno.test("authkey: a wrong or missing proof is refused before any handler runs", async () => {
  await using server = startServer({ authkey: KEY });
  let handlers = 0;
  server.on("connect", () => void handlers++);
  await assert.rejects(
    connectEvents(server.url, { authkey: "wrong", reconnection: false }),
    EventAuthError,
  );
  await assert.rejects(
    connectEvents(server.url, { reconnection: false }),
    /Authentication failed/,
  );
  await assert.rejects(
    connectEvents(server.url, {
      auth: { nonce: "AAAAAAAAAAAAAAAAAAAAAA==", hmac: "x" },
      reconnection: false,
    }),
    /Authentication failed/,
  );
  assert.equal(handlers, 0);
});

Deno.test("authkey: a captured proof does not work on another connection (replay)", async () => {
  await using server = startServer({ authkey: KEY });
  // Capture a real proof from a weft client's CONNECT (a polling POST body)
  // by wrapping fetch.
  let captured: Record<string, unknown> | undefined;
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const body = init?.body;
    if (typeof body === "string" && body.startsWith("40{")) {
      captured ??= JSON.parse(body.slice(2));
    }
    return original(input, init);
  };
  try {
    await using honest = await connectEvents(server.url, {
      authkey: KEY,
      transports: ["polling"],
    });
    assert.ok(honest.connected);
  } finally {
    globalThis.fetch = original;
  }
  assert.ok(captured?.hmac && captured.nonce);
  await assert.rejects(
    connectEvents(server.url, { auth: captured, reconnection: false }),
    /Authentication failed/,
  );
});

Deno.test("authkey: the client refuses a server that cannot prove the key", async () => {
  await using impostor = serveEvents(); // no key: answers CONNECT without a proof
  const client = new EventClient({ authkey: KEY, reconnection: false });
  await assert.rejects(
    withTimeout(client.connect(impostor.url), 10_000, "connect"),
    EventAuthError,
  );
  // the deprecated option name still works
  await using server = startServer({ authKey: KEY });
  await using old = await connectEvents(server.url, { authKey: KEY });
  assert.ok(old.connected);
});
