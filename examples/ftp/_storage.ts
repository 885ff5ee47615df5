// Storage rules the FTP example's two protocols share: uploads that are
// atomic and never interleave, and a per-user quota that holds when many
// connections of one user write at once and counts directories too.
//
// - One upload at a time per target path (PathLocks): a second upload of
//   the same file waits for the first (up to a deadline), so two streams
//   never land in one partial file. Every upload writes a partial file and
//   renames it over the target only once complete and verified.
// - Quota: each user's home has one ledger (Quota.of). Checking and
//   reserving happen under the ledger's lock: usage = bytes on disk
//   (walked, with every folder counted as DIR_COST bytes, and the partial
//   files of uploads in flight left out) + the final sizes reserved by the
//   uploads in flight. An upload reserves (its size - the size of the file
//   it replaces) before its first byte; completing it (the rename) and
//   releasing a failed one happen under the same lock, so no interleaving
//   of checks and completions can count a file zero times. Limits of this
//   example: the ledger lives in one server process, and files changed
//   behind the server's back are only seen at the next walk.

import { posix } from "node:path";
import { UserError } from "./_paths.ts";

/** What one folder costs against the quota (a filesystem block). */
export const DIR_COST = 4096;

/** A FIFO async mutex. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => release = resolve);
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Bytes under `dir`: regular files, plus DIR_COST per folder below it. */
export async function usedBytes(
  dir: string,
  exclude: ReadonlySet<string> = new Set(),
): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = posix.join(dir, entry.name);
    if (exclude.has(path)) continue;
    if (entry.isDirectory) total += DIR_COST + await usedBytes(path, exclude);
    else if (entry.isFile) {
      try {
        total += (await Deno.lstat(path)).size;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }
  return total;
}

/** An upload's claim on the quota, from its first byte to its rename. */
export interface Reservation {
  /** Renames the finished partial file over the target and ends the claim. */
  commit(part: string, target: string): Promise<void>;
  /** Ends the claim without a rename (the partial file stays, for resuming). */
  release(): Promise<void>;
}

/** One home folder's quota ledger (shared by all of a user's connections). */
export class Quota {
  static #ledgers = new Map<string, Quota>();
  readonly #mutex = new Mutex();
  /** Partial files being written now -> bytes reserved for them. */
  readonly #active = new Map<string, number>();

  private constructor(readonly root: string) {}

  /** The ledger of the home folder at the real path `root`. */
  static of(root: string): Quota {
    let ledger = Quota.#ledgers.get(root);
    if (!ledger) Quota.#ledgers.set(root, ledger = new Quota(root));
    return ledger;
  }

  async #used(): Promise<number> {
    let reserved = 0;
    for (const bytes of this.#active.values()) reserved += bytes;
    return reserved + await usedBytes(this.root, new Set(this.#active.keys()));
  }

  /** Current usage as the quota counts it. */
  used(): Promise<number> {
    return this.#mutex.run(() => this.#used());
  }

  /**
   * Reserves room for an upload that will leave `size` bytes at a target
   * now holding `replaced` bytes, written through the partial file `part`.
   * Throws a UserError when it does not fit in `quota`.
   */
  reserve(
    part: string,
    size: number,
    replaced: number,
    quota: number,
  ): Promise<Reservation> {
    return this.#mutex.run(async () => {
      if (this.#active.has(part)) {
        throw new UserError("Busy: this file is being uploaded already");
      }
      const used = await this.#used();
      const need = Math.max(0, size - replaced);
      if (used + need > quota) {
        throw new UserError(
          `Quota exceeded: ${need} more bytes would make ${
            used + need
          } of ${quota}`,
        );
      }
      this.#active.set(part, need);
      let done = false;
      const end = () => {
        done = true;
        this.#active.delete(part);
      };
      return {
        commit: (from, to) =>
          this.#mutex.run(async () => {
            if (done) return;
            try {
              await Deno.rename(from, to);
            } finally {
              end();
            }
          }),
        release: () =>
          this.#mutex.run(() => {
            end();
            return Promise.resolve();
          }),
      };
    });
  }

  /** Runs `make` (which creates `folders` new folders) if they fit in `quota`. */
  mkdir(folders: number, quota: number, make: () => Promise<void>) {
    return this.#mutex.run(async () => {
      const used = await this.#used();
      if (used + folders * DIR_COST > quota) {
        throw new UserError(
          `Quota exceeded: a folder counts ${DIR_COST} bytes and ${used} of ${quota} are used`,
        );
      }
      await make();
    });
  }
}

/** One upload at a time per path. */
export class PathLocks {
  #held = new Map<string, Promise<void>>();

  /**
   * Waits (up to `timeout` ms) until no other upload holds `path`, then
   * holds it; returns the release function. Throws a UserError when the
   * wait times out.
   */
  async acquire(path: string, timeout: number): Promise<() => void> {
    const deadline = Date.now() + timeout;
    while (this.#held.has(path)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new UserError(
          "Busy: another upload of this file is still running",
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#held.get(path),
        new Promise((resolve) => timer = setTimeout(resolve, left)),
      ]);
      clearTimeout(timer);
    }
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    this.#held.set(path, held);
    return () => {
      if (this.#held.get(path) === held) this.#held.delete(path);
      release();
    };
  }
}

/** Every upload of this server process, keyed by real target path. */
export const uploads: PathLocks = new PathLocks();
