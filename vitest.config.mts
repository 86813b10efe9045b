import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files start their own PostgreSQL clusters and Terraform processes: give them
    // time, and run files in separate processes so a crash in one cannot hide another.
    pool: 'forks',
    // Three files at a time. Vitest's default (one fewer than the cores) is a single worker
    // on a 2-core machine, yet a file spends most of its time waiting on its Terraform and
    // PostgreSQL processes: three keep two cores busy without crowding them so much that
    // time-bound steps suffer. `--maxWorkers=N` overrides it. Every file must stay
    // parallel-safe: see test/README.md.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['verbose', './test/support/summary-reporter.ts'],
    allowOnly: false,
  },
});
