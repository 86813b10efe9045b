import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that drive Terraform end to end: a minute or more each. */
const SLOW_DIR = `${path.sep}${path.join('test', 'e2e')}${path.sep}`;

/**
 * Starts the slow files first, so the workers finish together instead of one running a
 * long end-to-end file alone at the end. Vitest orders files by their durations in its cache
 * of earlier runs, else (a fresh clone, as in CI) by size, which puts short files of many
 * cases ahead of the end-to-end ones; each group keeps Vitest's order.
 */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const slow = (file: TestSpecification): boolean => file.moduleId.includes(SLOW_DIR);
    return [...ordered.filter(slow), ...ordered.filter((file) => !slow(file))];
  }
}

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
    sequence: { sequencer: SlowFirstSequencer },
    // Bounds on a hang, not waits: with room for a machine that runs three files at once
    // besides other work (an apply that takes seconds alone took over a minute so).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['verbose', './test/support/summary-reporter.ts'],
    allowOnly: false,
  },
});
