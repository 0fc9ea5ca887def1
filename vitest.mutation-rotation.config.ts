import { defineConfig } from 'vitest/config';

// The rotation and pg unit tests only, for stryker.rotation.config.mjs's mutants; the same env as
// vitest.mutation.config.ts (fewer property-test cases per mutant).
export default defineConfig({
  test: {
    include: ['test/rotation/**/*.test.ts', 'test/pg/**/*.test.ts'],
    env: { SECRETCACHE_MODEL_RUNS: '8', SECRETCACHE_PROPERTY_RUNS: '50' },
  },
});
