/**
 * Prints one plain closing line, "N passed, N failed, N skipped", so any CI log reader can
 * tell how many tests really ran, whatever the runner's own summary looks like. A file that
 * failed outside its tests (a hook, an import) leaves its tests skipped: it is named on a
 * line of its own, so "0 failed" never hides it.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const brokenFiles: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
      if (module.errors().length > 0 || module.state() === 'failed') brokenFiles.push(module.relativeModuleId);
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
    if (brokenFiles.length > 0) process.stdout.write(`${brokenFiles.length} file(s) failed: ${brokenFiles.join(', ')}\n`);
  }
}
