import { defineConfig } from 'vitest/config';

// The unit tests only (no moto_server, no child processes), for Stryker's mutants.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/integration/**', 'test/keep-alive.test.ts', 'test/docs.test.ts'],
  },
});
