/**
 * Starts ONE DynamoDB Local (in memory) for the whole test run and provides its URL as
 * `dynamodbUrl`, so each test file's stack proxies to it instead of paying for its own JVM.
 * Tests sharing it use their own table names.
 */
import type { TestProject } from 'vitest/node';
import { spawnDynamoDBLocal } from '#local/dynamodb';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the run's shared DynamoDB Local. */
    dynamodbUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ddb = await spawnDynamoDBLocal();
  project.provide('dynamodbUrl', ddb.url);
  return () => ddb.stop();
}
