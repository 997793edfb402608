import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One DynamoDB Local JVM for the whole run (see the file); test files get its URL through inject('dynamodbUrl').
    globalSetup: ['test/helpers/global-setup.ts'],
    // The summary reporter prints the plain `Tests: N passed, N failed` line CI reads.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
