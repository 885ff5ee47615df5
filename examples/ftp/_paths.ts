// Confining a user to their home folder (the FTP example's "chroot").
//
// The client sees virtual paths: "/" is the home folder, the working
// folder is a virtual path too. A client path is resolved in two steps:
//
// 1. Lexically: an absolute path starts at the virtual "/" (the home, never
//    the real "/"), a relative one at the working folder; "." is dropped and
//    ".." pops one segment. A ".." at the virtual root is refused rather than
//    clamped, so the client learns that it tried to leave.
// 2. On disk: symlinks may point anywhere, so the deepest part of the path
//    that exists is resolved with Deno.realPath and must still lie inside the
//    real home folder. A dangling symlink is refused too (writing through it
//    would create a file wherever it points).
//
// Limitation (said plainly): between this check and the open() that follows,
// another local process could swap a folder for a symlink. Deno has no
// openat()/O_NOFOLLOW, so the check cannot be made atomic; the server assumes
// users cannot create symlinks in their homes by other means than this
// protocol (which has no symlink command).

import { posix } from "node:path";

/** A request the server refuses: sent back to the client as an error. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A user's home folder and the rules for reaching files under it. */
export class Home {
  /** `realRoot` must already be a Deno.realPath result. */
  constructor(readonly realRoot: string) {}

  /** Resolves `path` against the virtual working folder `cwd`, lexically. */
  virtual(cwd: string, path: string): string {
    if (path.includes("\0")) {
      throw new UserError("Invalid path: it holds a NUL byte");
    }
    const segments = path.startsWith("/") ? [] : cwd.split("/").filter(Boolean);
    for (const part of path.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (segments.length === 0) {
          throw new UserError(
            `Permission denied: "${path}" is outside your home directory`,
          );
        }
        segments.pop();
      } else {
        segments.push(part);
      }
    }
    return "/" + segments.join("/");
  }

  /**
   * Resolves `path` to a real path inside the home, following symlinks and
   * refusing any that lead outside. Returns the virtual path and the real
   * one (fully resolved when the target exists).
   */
  async resolve(
    cwd: string,
    path: string,
  ): Promise<{ virtual: string; real: string; exists: boolean }> {
    const virtual = this.virtual(cwd, path);
    const lexical = posix.join(this.realRoot, virtual);
    let probe = lexical;
    const missing: string[] = [];
    while (true) {
      try {
        const real = await Deno.realPath(probe);
        this.#checkInside(real, path);
        const full = missing.length ? posix.join(real, ...missing) : real;
        return { virtual, real: full, exists: missing.length === 0 };
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      // `probe` does not resolve: either it is missing, or it is a symlink
      // whose target is missing (dangling) — refuse the latter.
      try {
        await Deno.lstat(probe);
        throw new UserError(
          `Permission denied: "${path}" goes through a broken symlink`,
        );
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (probe === this.realRoot) {
        throw new UserError("Home directory is missing");
      }
      missing.unshift(posix.basename(probe));
      probe = posix.dirname(probe);
    }
  }

  #checkInside(real: string, path: string): void {
    if (real !== this.realRoot && !real.startsWith(this.realRoot + "/")) {
      throw new UserError(
        `Permission denied: "${path}" is outside your home directory`,
      );
    }
  }
}
