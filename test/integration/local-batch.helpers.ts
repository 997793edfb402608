/**
 * A LocalBatch behind the real endpoint, driven by the real `@aws-sdk/client-batch`,
 * with a recording event sink. Shared by the local-batch integration tests.
 */
import { pollDelayMs } from '#test/helpers/eventually';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  type BatchClient,
  type JobDetail,
  type RegisterJobDefinitionCommandInput,
} from '@aws-sdk/client-batch';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import { startEndpoint, type Endpoint } from '#local/endpoint';
import { LOCAL_ACCOUNT, type EventBridgeEvent } from '#local/contracts';
import { LocalBatch } from '#local/batch/index';
import { awsClients } from '#test/helpers/aws';
import { PROJECT_DIR } from './package.helpers.ts';

export { PROJECT_DIR };
export const FIXTURES = 'test/fixtures/jobs';

export interface Stack {
  batch: LocalBatch;
  client: BatchClient;
  clock: Clock;
  faults: Faults;
  events: EventBridgeEvent[];
  endpoint: Endpoint;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts a LocalBatch on port 0; `dataDir` defaults to a fresh temp folder. */
export async function startStack(opts: { dataDir?: string; clock?: Clock } = {}): Promise<Stack> {
  const clock = opts.clock ?? new Clock();
  const faults = new Faults(() => clock.now());
  const events: EventBridgeEvent[] = [];
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'batchron-batch-test-'));
  const batch = new LocalBatch({
    clock,
    faults,
    events: { publish: (e) => events.push(e) },
    region: 'us-east-1',
    account: LOCAL_ACCOUNT,
    dataDir,
    projectDir: PROJECT_DIR,
    jobEnv: { EXTRA_FROM_STACK: 'stack-env' },
    transitionDelayMs: 5,
    killGraceMs: 300,
  });
  await batch.start();
  const endpoint = await startEndpoint({ port: 0, services: [batch] });
  const client = awsClients(endpoint.url).batch;
  let closed = false;
  return {
    batch,
    client,
    clock,
    faults,
    events,
    endpoint,
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      await batch.stop(300);
      client.destroy();
      await endpoint.close();
    },
  };
}

/** A compute environment with `maxvCpus` and a queue on it. */
export async function createQueue(client: BatchClient, name: string, maxvCpus = 4): Promise<string> {
  await client.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: `${name}-ce`,
      type: 'MANAGED',
      computeResources: { type: 'EC2', minvCpus: 0, maxvCpus, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' },
    }),
  );
  const q = await client.send(
    new CreateJobQueueCommand({
      jobQueueName: name,
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: `${name}-ce` }],
    }),
  );
  return q.jobQueueArn!;
}

/** Registers a container job definition running `command`. */
export async function registerDefinition(
  client: BatchClient,
  name: string,
  command: string[],
  extra: Partial<RegisterJobDefinitionCommandInput> = {},
): Promise<string> {
  const { containerProperties, ...rest } = extra;
  const out = await client.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: 'container',
      containerProperties: {
        image: 'public.ecr.aws/amazonlinux/amazonlinux:latest',
        command,
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '512' },
        ],
        ...containerProperties,
      },
      ...rest,
    }),
  );
  return out.jobDefinitionArn!;
}

/** DescribeJobs for one job over the wire. */
export async function describeJob(client: BatchClient, jobId: string): Promise<JobDetail> {
  const out = await client.send(new DescribeJobsCommand({ jobs: [jobId] }));
  const job = out.jobs?.[0];
  if (!job) throw new Error(`job ${jobId} not found`);
  return job;
}

/** Polls DescribeJobs (real time) until `predicate` holds; fails after `timeoutMs`. */
export async function waitForJob(
  client: BatchClient,
  jobId: string,
  predicate: (job: JobDetail) => boolean,
  timeoutMs = 10_000,
): Promise<JobDetail> {
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; ; n++) {
    const job = await describeJob(client, jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} stuck in ${job.status} (${job.statusReason ?? ''})`);
    await new Promise((r) => setTimeout(r, pollDelayMs(n)));
  }
}

export const isDone = (job: JobDetail) => job.status === 'SUCCEEDED' || job.status === 'FAILED';
export const hasStatus = (status: string) => (job: JobDetail) => job.status === status;

/** Statuses published for `jobId`, in order. */
export function statusesOf(events: EventBridgeEvent[], jobId: string): string[] {
  return events
    .filter((e) => (e.detail as { jobId: string }).jobId === jobId)
    .map((e) => (e.detail as { status: string }).status);
}

/** Polls (real time) until `check` returns true. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
