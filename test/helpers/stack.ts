/**
 * A whole local stack for an integration test: port 0, a fresh temp data folder, the run's
 * shared DynamoDB Local (from the global setup), and real `@aws-sdk` clients pointed at it.
 * `stop()` stops the stack, closes the clients and removes the folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '#local/stack';
import { deployLocal } from '#local/deploy';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { awsClients } from '#test/helpers/aws';
import { PROJECT_DIR } from '../integration/package.helpers.ts';

export { awsClients };

export interface TestStack {
  stack: LocalStack;
  clients: ReturnType<typeof awsClients>;
  dataDir: string;
  /** Stops everything; pass `keepData` to start another stack on the same folder afterwards. */
  stop(opts?: { keepData?: boolean; graceMs?: number }): Promise<void>;
}

/** Starts a stack for a test; options override the test defaults (short kill grace, quick transitions). */
export async function startTestStack(opts: LocalStackOptions = {}): Promise<TestStack> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'batchron-stack-test-'));
  const stack = await startLocalStack({
    port: 0,
    dynamodb: { endpoint: inject('dynamodbUrl') },
    transitionDelayMs: 5,
    killGraceMs: 500,
    log: () => undefined,
    ...opts,
    dataDir,
  });
  const clients = awsClients(stack.url);
  let stopped = false;
  return {
    stack,
    clients,
    dataDir,
    async stop(stopOpts = {}) {
      if (stopped) return;
      stopped = true;
      await stack.stop({ graceMs: stopOpts.graceMs ?? 500 });
      for (const c of [clients.batch, clients.scheduler, clients.dynamodb]) c.destroy();
      if (!stopOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { eventually } from './eventually.ts';

/**
 * A stack with the project's serverless.yml deployed and the real functions/api handler
 * behind the local HTTP API (registered as `functionName`), as `npm start` serves it.
 * `stop()` closes the API, then the stack.
 */
export async function startApiTestStack(functionName: string): Promise<{ t: TestStack; api: HttpApi; stop(): Promise<void> }> {
  const t = await startTestStack({ projectDir: PROJECT_DIR });
  await deployLocal(t.stack, { projectDir: PROJECT_DIR });
  // After the deploy: the shared clients must be built with the stack's endpoint in the environment.
  const { handler } = await import('#functions/api');
  t.stack.lambda.register(functionName, handler, { timeoutMs: 30_000 });
  const api = await startHttpApi({
    port: 0,
    dataDir: t.dataDir,
    lambda: t.stack.lambda,
    now: () => t.stack.clock.now(),
    routes: [{ method: 'ANY', path: '/{proxy+}', functionName }],
  });
  return {
    t,
    api,
    async stop() {
      await api.close();
      await t.stop();
    },
  };
}
