import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files start their own PostgreSQL clusters and Terraform processes: give them
    // time, and run files in separate processes so a crash in one cannot hide another.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['verbose', './test/support/summary-reporter.ts'],
    allowOnly: false,
  },
});
