/**
 * Stopping the local stack (Ctrl-C) while jobs run: nothing is sent to Slack and no run
 * fails during the stop; the next start's sweep reads the jobs the stop ended from Batch,
 * and each task's retry policy decides then: a retried task waits for its retry; a task
 * without retries fails its run, marked interrupted and not notified (the functions get the
 * stack-stopped reason as a quiet one from the local deploy, as here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictException, CreateScheduleGroupCommand } from '@aws-sdk/client-scheduler';
import { afterAll, expect, inject, it } from 'vitest';
import { sweep } from '#shared/engine/sweep';
import { sdkBatch, sdkRetryScheduler } from '#shared/engine/ports';
import { STACK_STOPPED_GLOB } from '#local/batch/types';
import { dynamoStore } from '#shared/store/dynamo';
import { definition, deployEngine, fire, retry, task, type EngineDeployment } from '#test/helpers/engine';
import { startTestStack, type TestStack } from '#test/helpers/stack';

const gateDir = mkdtempSync(join(tmpdir(), 'engine-stop-'));
let first: TestStack | undefined;
let second: TestStack | undefined;
let engine: EngineDeployment | undefined;
const direct = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const doc = DynamoDBDocumentClient.from(direct, { marshallOptions: { removeUndefinedValues: true } });

afterAll(async () => {
  writeFileSync(join(gateDir, 'open'), '');
  await engine?.undeploy();
  await second?.stop();
  await first?.stop();
  direct.destroy();
  rmSync(gateDir, { recursive: true, force: true });
});

it('sends nothing while stopping nor after; on the next start the retry policy of each interrupted task decides', async () => {
  // Prepare: two runs with a job running, one whose task retries a lost host, one that does not retry.
  first = await startTestStack({ lambdaRetryDelaysMs: [1_000, 2_000] });
  engine = await deployEngine(first.stack, first.clients);
  const wait = `while [ ! -f ${join(gateDir, 'open')} ]; do sleep 0.02; done`;
  const retried = definition('stop-retried', [task('main', wait, { retry: retry(3, 30) })]);
  const final = definition('stop-final', [task('main', wait)]);
  for (const def of [retried, final]) await first.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
  for (const def of [retried, final]) await engine.waitRun(`${def.name}.20250301T000000Z`, (r) => r.status === 'RUNNING', `${def.name} to run`);
  const store = dynamoStore({ doc, table: engine.table });

  // Act 1: Ctrl-C.
  await first.stop({ keepData: true, graceMs: 100 });
  const afterStop = await Promise.all([store.getRun('stop-retried.20250301T000000Z'), store.getRun('stop-final.20250301T000000Z')]);
  const sentWhileStopping = engine.slack.messages.length;

  // Act 2: the next start on the same data; its sweep.
  second = await startTestStack({ dataDir: first.dataDir });
  await second.clients.scheduler.send(new CreateScheduleGroupCommand({ Name: engine.deployment })).catch((error: unknown) => {
    if (!(error instanceof ConflictException)) throw error;
  });
  const base = engine.deps('sweep-at-start', sdkBatch(second.clients.batch));
  const deps = {
    ...base,
    env: { ...base.env, quietFailureReasons: [STACK_STOPPED_GLOB] },
    store,
    retries: sdkRetryScheduler(second.clients.scheduler, { groupName: engine.deployment, targetArn: engine.arns.retry, roleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler' }),
  };
  const report = await sweep(deps);
  const [retriedRun, finalRun] = await Promise.all([store.getRun('stop-retried.20250301T000000Z'), store.getRun('stop-final.20250301T000000Z')]);

  // Assess
  expect(sentWhileStopping).toBe(0);
  expect(afterStop.map((r) => r?.status)).toEqual(['RUNNING', 'RUNNING']);
  expect(report.jobsRepaired).toBe(2);
  expect(retriedRun?.tasks.main!.status).toBe('RETRY_WAIT');
  expect(retriedRun?.tasks.main!.attempts[0]!.statusReason).toContain('The local stack stopped');
  expect(finalRun?.status).toBe('FAILED');
  expect(finalRun?.interrupted).toBe(true);
  expect(finalRun?.finalized).toBe(true);
  expect(engine.slack.messages).toHaveLength(0);
});
