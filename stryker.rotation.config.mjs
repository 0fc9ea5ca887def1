// Mutation testing of the rotation handler and the pg pool alone (`npm run test:mutation:rotation`): Stryker
// mutates these seven modules and runs only their unit tests (vitest.mutation-rotation.config.ts), so a run takes
// minutes instead of the full run's most of an hour. postgres-target.ts and postgres-credentials.ts are left out:
// only test/integration/postgres-target.test.ts (a real PostgreSQL) covers them, which Stryker does not run.
// Its own incremental file and reports under reports/mutation-rotation/; summarised in MUTATION.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation-rotation.config.ts' },
  mutate: [
    'src/rotation/event.ts',
    'src/rotation/version.ts',
    'src/rotation/steps.ts',
    'src/rotation/handler.ts',
    'src/rotation/errors.ts',
    'src/pg/pool.ts',
    'src/pg/credentials.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  incremental: true,
  incrementalFile: 'reports/mutation-rotation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation-rotation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation-rotation/mutation.html' },
  thresholds: { high: 90, low: 85, break: null },
  ignoreStatic: true,
};
