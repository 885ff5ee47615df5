/**
 * The streaming window behind both Pools' `imap` and `imapUnordered` (private
 * to weft; used by the local `Pool` in `concurrency/pool.ts` and the
 * distributed one in `cluster/pool.ts`).
 *
 * Items are pulled from a sync or async (possibly endless) iterable,
 * `chunksize` at a time, and each chunk goes to `submit`. At most `limit`
 * chunks are held (submitted and not yet yielded); once at most `refillAt`
 * are held the window is topped up again, so the local Pool refills in bulk
 * (`refillAt = limit / 2`: tasks reach the workers in batches) and the
 * cluster Pool one chunk per result (`refillAt = limit - 1`). Results come
 * in input order (`ordered`) or as the chunks finish; the first failed chunk
 * ends the stream with its error.
 *
 * Leaving early — `break`, a thrown error, a failed chunk, or the caller's
 * `signal` — aborts the signal every pending `submit` got and closes the
 * iterable (`return()`), as `for await` would; an iterable whose `next()`
 * threw is not closed again. An already-aborted `signal` throws its reason
 * before any item is pulled.
 *
 * @module
 */

/**
 * Runs one chunk under `signal` and resolves to its results, one per item,
 * in item order.
 */
export type SubmitChunk = (
  chunk: unknown[],
  signal: AbortSignal,
) => Promise<unknown[]>;

/** The shape of one stream. */
export interface StreamWindowOptions {
  /** Most chunks held at once (submitted and not yet yielded), >= 1. */
  readonly limit: number;
  /** Top the window up once at most this many chunks are held (< `limit`). */
  readonly refillAt: number;
  /** Items per chunk (default 1); a TypeError names it if not an integer >= 1. */
  readonly chunksize?: number;
  /** Ends the stream with `signal.reason`, cancelling what is in flight. */
  readonly signal?: AbortSignal;
}

/**
 * Yields the results of `submit` over `items` (see the module doc). Options
 * are checked on the first `next()`, like every other failure of the stream.
 *
 * @throws {TypeError} If `chunksize` is not an integer >= 1.
 */
export async function* streamWindow<R>(
  submit: SubmitChunk,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  ordered: boolean,
  options: StreamWindowOptions,
): AsyncGenerator<R, void, undefined> {
  const { limit, refillAt } = options;
  const chunksize = options.chunksize ?? 1;
  if (!Number.isInteger(chunksize) || chunksize < 1) {
    throw new TypeError(
      `Cannot map: "chunksize" must be an integer >= 1, got ${chunksize}`,
    );
  }
  // Our own controller: leaving the loop early cancels what is in flight.
  const controller = new AbortController();
  const outer = options.signal;
  const onOuter = () => controller.abort(outer!.reason);
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener("abort", onOuter, { once: true });
  const isAsync = Symbol.asyncIterator in items;
  const iterator = isAsync
    ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    : (items as Iterable<unknown>)[Symbol.iterator]();
  const held = () => ordered ? window.length : inFlight + ready.length;
  const window: Promise<unknown[]>[] = [];
  const ready: { ok: boolean; value: unknown }[] = [];
  let wake: (() => void) | undefined;
  // `exhausted`: the iterable is done or its next() threw (no return() then).
  let exhausted = false;
  let inFlight = 0;
  const fill = async () => {
    if (held() > refillAt) return;
    while (!exhausted && held() < limit) {
      const chunk: unknown[] = [];
      while (chunk.length < chunksize) {
        let next: IteratorResult<unknown>;
        try {
          next = isAsync
            ? await iterator.next()
            : (iterator as Iterator<unknown>).next();
        } catch (error) {
          exhausted = true; // a throwing iterator is not closed again
          throw error;
        }
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
      if (isAsync || held() <= refillAt) await fill();
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
      controller.abort(
        new DOMException(
          "Cannot finish task: the iteration ended early",
          "AbortError",
        ),
      );
    }
    if (!exhausted) await iterator.return?.();
  }
}
