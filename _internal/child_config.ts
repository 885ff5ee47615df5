/**
 * The flags a Deno child of weft's should inherit (private to weft; shared
 * by `Process`, the `Manager` server spawn and `Pool` process children):
 * its permissions (`childPermissionFlags`, never more than this process
 * has) and its module resolution (`inheritedConfigFlags`), so that a child
 * resolves imports exactly as this process does
 * (its `deno.json`, import map, lock file, `node_modules` mode and
 * unstable features).
 *
 * Deno does not expose the flags it was started with (`process.execArgv`
 * is empty), so they are read from `/proc/self/cmdline` (Deno allows that
 * only with every permission) or from `ps` (when running `ps` is allowed);
 * relative paths are made absolute against the working directory. Without
 * a config flag there (or without a way to read the command line), the
 * nearest `deno.json(c)` from the working directory is passed (what Deno
 * itself discovers), else the one nearest the main module, unless this
 * process ran with `--no-config`. Nothing here ever prompts.
 *
 * @module
 */

/** Flags taking a separate value (`--config x`); paths made absolute. */
const WITH_VALUE = new Map<string, string>([
  ["--config", "--config"],
  ["-c", "--config"],
  ["--import-map", "--import-map"],
  ["--cert", "--cert"],
]);
/** Flags passed on as they are (with an `=value` if any). */
const PASS = [
  "--no-config",
  "--lock",
  "--no-lock",
  "--frozen",
  "--node-modules-dir",
  "--vendor",
  "--cached-only",
  "--no-remote",
  "--no-npm",
  "--unstable",
];
const PATH_VALUED = new Set(["--config", "--import-map", "--cert", "--lock"]);
const SUBCOMMANDS = new Set(["run", "test", "bench", "serve", "eval", "repl"]);

function absolute(value: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) {
    return value; // a URL
  }
  if (value.startsWith("/")) return value;
  return `${cwd.replace(/\/$/, "")}/${value}`;
}

/**
 * The resolution flags in a Deno command line (`argv` as in
 * /proc/self/cmdline, from the executable on). Exported for tests.
 */
export function configFlagsOf(argv: string[], cwd: string): string[] {
  const out: string[] = [];
  let i = 1;
  if (i < argv.length && SUBCOMMANDS.has(argv[i])) i++;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (!arg.startsWith("-")) {
      if (argv[1] === "run" || !SUBCOMMANDS.has(argv[1])) break; // the script
      continue; // test/bench: file arguments among flags
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const canonical = WITH_VALUE.get(name);
    if (canonical !== undefined) {
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) break;
      out.push(`${canonical}=${absolute(value, cwd)}`);
      continue;
    }
    if (
      PASS.includes(name) || name.startsWith("--unstable-")
    ) {
      if (eq < 0) out.push(name);
      else {
        const value = arg.slice(eq + 1);
        out.push(
          `${name}=${PATH_VALUED.has(name) ? absolute(value, cwd) : value}`,
        );
      }
    }
  }
  return out;
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** The nearest deno.json(c) from `dir` upwards, if any (never prompts). */
function findConfig(dir: string): string | undefined {
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${dir}/${name}`;
      if (!granted({ name: "read", path })) continue;
      try {
        if (Deno.statSync(path).isFile) return path;
      } catch {
        // not here
      }
    }
    const parent = dir.replace(/\/[^/]*$/, "");
    if (parent === dir || parent === "") return undefined;
    dir = parent;
  }
}

/**
 * This process's command line: /proc/self/cmdline (Deno allows it only
 * with all permissions), else `ps` (when running it is allowed), else
 * undefined. Never prompts.
 */
function readOwnArgv(): string[] | undefined {
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (argv.at(-1) === "") argv.pop();
    if (argv.length > 0) return argv;
  } catch {
    // not Linux, or not every permission
  }
  if (!granted({ name: "run", command: "ps" })) return undefined;
  try {
    const out = new Deno.Command("ps", {
      args: ["-ww", "-o", "args=", "-p", String(Deno.pid)],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!out.success) return undefined;
    const line = new TextDecoder().decode(out.stdout).trim();
    return line === "" ? undefined : line.split(/\s+/);
  } catch {
    return undefined;
  }
}

let cached: string[] | undefined;

/**
 * The flags a Deno child spawned by this process should get so that it
 * resolves modules as this process does (computed once): the resolution
 * flags of this process's command line; without a `--config` there, the
 * nearest deno.json from the working directory (what Deno discovers), else
 * from the main module's directory.
 */
export function inheritedConfigFlags(): string[] {
  if (cached !== undefined) return [...cached];
  let cwd = "";
  try {
    cwd = Deno.cwd();
  } catch {
    // no read permission on the cwd
  }
  const argv = readOwnArgv();
  const flags = argv !== undefined && cwd !== ""
    ? configFlagsOf(argv, cwd)
    : [];
  const hasConfig = flags.some((f) =>
    f.startsWith("--config=") || f === "--no-config"
  );
  if (!hasConfig) {
    let found = cwd === "" ? undefined : findConfig(cwd);
    if (found === undefined && Deno.mainModule.startsWith("file:")) {
      const main = decodeURIComponent(new URL(Deno.mainModule).pathname);
      found = findConfig(main.replace(/\/[^/]*$/, ""));
    }
    if (found !== undefined) flags.unshift(`--config=${found}`);
  }
  cached = flags;
  return [...flags];
}

const PERMISSIONS = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "sys",
  "ffi",
] as const;

/**
 * `--no-prompt`, then `--allow-X` for every permission fully granted to
 * this process (read, write, net, env, run, sys, ffi); for a partial net
 * grant, the loopback hosts (127.0.0.1, localhost) that are granted. A
 * child never gets more than its parent.
 */
export function childPermissionFlags(): string[] {
  const flags = ["--no-prompt"];
  for (const name of PERMISSIONS) {
    if (Deno.permissions.querySync({ name }).state === "granted") {
      flags.push(`--allow-${name}`);
    } else if (name === "net") {
      const hosts = ["127.0.0.1", "localhost"].filter((host) =>
        Deno.permissions.querySync({ name: "net", host }).state === "granted"
      );
      if (hosts.length > 0) flags.push(`--allow-net=${hosts.join(",")}`);
    }
  }
  return flags;
}
