// The chat example (examples/chat/server.ts) driven by an official
// socket.io-client and weft clients; the same app in a real browser is
// tests/net/event_browser_test.ts. Also the tutorial's server counterpart
// (examples/chat/tutorial_server.ts) with the official client.

import assert from "node:assert/strict";
import { io, type Socket } from "npm:socket.io-client@4.8.1";
import { startChat } from "../../examples/chat/server.ts";
import { startTutorialServer } from "../../examples/chat/tutorial_server.ts";
import { connectEvents } from "../../net/mod.ts";
import { withTimeout } from "../_helpers.ts";
import { nextEvent, until } from "./_event_helpers.ts";

function official(url: string): Promise<Socket> {
  const socket = io(url, { reconnection: false, forceNew: true });
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.on("connect", () => resolve(socket));
      socket.on("connect_error", reject);
    }),
    10_000,
    "official client connect",
  );
}

Deno.test("chat example: serves both client builds and relays room messages across clients", async () => {
  const controller = new AbortController();
  const chat = await withTimeout(
    startChat({ port: 0, signal: controller.signal }),
    60_000,
    "chat start",
  );
  const url = chat.server.url;
  const ann = await official(url);
  const [bob, cyd] = await Promise.all([
    connectEvents(url),
    connectEvents(url),
  ]);
  try {
    const page = await fetch(chat.pageUrl);
    assert.match(await page.text(), /socket\.io\.min\.js/);
    const officialJs =
      await (await fetch(new URL("/socket.io/socket.io.min.js", chat.pageUrl)))
        .text();
    assert.match(officialJs, /Socket\.IO v4\.8\.1/);
    const weftJs = await (await fetch(new URL("/weft_client.js", chat.pageUrl)))
      .text();
    assert.match(weftJs, /export\s*\{[^}]*EventClient/);
    // browser-ready: no Deno API call (the Deno-only WebSocket framing is
    // picked at run time, through globalThis)
    assert.doesNotMatch(weftJs, /\bDeno\./);

    assert.deepEqual(
      await ann.timeout(10_000).emitWithAck("join", { name: "ann", room: "r" }),
      {
        room: "r",
        members: ["ann"],
      },
    );
    const annSees = new Promise((r) => ann.on("system", r));
    await bob.call("join", { name: "bob", room: "r" });
    assert.equal(await withTimeout(annSees, 10_000, "system"), "bob joined r");
    await cyd.call("join", { name: "cyd", room: "elsewhere" });

    let cydGot = 0;
    cyd.on("message", () => void cydGot++);
    const bobGets = nextEvent(bob, "message");
    const mine = await ann.timeout(10_000).emitWithAck("say", "  hi   bob ");
    assert.equal(mine.text, "hi bob");
    const [got] = await bobGets as [Record<string, unknown>];
    assert.deepEqual([got.name, got.room, got.text], ["ann", "r", "hi bob"]);
    await cyd.call("say", "sync"); // cyd's own round trip: nothing was on its way
    assert.equal(cydGot, 0);
    const stranger = await connectEvents(url);
    assert.deepEqual(await stranger.call("say", "x"), {
      error: "join a room first",
    });
    await stranger.disconnect();
    // a client leaving tells the room
    const annLeft = new Promise((r) => ann.on("system", r));
    await bob.disconnect();
    assert.equal(await withTimeout(annLeft, 10_000, "left"), "bob left r");
  } finally {
    ann.close();
    await Promise.all([bob.disconnect(), cyd.disconnect()]);
    controller.abort();
    await withTimeout(chat.server.finished, 10_000, "chat shutdown");
  }
});

Deno.test("tutorial server: connect → addChat to all, message → reply, sendMessage → one sid", async () => {
  const lines: string[] = [];
  const controller = new AbortController();
  const sio = startTutorialServer({
    port: 0,
    signal: controller.signal,
    log: (l) => lines.push(l),
  });
  const a = await official(sio.url);
  try {
    const addChat = new Promise<string>((r) => a.on("addChat", r));
    const b = await official(sio.url);
    try {
      assert.equal(await withTimeout(addChat, 10_000, "addChat"), b.id);
      const atA: unknown[] = [];
      a.on("reply", (x: unknown) => atA.push(x));
      const reply = new Promise((r) => b.once("reply", r));
      a.send("hi there");
      assert.deepEqual(await withTimeout(reply, 10_000, "reply"), {
        message: "hello",
        sid: a.id,
      });
      const direct = new Promise((r) => b.once("reply", r));
      a.emit("sendMessage", { content: "only for b", destId: b.id });
      assert.equal(await withTimeout(direct, 10_000, "direct"), "only for b");
      // a's next broadcast comes after anything the server sent a before it
      a.send("sync");
      await until(() => atA.length === 2, "a hears both broadcasts");
      assert.deepEqual(atA, [{ message: "hello", sid: a.id }, {
        message: "hello",
        sid: a.id,
      }]);
      assert.ok(lines.some((l) => l.includes("only for b")));
    } finally {
      b.close();
    }
    assert.ok(lines[0].startsWith("connect "));
  } finally {
    a.close();
    controller.abort();
    await withTimeout(sio.finished, 10_000, "shutdown");
  }
});
