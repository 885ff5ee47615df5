// Password-guessing limits for the FTP example's logins (both protocols).
//
// Failures are counted per user name and per client address over a
// sliding window. Once either has had `maxFailures` failures (attempts in
// progress count too, so parallel connections cannot race past the limit),
// it is locked out for `lockout` ms: every login for that user, or from
// that address, is refused at once without checking the password, so
// guessing during a lockout learns nothing. A success clears the user's
// and the address's failures. Each failure also costs the client a delay.
// A known trade-off: anyone can lock a user out for `lockout` ms by
// guessing; the address limit stops one client, not a botnet.

/** Options of {@linkcode LoginGuard}. */
export interface LoginGuardOptions {
  /** Failures (per user and per address) before a lockout. Default 5. */
  maxFailures?: number;
  /** Window over which failures are counted, ms. Default 15 minutes. */
  window?: number;
  /** Lockout length, ms. Default 60 s. */
  lockout?: number;
  /** Delay added to each failed attempt, ms. Default 300. */
  delay?: number;
}

interface Record {
  failures: number[];
  pending: number;
  lockedUntil: number;
}

/** One attempt: call exactly one of `succeed()` / `fail()`. */
export interface Attempt {
  succeed(): void;
  fail(): Promise<void>;
}

/** Per-user and per-address login failure limits. */
export class LoginGuard {
  readonly maxFailures: number;
  readonly window: number;
  readonly lockout: number;
  readonly delay: number;
  #records = new Map<string, Record>();

  constructor(options: LoginGuardOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.window = options.window ?? 15 * 60_000;
    this.lockout = options.lockout ?? 60_000;
    this.delay = options.delay ?? 300;
  }

  #record(key: string, now: number): Record {
    let record = this.#records.get(key);
    if (!record) {
      record = { failures: [], pending: 0, lockedUntil: 0 };
      this.#records.set(key, record);
    }
    record.failures = record.failures.filter((t) => now - t < this.window);
    return record;
  }

  /** Forgets records with nothing to remember (bounded memory). */
  #sweep(now: number): void {
    for (const [key, r] of this.#records) {
      const recent = r.failures.some((t) => now - t < this.window);
      if (!recent && r.pending === 0 && r.lockedUntil <= now) {
        this.#records.delete(key);
      }
    }
  }

  /**
   * Starts an attempt for `user` from `address`, or returns the seconds
   * left of a lockout (then the password must not be checked).
   */
  begin(user: string, address: string): Attempt | number {
    const now = Date.now();
    if (this.#records.size > 10_000) this.#sweep(now);
    const keys = [`user:${user}`, `addr:${address}`];
    const records = keys.map((k) => this.#record(k, now));
    for (const r of records) {
      if (r.lockedUntil > now) return Math.ceil((r.lockedUntil - now) / 1000);
      if (r.failures.length + r.pending >= this.maxFailures) {
        r.lockedUntil = now + this.lockout;
        return Math.ceil(this.lockout / 1000);
      }
    }
    for (const r of records) r.pending++;
    let settled = false;
    return {
      succeed: () => {
        if (settled) return;
        settled = true;
        for (const r of records) {
          r.pending--;
          r.failures = [];
        }
      },
      fail: async () => {
        if (settled) return;
        settled = true;
        const at = Date.now();
        for (const r of records) {
          r.pending--;
          r.failures.push(at);
          if (r.failures.length >= this.maxFailures) {
            r.lockedUntil = at + this.lockout;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, this.delay));
      },
    };
  }
}
