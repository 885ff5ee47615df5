/**
 * The streaming side of `Pool` (private): `imap` and
 * `imapUnordered` keep a bounded window of chunks in flight over a
 * (possibly async, possibly endless) iterable, refilled in bulk so tasks
 * reach the workers in batches; leaving the loop early cancels what is
 * still pending.
 *
 * @module
 */

/** Submits one chunk (mode "map": `fn(item)` per item) under `signal`. */
export type Submit = (
  chunk: unknown[],
  signal: AbortSignal,
) => Promise<unknown>;

/**
 * Yields the results of `submit` over `items`, `chunksize` at a time, with
 * at most `limit` chunks held; in input order when `ordered`.
 *
 * @throws {TypeError} If `chunksize` is not an integer >= 1.
 */
export async function* streamResults<R>(
  submit: Submit,
  limit: number,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  ordered: boolean,
  options?: { chunksize?: number; signal?: AbortSignal },
): AsyncGenerator<R, void, undefined> {
  const chunksize = options?.chunksize ?? 1;
  if (!Number.isInteger(chunksize) || chunksize < 1) {
    throw new TypeError(
      `Cannot map: "chunksize" must be an integer >= 1, got ${chunksize}`,
    );
  }
  // Our own controller: leaving the loop early cancels what is in flight.
  const controller = new AbortController();
  const outer = options?.signal;
  const onOuter = () => controller.abort(outer!.reason);
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener("abort", onOuter, { once: true });
  const isAsync = Symbol.asyncIterator in items;
  const iterator = isAsync
    ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    : (items as Iterable<unknown>)[Symbol.iterator]();
  const held = () => ordered ? window.length : inFlight + ready.length;
  const window: Promise<unknown>[] = [];
  const ready: { ok: boolean; value: unknown }[] = [];
  let wake: (() => void) | undefined;
  let exhausted = false;
  let inFlight = 0;
  // Refill in bulk once half the window is used, so that tasks reach the
  // workers in batches rather than one postMessage per item.
  const fill = async () => {
    if (held() > limit / 2) return;
    while (!exhausted && held() < limit) {
      const chunk: unknown[] = [];
      while (chunk.length < chunksize) {
        const next = isAsync
          ? await iterator.next()
          : (iterator as Iterator<unknown>).next();
        if (next.done) {
          exhausted = true;
          break;
        }
        chunk.push(next.value);
      }
      if (chunk.length === 0) break;
      const p = submit(chunk, controller.signal);
      inFlight++;
      p.catch(() => {});
      if (ordered) {
        window.push(p);
        p.then(() => inFlight--, () => inFlight--);
      } else {
        p.then(
          (value) => ready.push({ ok: true, value }),
          (value) => ready.push({ ok: false, value }),
        ).finally(() => {
          inFlight--;
          wake?.();
        });
      }
    }
  };
  try {
    for (;;) {
      if (isAsync || held() <= limit / 2) await fill();
      if (ordered) {
        if (window.length === 0) return;
        const chunk = await window.shift()!;
        for (const value of chunk as R[]) yield value;
      } else {
        if (ready.length === 0) {
          if (inFlight === 0 && exhausted) return;
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        const next = ready.shift()!;
        if (!next.ok) throw next.value;
        for (const value of next.value as R[]) yield value;
      }
    }
  } finally {
    outer?.removeEventListener("abort", onOuter);
    if (!controller.signal.aborted) {
      controller.abort(new DOMException("The iteration ended", "AbortError"));
    }
    if (!exhausted) await iterator.return?.();
  }
}
