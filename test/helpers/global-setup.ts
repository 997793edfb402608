/**
 * Starts ONE DynamoDB Local (in memory) for the whole test run and provides its URL as
 * `dynamodbUrl`, so each test file's stack proxies to it instead of paying for its own JVM.
 * Tests sharing it use their own table names.
 *
 * Also provides `packageRoot`, an empty directory of this run where `packagedOnce`
 * (test/helpers/packaged.ts) packages each distinct configuration once for every file that
 * reads it; it is removed when the run ends, so no run reads another run's packaging.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { spawnDynamoDBLocal } from '#local/dynamodb';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the run's shared DynamoDB Local. */
    dynamodbUrl: string;
    /** This run's directory of shared `osls package` outputs (test/helpers/packaged.ts). */
    packageRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ddb = await spawnDynamoDBLocal();
  project.provide('dynamodbUrl', ddb.url);
  const packageRoot = mkdtempSync(join(tmpdir(), 'batchron-packaged-'));
  project.provide('packageRoot', packageRoot);
  return async () => {
    await ddb.stop();
    rmSync(packageRoot, { recursive: true, force: true });
  };
}
