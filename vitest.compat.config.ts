import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The compatibility checks (`npm run test:compat`): the local stack driven by clients we did
// not write, every AWS CLI present and boto3. Kept out of `npm test` because they need the
// AWS CLI and Python's boto3, which `npm test` must not require; CI installs them and runs both.
// Its own project: the base config's tier projects would run the whole suite here.
const { projects: _tiers, ...common } = base.test ?? {};
export default defineConfig({
  test: {
    ...common,
    include: ['test/compat/**/*.test.ts'],
    // Each file starts `batchron local` itself (with its own DynamoDB Local): one at a time.
    maxWorkers: 1,
  },
});
