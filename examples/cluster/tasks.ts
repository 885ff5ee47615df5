// Task module of the cluster demo: every worker machine loads it (by the
// same relative path, examples/cluster/tasks.ts, from the repository root).

/** A "render" job: takes `ms` of work, returns which process did it. */
export async function render(
  frame: number,
  ms: number,
): Promise<{ frame: number; pid: number }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { frame, pid: Deno.pid };
}
