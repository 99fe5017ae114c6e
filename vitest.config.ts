import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Provides the run directory where the shared Apache Cassandra records itself, and stops it at the end.
    globalSetup: ['test/lab/global-setup.ts'],
    // After each test file: the temporary HOMEs its runs used are removed.
    setupFiles: ['test/lab/after-each-file.ts'],
    // Integration tests start real servers; give them room, and keep to the machine's two cores.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
