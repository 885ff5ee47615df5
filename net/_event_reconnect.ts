/**
 * The client's reconnection policy (private; no Deno APIs): python-socketio's
 * options and socket.io-client's back-off formula. Attempt `n` (from 0)
 * waits `min(delay · 2ⁿ, delayMax)`, spread by ± `randomizationFactor`.
 *
 * @module
 */

import { checkMs } from "./_event_common.ts";

/**
 * Reconnection options of `connectEvents` (python-socketio's names).
 *
 * @example No retries: an unreachable server fails at once
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   connectEvents,
 *   EventConnectionError,
 *   type ReconnectOptions,
 * } from "@weft/weft/net";
 *
 * const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const url = `http://127.0.0.1:${closed.addr.port}`;
 * closed.close(); // nothing listens there now
 * const options: ReconnectOptions = { reconnection: false, reconnectionDelay: 100 };
 * await assert.rejects(connectEvents(url, options), EventConnectionError);
 * ```
 */
export interface ReconnectOptions {
  /**
   * Reconnect after a lost connection.
   *
   * @default {true}
   */
  reconnection?: boolean;
  /**
   * Attempts before giving up.
   *
   * @default {Infinity}
   */
  reconnectionAttempts?: number;
  /**
   * First delay in milliseconds.
   *
   * @default {1000}
   */
  reconnectionDelay?: number;
  /**
   * Longest delay in milliseconds.
   *
   * @default {5000}
   */
  reconnectionDelayMax?: number;
  /**
   * Random spread of each delay, 0 to 1.
   *
   * @default {0.5}
   */
  randomizationFactor?: number;
}

/** Validated policy. */
export class Backoff {
  readonly enabled: boolean;
  readonly attempts: number;
  readonly delay: number;
  readonly delayMax: number;
  readonly factor: number;

  constructor(o: ReconnectOptions) {
    this.enabled = o.reconnection ?? true;
    if (typeof this.enabled !== "boolean") {
      throw new TypeError('Invalid option "reconnection": expected a boolean');
    }
    this.attempts = o.reconnectionAttempts ?? Infinity;
    if (
      typeof this.attempts !== "number" || this.attempts < 0 ||
      (!Number.isInteger(this.attempts) && this.attempts !== Infinity)
    ) {
      throw new TypeError(
        'Invalid option "reconnectionAttempts": expected a non-negative integer',
      );
    }
    this.delay = checkMs(o.reconnectionDelay, 1000, "reconnectionDelay");
    this.delayMax = checkMs(
      o.reconnectionDelayMax,
      5000,
      "reconnectionDelayMax",
    );
    this.factor = o.randomizationFactor ?? 0.5;
    if (
      typeof this.factor !== "number" || !(this.factor >= 0 && this.factor <= 1)
    ) {
      throw new TypeError(
        'Invalid option "randomizationFactor": expected 0 to 1',
      );
    }
  }

  /** Milliseconds to wait before attempt `n` (0-based). */
  wait(n: number): number {
    const base = Math.min(this.delay * 2 ** Math.min(n, 30), this.delayMax);
    const spread = base * this.factor * (Math.random() * 2 - 1);
    return Math.max(0, Math.min(base + spread, this.delayMax));
  }
}

/** What {@linkcode retry} needs from the client. */
export interface RetryHooks {
  /** `true` once the client was told to stop. */
  stopped(): boolean;
  /** Waits `ms` (returns early when the client stops). */
  sleep(ms: number): Promise<void>;
  /** One connection attempt. */
  attempt(): Promise<void>;
  /** Is this failure final (a refusal), so that retrying is pointless? */
  final(error: unknown): boolean;
}

/** Retries with back-off; `true` once an attempt succeeded. */
export async function retry(
  backoff: Backoff,
  hooks: RetryHooks,
): Promise<boolean> {
  for (let n = 0; n < backoff.attempts && !hooks.stopped(); n++) {
    await hooks.sleep(backoff.wait(n));
    if (hooks.stopped()) return false;
    try {
      await hooks.attempt();
      return true;
    } catch (error) {
      if (hooks.final(error)) return false;
    }
  }
  return false;
}

/** The wait between attempts, which `wake()` ends early (the client stopped). */
export class Sleeper {
  #wake?: () => void;

  /** Waits `ms` milliseconds, or until {@linkcode wake}. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.#wake = () => {
        this.#wake = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.#wake?.();
  }
}
