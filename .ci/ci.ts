// Runs every CI step in order, streams its output, and ends with the plain
// summary line "N passed, N failed[, N skipped]" summed over the test runs.
// Every step runs even if an earlier one failed, so one CI log shows all
// problems; the exit code is non-zero if any step failed.
//
//   deno task ci          (what .ci/run calls)

const deno = Deno.execPath();

interface Step {
  name: string;
  args: string[];
  /** Parse "N passed | N failed" from this step's output. */
  counts?: boolean;
}

const steps: Step[] = [
  { name: "format", args: ["fmt", "--check"] },
  { name: "lint", args: ["lint"] },
  { name: "type-check", args: ["task", "check"] },
  // every exported symbol documented, no public type naming a private one
  { name: "doc lint", args: ["doc", "--lint", "mod.ts", "cluster/mod.ts"] },
  // each entry point alone documents whole (no type it names left unexported)
  ...["net", "concurrency", "ipc", "auth", "cluster"].map((m) => ({
    name: `doc lint ${m}/mod.ts`,
    args: ["doc", "--lint", `${m}/mod.ts`],
  })),
  { name: "tests", args: ["task", "test"], counts: true },
  { name: "doc tests", args: ["task", "test:doc"], counts: true },
  { name: "publish dry-run", args: ["publish", "--dry-run", "--allow-dirty"] },
];

// deno's own summary: "ok | 12 passed (3 steps) | 0 failed | 2 ignored (4s)"
const SUMMARY =
  /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/g;
// deno colours its output even when piped unless told otherwise
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

let passed = 0;
let failed = 0;
let skipped = 0;
const results: string[] = [];

for (const step of steps) {
  console.log(`\n=== ${step.name}: deno ${step.args.join(" ")}`);
  const started = performance.now();
  const child = new Deno.Command(deno, {
    args: step.args,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    if (step.counts) text += decoder.decode(chunk, { stream: true });
  }
  const status = await child.status;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (step.counts) {
    const matches = [...text.replace(ANSI, "").matchAll(SUMMARY)];
    const last = matches.at(-1);
    if (last) {
      passed += Number(last[1]);
      failed += Number(last[2]);
      skipped += Number(last[3] ?? 0);
    } else if (!status.success) {
      failed += 1; // the runner died before printing a summary
    }
  }
  results.push(
    `${status.success ? "ok  " : "FAIL"} ${step.name} (${seconds} s)`,
  );
}

console.log("\n=== summary");
for (const line of results) console.log(line);
const allOk = results.every((line) => line.startsWith("ok"));
console.log(
  `${passed} passed, ${failed} failed` +
    (skipped ? `, ${skipped} skipped` : ""),
);
Deno.exit(allOk && failed === 0 && passed > 0 ? 0 : 1);
