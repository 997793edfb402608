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
import { awsClients } from '#test/helpers/aws';

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
