import { defineConfig } from 'vitest/config';

// The unit tests only (no moto_server, no child processes), for Stryker's mutants.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/integration/**', 'test/keep-alive.test.ts', 'test/docs.test.ts'],
    // The model-based and fuzz tests cover nearly every line, so they run for nearly every mutant: a few cases
    // each keeps a full run within minutes (CI runs more; SECRETCACHE_MODEL_RUNS raises them for long runs).
    env: { SECRETCACHE_MODEL_RUNS: '8', SECRETCACHE_PROPERTY_RUNS: '50' },
  },
});
