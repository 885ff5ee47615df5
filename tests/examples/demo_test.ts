import assert from "node:assert/strict";
import { runCommand } from "../_helpers.ts";
import { ROOT } from "./_program.ts";
import { steps } from "../../examples/demo/steps.ts";

/** The demo task's own command line from deno.json, so this test runs exactly it. */
async function demoCommand(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const command: string = config.tasks.demo.command;
  const args = command.trim().split(/\s+/);
  assert.equal(args[0], "deno");
  assert.equal(args[1], "run");
  assert.equal(args.at(-1), "examples/demo.ts");
  return args.slice(1);
}

Deno.test("deno task demo: every step works, the report is printed, exit code 0, under 20 s", async () => {
  const args = await demoCommand();
  const started = performance.now();
  const out = await runCommand(Deno.execPath(), args, {
    cwd: ROOT,
    timeout: 60_000,
  });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.ok(!out.stdout.includes("FAIL"), out.stdout);
  for (const step of steps) {
    assert.ok(
      out.stdout.includes(`ok   ${step.title}`),
      `step "${step.title}" did not report ok:\n${out.stdout}`,
    );
  }
  assert.match(
    out.stdout,
    new RegExp(`${steps.length} of ${steps.length} steps worked in [\\d.]+ s`),
  );
  // The modules the tour must cover.
  for (const module of ["net:", "concurrency:", "ipc:", "auth:"]) {
    assert.ok(
      steps.some((s) => s.title.startsWith(module)),
      `no demo step covers ${module}`,
    );
  }
  // Generous bound: the demo targets < 20 s on a quiet machine; CI is shared.
  assert.ok(seconds < 60, `demo took ${seconds.toFixed(1)} s`);
});
