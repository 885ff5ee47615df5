// Task module for bench/pool_compare.ts and bench/pool_bench.ts.
export function inc(x: number): number {
  return x + 1;
}
