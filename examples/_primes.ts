// Shared by the examples: the CPU-bound task they hand to Pools, Threads
// and child processes.

/** Counts the primes below `limit` by trial division (deliberately slow). */
export function countPrimes(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
