// Worker-side functions of examples/pool/main.ts. The pool loads this
// module once per worker, so `WORKER` differs between workers.

/** A tag for the worker this module instance lives in. */
const WORKER = crypto.randomUUID().slice(0, 4);

/** CPU work: the sum of i*i mod 7 below `n`, plus which worker did it. */
export function crunch(
  n: number,
): { n: number; value: number; worker: string } {
  let value = 0;
  for (let i = 0; i < n; i++) value += (i * i) % 7;
  return { n, value, worker: WORKER };
}

/** x cubed: the tutorial's function. */
export function cube(x: number): number {
  return x ** 3;
}

/** Fails for 13, to show errorCallback. */
export function unlucky(x: number): number {
  if (x === 13) throw new RangeError(`Cannot handle ${x}: it is unlucky`);
  return x;
}
