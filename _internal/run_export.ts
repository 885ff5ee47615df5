/**
 * The one kernel for "run an exported function of a module elsewhere"
 * (private to weft; shared by `concurrency`, `ipc` and `net`).
 *
 * Whatever runs the function — a `Thread` worker, a `Pool` worker, a `Pool`
 * child process, a TCP worker thread, a `Process` child, the manager
 * server — uses these pieces, so that:
 *
 * - a module is named the same way everywhere ({@linkcode resolveModule}:
 *   a `URL`, an absolute URL string, or a path relative to the current
 *   directory);
 * - a missing export fails with one message ({@linkcode loadExport});
 * - an error crosses the boundary in one shape ({@linkcode errorToWire} /
 *   {@linkcode errorFromWire}: name, message and stack of an `Error`, or
 *   the thrown value itself when it is not one);
 * - messages between the two sides carry their tag in one field,
 *   {@linkcode TAG} (`"t"`).
 *
 * @module
 */

/** The field holding a message's tag in every runner protocol. */
export const TAG = "t";

/** An error as it crosses a worker or process boundary. */
export type WireError =
  | { error: { name: string; message: string; stack?: string } }
  | { thrown: unknown };

/** A function exported by a task module. */
export type ExportedFunction = (...args: unknown[]) => unknown;

/**
 * The absolute URL of a task module: a `URL`, an absolute URL string
 * (`file:`, `https:`, `data:`...), or a path resolved against the current
 * directory.
 *
 * @param module What the caller gave.
 * @param what The action for the error message, e.g. `"create thread"`.
 * @throws {TypeError} If `module` is neither a URL nor a non-empty string.
 */
export function resolveModule(module: unknown, what: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      `Cannot ${what}: "module" must be a URL or a non-empty string, got ${
        String(module)
      }`,
    );
  }
  try {
    return new URL(module).href;
  } catch {
    return new URL(module, `file://${Deno.cwd()}/`).href;
  }
}

/**
 * The error for a module that has no exported function `name`.
 *
 * @param moduleUrl The module's URL.
 * @param name The export looked for.
 */
export function noSuchExport(moduleUrl: string, name: string): TypeError {
  return new TypeError(
    `Cannot run "${name}": module ${moduleUrl} has no exported function "${name}"`,
  );
}

/**
 * The exported function `name` of an imported module namespace.
 *
 * @throws {TypeError} If there is no such exported function.
 */
export function exportOf(
  namespace: Record<string, unknown>,
  moduleUrl: string,
  name: string,
): ExportedFunction {
  const fn = namespace[name];
  if (typeof fn !== "function") throw noSuchExport(moduleUrl, name);
  return fn as ExportedFunction;
}

/**
 * Imports `moduleUrl` and returns its exported function `name`.
 *
 * @throws {TypeError} If there is no such exported function.
 */
export async function loadExport(
  moduleUrl: string,
  name: string,
): Promise<ExportedFunction> {
  const namespace = await import(moduleUrl);
  return exportOf(namespace, moduleUrl, name);
}

/** An error (or any thrown value) as something `structuredClone` accepts. */
export function errorToWire(error: unknown): WireError {
  if (error instanceof Error) {
    return {
      error: {
        name: error.name,
        message: error.message,
        stack: error.stack,
      },
    };
  }
  try {
    return { thrown: structuredClone(error) };
  } catch {
    return { thrown: String(error) };
  }
}

/** Rebuilds what {@linkcode errorToWire} sent: an `Error` with the
 * far side's name, message and stack, or the thrown value. */
export function errorFromWire(wire: WireError): unknown {
  if ("thrown" in wire) return wire.thrown;
  const info = wire.error;
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack) error.stack = info.stack;
  return error;
}

/**
 * A value that survives `structuredClone` for sure: `value` itself when it
 * clones, else an `Error` describing it (used for task errors that must
 * cross a boundary whatever was thrown).
 */
export function cloneableError(error: unknown): unknown {
  try {
    structuredClone(error);
    return error;
  } catch {
    return new Error(String(error));
  }
}
