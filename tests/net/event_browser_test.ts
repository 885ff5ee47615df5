// The chat example (examples/chat/) in a real browser: headless Chromium
// from Debian's `chromium` package, driven by npm:playwright-core.
//
// playwright-core reads /proc/sys/fs/binfmt_misc/WSLInterop when it loads,
// which Deno only allows under --allow-all, so the browser is driven from
// a child process (this same file, run with --allow-all and "--drive");
// the chat server itself runs here, under the test permissions.
// .ci/setup-browser installs chromium when it is missing; without it the
// test registers as ignored, naming the reason.

import assert from "node:assert/strict";
import { startChat } from "../../examples/chat/server.ts";
import { runDeno, withTimeout } from "../_helpers.ts";

// WEFT_CHROMIUM points elsewhere (e.g. to check the skip path).
const CHROMIUM = Deno.env.get("WEFT_CHROMIUM") ?? "/usr/bin/chromium";

function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Runs in the child: two pages, one room, a message each way. */
async function drive(pageUrl: string): Promise<void> {
  const { chromium } = await import("npm:playwright-core@1");
  const profile = await Deno.makeTempDir({ prefix: "weft-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    context.setDefaultTimeout(20_000);
    const [alice, bob] = [await context.newPage(), await context.newPage()];
    // alice runs the official socket.io-client build, bob weft's browser client
    for (
      const [page, name, query] of [[alice, "alice", ""], [
        bob,
        "bob",
        "?client=weft",
      ]] as const
    ) {
      page.on("pageerror", (e) => console.error(`${name} page error:`, e));
      await page.goto(pageUrl + query);
      await page.waitForSelector("#status:has-text('connected')");
      await page.fill("#name", name);
      await page.fill("#room", "room-7");
      await page.click("#join");
      await page.waitForSelector(`#status:has-text('in room-7 as ${name}')`);
    }
    await alice.waitForSelector("#messages li:has-text('bob joined room-7')");
    await alice.fill("#text", "hello from alice");
    await alice.click("#send");
    await bob.waitForSelector(
      "#messages li:has-text('alice: hello from alice')",
    );
    await alice.waitForSelector(
      "#messages li.mine:has-text('alice: hello from alice')",
    );
    await bob.fill("#text", "hi alice");
    await bob.click("#send");
    await alice.waitForSelector("#messages li:has-text('bob: hi alice')");
    const aliceLines = await alice.locator("#messages li").allTextContents();
    const bobLines = await bob.locator("#messages li").allTextContents();
    const clients = [
      await alice.textContent("#client"),
      await bob.textContent("#client"),
    ];
    console.log(JSON.stringify({ aliceLines, bobLines, clients }));
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
}

if (import.meta.main && Deno.args[0] === "--drive") {
  await drive(Deno.args[1]);
  Deno.exit(0);
}

if (!haveChromium() && Deno.env.get("CI") === "true") {
  Deno.test(`chat example in Chromium: ${CHROMIUM} missing under CI=true`, () => {
    throw new Error(
      `Missing peer under CI=true: ${CHROMIUM} (see .ci/setup-browser)`,
    );
  });
} else if (!haveChromium()) {
  Deno.test({
    name:
      `chat example: two Chromium pages talk through a room (skipped: ${CHROMIUM} not installed)`,
    ignore: true,
    fn() {},
  });
} else {
  Deno.test("chat example: two Chromium pages (official client, weft's client) share a room", async () => {
    const controller = new AbortController();
    const chat = await withTimeout(
      startChat({ port: 0, signal: controller.signal }),
      30_000,
      "chat start (bundling the client)",
    );
    try {
      const result = await runDeno(
        [
          "run",
          "--allow-all",
          new URL(import.meta.url).pathname,
          "--drive",
          chat.pageUrl,
        ],
        { timeout: 90_000 },
      );
      assert.equal(
        result.code,
        0,
        `driver failed:\n${result.stdout}\n${result.stderr}`,
      );
      const { aliceLines, bobLines, clients } = JSON.parse(
        result.stdout.trim().split("\n").at(-1)!,
      );
      assert.deepEqual(clients, ["socket.io-client", "weft"]);
      assert.deepEqual(aliceLines, [
        "bob joined room-7",
        "alice: hello from alice",
        "bob: hi alice",
      ]);
      assert.deepEqual(bobLines, ["alice: hello from alice", "bob: hi alice"]);
    } finally {
      controller.abort();
      await withTimeout(chat.server.finished, 10_000, "chat shutdown");
    }
  });
}
