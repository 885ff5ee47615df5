import assert from "node:assert/strict";
import { runExample } from "./_program.ts";

// The exact permissions of the example's header line.
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-net=127.0.0.1",
  "--allow-env",
];

Deno.test("examples/tickets/main.ts: with the Manager Lock, exactly one of 10 processes gets the last ticket", async () => {
  const out = await runExample(PERMISSIONS, "tickets/main.ts", [
    "--buyers",
    "10",
  ], { timeout: 60_000 });
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(
    out.stdout,
    /10 buyers race for 1 ticket\(s\) with a Manager Lock/,
  );
  assert.equal(
    out.stdout.match(/buyer-\d+ bought a ticket/g)?.length,
    1,
    out.stdout,
  );
  assert.equal(out.stdout.match(/buyer-\d+: sold out/g)?.length, 9, out.stdout);
  assert.match(out.stdout, /file says 0 left; receipts: buyer-\d+\n/);
  assert.match(out.stdout, /result: exactly 1 ticket\(s\) sold, as it must be/);
});
