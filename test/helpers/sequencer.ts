/**
 * The order test files start in: the long poles first, then vitest's own order (failed
 * first, then longest first from its cache, or larger files first without one).
 *
 * A clean clone (CI) has no cache, so without this the files that take longest, mostly
 * waiting for the examples' own fires, could start last and finish alone while the other
 * workers sit idle. Listed from a full run's per-file durations (README, Tests).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { relative } from 'node:path';

export const LONG_POLES = [
  'test/e2e/first-run.test.ts',
  'test/integration/local-iam.test.ts',
  'test/browser/dashboard.test.ts',
  // The unit tier's longest (`osls print` children, fuzzing): they use the CPU the long poles
  // leave while they wait, instead of running last, alone, after every integration file.
  'test/unit/cli-validate.test.ts',
  'test/unit/fuzz-config.test.ts',
  'test/integration/local-deploy.test.ts',
  'test/integration/crash-points-e2e.test.ts',
  'test/integration/engine-pacing.test.ts',
  'test/unit/fuzz-cli.test.ts',
  'test/unit/fuzz-api.test.ts',
  'test/integration/package.test.ts',
];

export default class LongPolesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_POLES.indexOf(relative(f.project.config.root, f.moduleId));
      return i === -1 ? LONG_POLES.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}
