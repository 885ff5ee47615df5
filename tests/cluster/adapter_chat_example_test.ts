// examples/chat_cluster/demo.ts: three chat nodes (separate processes) on
// one Redis; everyone in the room hears everyone else once.
import assert from "node:assert/strict";
import { runDeno } from "../_helpers.ts";
import { redisTest } from "./_redis.ts";

const DEMO = new URL("../../examples/chat_cluster/demo.ts", import.meta.url)
  .pathname;

redisTest(
  "examples/chat_cluster: three weft nodes share one room",
  async () => {
    const out = await runDeno([
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      DEMO,
    ], { timeout: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n");
    assert.equal(lines.at(-1), "chat cluster OK");
    for (const who of ["ada", "bob", "cy"]) {
      const heard = lines.filter((l) =>
        l.includes(`] ${who}@`) && l.includes("<-")
      );
      assert.equal(heard.length, 2, `${who} heard ${heard}`);
    }
    assert.equal(
      lines.filter((l) => l.includes("dee@") && l.includes("<-")).length,
      0,
    );
    assert.equal(
      lines.filter((l) => l.includes("room has 3 people across the fleet"))
        .length,
      3,
    );
  },
);
