import type { Reporter, TestModule, Vitest } from 'vitest/node';

/**
 * A vitest reporter that ends every run with its slowest test files, so that the time a run takes is
 * attributed to files before anyone tries to cut it. A file's time is what it cost from start to end:
 * its environment (for the worker project: workerd and fresh storage), the setup file (the
 * migrations), importing the module, then its tests and hooks. In the worker project most small files
 * are nearly all start-up, which the "tests" figure beside it shows.
 */
export class SlowestFiles implements Reporter {
  private vitest: Vitest | undefined;

  constructor(private readonly count = 10) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const timed = testModules.map((module) => {
      const d = module.diagnostic();
      const total = d.environmentSetupDuration + d.prepareDuration + d.setupDuration + d.collectDuration + d.duration;
      return { file: module.relativeModuleId, project: module.project.name, total, tests: d.duration };
    });
    if (timed.length === 0) return;
    timed.sort((a, b) => b.total - a.total);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const lines = timed
      .slice(0, this.count)
      .map(
        ({ file, project, total, tests }) =>
          `  ${seconds(total).padStart(8)}  ${`[${project}]`.padEnd(9)} ${file}  (tests ${seconds(tests)})`,
      );
    const sum = timed.reduce((s, t) => s + t.total, 0);
    const log = (text: string) => (this.vitest ? this.vitest.logger.log(text) : console.log(text));
    log(
      `\nSlowest ${Math.min(this.count, timed.length)} of ${timed.length} test files (start-up included; ${seconds(sum)} summed over all files):`,
    );
    log(lines.join('\n'));
  }
}
