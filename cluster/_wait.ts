// Waiting on a Redis-held condition: try, and if that failed wait for a
// pub/sub wake-up on `channel` or `retryIn` ms (whichever first), until the
// deadline. Wake-ups are only hints; every wait re-checks in Redis, and the
// timer covers messages lost while Redis was unreachable.
//
// A wait never blocks on its subscription: it is set up in the background
// (a subscriber connection opened while Redis restarts may take long to
// come up) and the wait re-checks every `poll` ms meanwhile; once the
// subscription is in place the wait re-checks at once (a wake-up published
// before it was in place is not lost).
import type { _Connection } from "./_connection.ts";

export interface _Attempt<T> {
  done: boolean;
  value?: T;
  /** Milliseconds before trying again without a wake-up. */
  retryIn?: number;
}

export async function _waitFor<T>(
  conn: _Connection,
  channel: string,
  attempt: () => Promise<_Attempt<T>>,
  options: { timeout?: number; signal?: AbortSignal; poll?: number } = {},
): Promise<_Attempt<T>> {
  const { signal } = options;
  signal?.throwIfAborted();
  const first = await attempt();
  if (first.done) return first;
  const deadline = options.timeout === undefined
    ? Infinity
    : Date.now() + Math.max(0, options.timeout);
  if (deadline <= Date.now()) return first;
  let wake: (() => void) | undefined;
  let woken = false;
  const onMessage = () => {
    woken = true;
    wake?.();
  };
  let unsubscribe: (() => Promise<void>) | undefined;
  let finished = false;
  conn.subscribe(channel, onMessage).then((remove) => {
    if (finished) return remove().catch(() => {});
    unsubscribe = remove;
    onMessage(); // re-check: a wake-up may have come before we listened
  }, () => {}); // no subscription (Redis away, connection closed): poll only
  try {
    let r = first;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return r;
      signal?.throwIfAborted();
      if (!woken) {
        const pause = Math.max(
          1,
          Math.min(left, r.retryIn ?? Infinity, options.poll ?? 500),
        );
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(done, pause);
          const onAbort = () => {
            done();
            reject(signal!.reason);
          };
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      }
      woken = false;
      r = await attempt();
      if (r.done) return r;
    }
  } finally {
    finished = true;
    await unsubscribe?.();
  }
}

export function _randomId(): string {
  const rand = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("");
}
