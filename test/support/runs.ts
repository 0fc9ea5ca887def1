/**
 * How many cases a property test runs: its own count normally, fewer under mutation testing, where every mutant
 * reruns the tests that cover it (`vitest.mutation.config.ts` sets SECRETCACHE_PROPERTY_RUNS).
 */
export function propertyRuns(normally: number): number {
  const limit = Number(process.env.SECRETCACHE_PROPERTY_RUNS ?? '');
  return Number.isFinite(limit) && limit > 0 ? Math.min(limit, normally) : normally;
}
