import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,integration,e2e,browser}/**/*.test.ts', 'test/security/**/*.test.ts'],
    testTimeout: 30_000,
    // The functions log one JSON line per decision for CloudWatch; in tests only their
    // warnings and errors are worth reading (POWERTOOLS_LOG_LEVEL=INFO shows all).
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
    hookTimeout: 120_000,
    // One DynamoDB Local JVM for the whole run (see the file); test files get its URL through inject('dynamodbUrl').
    globalSetup: ['test/helpers/global-setup.ts'],
    // Property tests use one seed per run (FC_SEED overrides it): reproducible, and CI checks what we checked.
    setupFiles: ['test/helpers/fast-check-seed.ts'],
    // The summary reporter prints the plain `Tests: N passed, N failed` line CI reads.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
