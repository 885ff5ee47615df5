// The chat example (examples/chat/server.ts) driven by Deno clients; the
// same app in a real browser is tests/net/event_browser_test.ts.

import assert from "node:assert/strict";
import { startChat } from "../../examples/chat/server.ts";
import { connectEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { nextEvent } from "./_event_helpers.ts";

Deno.test("chat example: serves its page and bundled client, and relays room messages", async () => {
  const controller = new AbortController();
  const chat = await withTimeout(
    startChat({ port: 0, signal: controller.signal }),
    30_000,
    "chat start",
  );
  const url = `ws://127.0.0.1:${chat.server.addr.port}/events`;
  const [ann, bob, cyd] = await Promise.all([
    connectEvents(url),
    connectEvents(url),
    connectEvents(url),
  ]);
  try {
    const page = await fetch(chat.pageUrl);
    assert.match(await page.text(), /<title>weft chat<\/title>/);
    const script = await fetch(new URL("/event_client.js", chat.pageUrl));
    assert.equal(
      script.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    const code = await script.text();
    assert.match(code, /export\s*\{[^}]*EventClient/);
    assert.doesNotMatch(code, /\bDeno\./); // browser-ready: no Deno APIs

    assert.deepEqual(
      await ann.emit("join", { name: "ann", room: "r" }, { ack: true }),
      {
        room: "r",
        members: ["ann"],
      },
    );
    const annSees = nextEvent(ann, "system");
    await bob.emit("join", { name: "bob", room: "r" }, { ack: true });
    assert.equal(await annSees, "bob joined r");
    await cyd.emit("join", { name: "cyd", room: "elsewhere" }, { ack: true });

    let cydGot = 0;
    cyd.on("message", () => void cydGot++);
    const bobGets = nextEvent(bob, "message");
    const mine = await ann.emit("say", "  hi   bob ", { ack: true }) as Record<
      string,
      unknown
    >;
    assert.equal(mine.text, "hi bob");
    const got = await bobGets as Record<string, unknown>;
    assert.deepEqual([got.name, got.room, got.text], ["ann", "r", "hi bob"]);
    assert.equal(cydGot, 0);
    const stranger = await connectEvents(url);
    try {
      await assert.rejects(
        stranger.emit("say", "x", { ack: true }),
        /join a room first/,
      );
    } finally {
      await stranger.close();
    }
  } finally {
    await Promise.all([ann.close(), bob.close(), cyd.close()]);
    controller.abort();
    await withTimeout(chat.server.finished, 10_000, "chat shutdown");
  }
});
