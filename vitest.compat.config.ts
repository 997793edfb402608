import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The compatibility checks (`npm run test:compat`): the local stack driven by clients we did
// not write, every AWS CLI present and boto3. Kept out of `npm test` because they need the
// AWS CLI and Python's boto3, which `npm test` must not require; CI installs them and runs both.
// (mergeConfig would concatenate `include`; this replaces it.)
export default defineConfig({ ...base, test: { ...base.test, include: ['test/compat/**/*.test.ts'] } });
