import { defineConfig } from 'vitest/config';
import LongPolesFirst from './test/helpers/sequencer.ts';

/**
 * Two tiers, one `npm test` (the type check runs first, from package.json):
 * - `unit`: pure logic and in-memory engine tests, no network; worker threads (cheap to
 *   start, no process per file).
 * - `integration`: DynamoDB Local (one JVM for the tier, see global-setup.ts), the local
 *   stack, real job processes, `npm start`. Forks: these files set process.env for the
 *   handlers they load and spawn children, so each file gets its own process.
 * Workers: most integration time is spent waiting (job processes, Lambda timeouts, the local
 * Scheduler), not computing, so the tier runs more files at once than there are cores;
 * see README "Tests" for the measured split.
 */
const shared = {
  // The functions log one JSON line per decision for CloudWatch; in tests only their
  // warnings and errors are worth reading (POWERTOOLS_LOG_LEVEL=INFO shows all).
  // Output is read as plain text, as from a pipe, whether or not CI=true turns colours on.
  // Stubbed variables go back after each test: unit files share their worker (isolate: false).
  unstubEnvs: true,
  // Likewise their CloudWatch metric lines (EMF), which no test reads: hundreds a run.
  env: {
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    NO_COLOR: '1',
  },
  // Property tests use one seed per run (FC_SEED overrides it): reproducible, and CI checks what we checked.
  setupFiles: ['test/helpers/fast-check-seed.ts'],
};

/** Security tests that need no network or process: the rest of test/security start stacks, CLIs or packaging. */
const SECURITY_UNIT = ['test/security/guard-rules.test.ts', 'test/security/status-reason-globs.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Across both tiers; BATCHRON_TEST_WORKERS overrides it (e.g. 1 to bisect an interaction).
    maxWorkers: Number(process.env.BATCHRON_TEST_WORKERS ?? 3),
    // The long poles start first, cache or no cache (test/helpers/sequencer.ts).
    sequence: { sequencer: LongPolesFirst },
    // The summary reporter prints the plain `Tests: N passed, N failed` line CI reads.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts', ...SECURITY_UNIT],
          pool: 'threads',
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'integration',
          include: ['test/{integration,e2e,browser,security}/**/*.test.ts'],
          exclude: [...SECURITY_UNIT],
          pool: 'forks',
          // One DynamoDB Local JVM for the tier; test files get its URL through inject('dynamodbUrl').
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
