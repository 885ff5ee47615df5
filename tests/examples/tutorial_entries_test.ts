// examples/tutorials.json, server and client entries: every socket program
// of the five tutorials has one, each run line is well-formed, and each is
// exercised, as written, by a tests/examples/tutorial_*_test.ts file.
import assert from "node:assert/strict";
import { ROOT } from "./_program.ts";
import { entryKey, SOCKET_ENTRIES, splitRun } from "./_peers.ts";

/** Every program of the seeds that talks over a socket (seed:first line). */
const SOCKET_PROGRAMS = [
  "000:53",
  "000:91",
  "000:138",
  "000:170",
  "001:102",
  "001:117",
  "001:130",
  "001:154",
  "001:224",
  "001:239",
  "001:279",
  "001:321",
  "001:355",
  "001:397",
  "001:433",
  "001:462",
  "001:481",
  "001:499",
  "001:516",
  "001:571",
  "001:649",
  "001:855",
  "001:1845",
  "001:1863",
  "001:1886",
  "001:1908",
  "001:1928",
  "001:1968",
  "002:87",
  "002:125",
  "002:151",
  "002:231",
  "002:267",
  "002:291",
  "003:22",
  "003:75",
  "003:212",
  "004:3",
  "004:5",
];

Deno.test("tutorials.json has a server or client entry for every socket program", () => {
  const keys = SOCKET_ENTRIES.map(entryKey);
  assert.deepEqual([...keys].sort(), [...SOCKET_PROGRAMS].sort());
  assert.equal(new Set(keys).size, keys.length, "no duplicates");
});

Deno.test("tutorials.json socket run lines are deno run, explicit permissions, an existing example", async () => {
  for (const entry of SOCKET_ENTRIES) {
    const key = entryKey(entry);
    assert.ok(entry.run, `${key} has a run line`);
    assert.ok(entry.title.length > 10, `${key} has a title`);
    const words = splitRun(entry.run!);
    assert.deepEqual(words.slice(0, 2), ["deno", "run"], key);
    const at = words.findIndex((w) => w.startsWith("examples/"));
    assert.ok(at > 2, `${key}: permissions come before the example`);
    for (const flag of words.slice(2, at)) {
      assert.match(flag, /^--allow-(net=127\.0\.0\.1|read|write|run)/, key);
    }
    await Deno.stat(`${ROOT}${words[at]}`); // the example exists
    for (const m of entry.run!.matchAll(/\{(\w+)\}/g)) {
      assert.ok(
        ["port", "host", "file", "dir"].includes(m[1]),
        `${key}: {${m[1]}}`,
      );
    }
    assert.match(entry.run!, /--port \{port\}/, `${key} takes the port`);
  }
});

Deno.test("every socket entry is run, as written, by a tutorial interop test", async () => {
  let sources = "";
  for await (const e of Deno.readDir(`${ROOT}tests/examples`)) {
    if (
      /^tutorial_\w+_test\.ts$/.test(e.name) &&
      e.name !== "tutorial_entries_test.ts"
    ) {
      sources += await Deno.readTextFile(`${ROOT}tests/examples/${e.name}`);
    }
  }
  const missing = SOCKET_ENTRIES.map(entryKey).filter((k) =>
    !sources.includes(`"${k}"`)
  );
  assert.deepEqual(missing, []);
});
