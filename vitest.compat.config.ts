import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The AWS CLI compatibility check (`npm run test:awscli`): the local stack driven by a
// client we did not write. Kept out of `npm test` because it needs the Debian `awscli`
// package, which `npm test` must not require; CI installs it and runs both.
// (mergeConfig would concatenate `include`; this replaces it.)
export default defineConfig({ ...base, test: { ...base.test, include: ['test/compat/**/*.test.ts'] } });
