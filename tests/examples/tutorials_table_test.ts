// The README's table of tutorial programs is generated from
// examples/tutorials.json, and every entry is well formed: its seed file
// exists, its line is inside it, its run line names a file that exists.
import assert from "node:assert/strict";
import {
  END,
  readEntries,
  START,
  table,
} from "../../examples/tutorials_table.ts";
import { ROOT } from "./_program.ts";

const SEEDS = `${ROOT}../shared/seeds/`;

Deno.test("README's tutorial table is generated from examples/tutorials.json", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, "README has the tutorials markers");
  // deno fmt pads the table's cells: compare with runs of spaces and of
  // dashes collapsed
  const normal = (text: string) =>
    text.split("\n").map((line) =>
      line.replace(/-{3,}/g, "---").replace(/\s+/g, " ").trim()
    ).join("\n");
  assert.equal(
    normal(readme.slice(start, end + END.length)),
    normal(table(await readEntries())),
    "run: deno run --allow-read --allow-write examples/tutorials_table.ts --write",
  );
});

Deno.test("every tutorials.json entry names a real place and a real program", async () => {
  const entries = await readEntries();
  const seen = new Set<string>();
  for (const e of entries) {
    const key = `${e.seed}:${e.line}`;
    assert.ok(!seen.has(key), `${key} listed once`);
    seen.add(key);
    assert.ok(["server", "client", "standalone"].includes(e.role), key);
    assert.ok(e.title.length > 0, key);
    assert.ok(Boolean(e.run) !== Boolean(e.none), `${key}: run or none`);
    if (e.run) {
      const file = e.run.split(/\s+/).find((w) => w.startsWith("examples/"));
      assert.ok(file, `${key}: run names an example`);
      await Deno.stat(`${ROOT}${file}`); // throws if missing
    }
    let text: string;
    try {
      text = await Deno.readTextFile(`${SEEDS}${e.seed}`);
    } catch (error) {
      // the seeds live beside the repository (../shared/seeds), not in it;
      // CI always has them
      if (Deno.env.get("CI") === "true") throw error;
      continue;
    }
    const lines = text.split("\n");
    assert.ok(e.line >= 1 && e.line <= lines.length, `${key} inside the file`);
    assert.ok(
      lines[e.line - 1].trim().length > 0,
      `${key} is not a blank line`,
    );
  }
});
