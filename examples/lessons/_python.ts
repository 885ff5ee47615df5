// Small Python look-alikes shared by the lesson programs: `time.ctime()`,
// a blocking `time.sleep()` for worker code, Python's spelling of booleans
// and the command line every lesson takes (`--part`, `--list`, and the
// `--scale` factor that shortens every tutorial pause in tests).

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

const nap = new Int32Array(new SharedArrayBuffer(4));

/** Python's `time.sleep(seconds)` for worker code: blocks this thread. */
export function sleepSync(seconds: number, scale = 1): void {
  const ms = seconds * 1000 * scale;
  if (ms > 0) Atomics.wait(nap, 0, 0, ms);
}

/** Python's `time.sleep(seconds)` for the main thread: never blocks it. */
export function sleep(seconds: number, scale = 1): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000 * scale));
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/** Python's `time.ctime()`: `"Wed Nov 25 21:30:05 2026"` in local time. */
export function ctime(date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${
    String(date.getDate()).padStart(2, " ")
  } ${two(date.getHours())}:${two(date.getMinutes())}:${
    two(date.getSeconds())
  } ${date.getFullYear()}`;
}

/** Python's `str(bool)`: `True` / `False`. */
export function py(value: boolean): string {
  return value ? "True" : "False";
}

/** Python's `random.randint(a, b)` (both ends included). */
export function randint(a: number, b: number): number {
  return a + Math.floor(Math.random() * (b - a + 1));
}

/** Python's `repr()` of a JSON-like value: `[12, {'name': 'alice'}, 'hello']`. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return py(value);
  if (typeof value === "string") return `'${value.replaceAll("'", "\\'")}'`;
  if (typeof value === "number" || typeof value === "bigint") {
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (value instanceof Map) {
    return `{${
      [...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")
    }}`;
  }
  return `{${
    Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")
  }}`;
}

/** The options every lesson program takes: `--part`, `--list`, `--scale`. */
const LESSON_OPTIONS = {
  part: { type: "string" },
  list: { type: "boolean", default: false },
  scale: { type: "string", default: "1" },
} as const;

/**
 * Parses `Deno.args` with the lesson options plus the program's own
 * `options`; returns the values and the checked `--scale` factor.
 */
export function lessonArgs<T extends ParseArgsOptionsConfig>(
  options: T,
): {
  values: ReturnType<
    typeof parseArgs<{ options: typeof LESSON_OPTIONS & T }>
  >["values"];
  scale: number;
} {
  const { values } = parseArgs({
    args: Deno.args,
    options: { ...LESSON_OPTIONS, ...options },
  });
  const scale = Number((values as { scale: string }).scale);
  if (!(scale >= 0)) throw new RangeError("Cannot run: --scale must be >= 0");
  return { values, scale };
}

/** One program of a lesson file: where the tutorial has it, and how to run it. */
export interface Part {
  /** `"001:1212"`: seed file number and the line where the program starts. */
  seed: string;
  run: () => Promise<void>;
}

/**
 * Runs the part named by `--part` (or lists them all with `--list`, or
 * when no part is named, which exits 2 with a message).
 */
export async function runPart(
  parts: Record<string, Part>,
  values: { part?: string; list?: boolean },
): Promise<void> {
  if (values.list || !values.part) {
    const width = Math.max(...Object.keys(parts).map((n) => n.length)) + 2;
    for (const [name, part] of Object.entries(parts)) {
      console.log(`${name.padEnd(width)} seed ${part.seed}`);
    }
    if (values.list) return;
    console.error("Cannot run: choose a program with --part NAME");
    Deno.exit(2);
  }
  const part = parts[values.part];
  if (!part) {
    console.error(`Cannot run: no part "${values.part}" (see --list)`);
    Deno.exit(2);
  }
  await part.run();
}
