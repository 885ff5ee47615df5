import assert from "node:assert/strict";
import { runExample } from "./_program.ts";

Deno.test("examples/generators.ts runs the sync coroutine and the async pipeline in order", async () => {
  const out = await runExample([], "generators.ts", ["--items", "3"], {
    timeout: 30_000,
  });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 8), [
    "[sync] consumer ready",
    "[sync] producer made item 1",
    "[sync] consumer says: consumed item 1 (total 1)",
    "[sync] producer made item 2",
    "[sync] consumer says: consumed item 2 (total 2)",
    "[sync] producer made item 3",
    "[sync] consumer says: consumed item 3 (total 3)",
    "[sync] consumer finished after 3 items",
  ]);
  // Pull-based: each item is consumed before the next one is produced.
  assert.deepEqual(lines.slice(8), [
    "[async] producer made item 1",
    "[async] consumer got item 1 (sum 1)",
    "[async] producer made item 2",
    "[async] consumer got item 2 (sum 3)",
    "[async] producer made item 3",
    "[async] consumer got item 3 (sum 6)",
    "[async] consumer finished, sum 6",
  ]);
});

Deno.test("examples/generators.ts rejects a bad --items", async () => {
  const out = await runExample([], "generators.ts", ["--items", "many"], {
    timeout: 30_000,
  });
  assert.equal(out.code, 2);
  assert.match(out.stderr, /Invalid --items/);
});
