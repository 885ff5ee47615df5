// Shared by the examples: a secret key kept in a file (never on the command
// line, where `ps` and shell history would show it).

/**
 * Reads the hex key in `path`; with `create`, a missing file is filled with
 * 32 fresh random bytes, readable by its owner only.
 */
export async function loadKey(
  path: string,
  create = false,
): Promise<Uint8Array> {
  try {
    const hex = (await Deno.readTextFile(path)).trim();
    if (!/^([0-9a-f]{2}){16,}$/i.test(hex)) {
      throw new TypeError(
        `Cannot use key file "${path}": expected at least 16 hex bytes`,
      );
    }
    return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  } catch (error) {
    if (!create || !(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  const hex = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(path, hex + "\n", { createNew: true, mode: 0o600 });
  console.log(`wrote a new random key to ${path}`);
  return key;
}

/**
 * The key in the file named by a program's `--key-file` option (`path`);
 * without one, prints `program`'s usage and exits 2. `create` as in loadKey.
 */
export function keyFileOption(
  program: string,
  path: string | undefined,
  create = false,
): Promise<Uint8Array> {
  if (!path) {
    console.error(`Usage: ${program} --key-file FILE [--port N]`);
    Deno.exit(2);
  }
  return loadKey(path, create);
}
