/**
 * The new job-definition fields on the local stack, deployed from serverless.yml as
 * `npm start` deploys it: platform queues and compute environments (Spot falling back to
 * on-demand), GPUs, architecture, ephemeral storage, the job role and secrets reach the
 * local Batch, and a scheduled run of an `ec2-spot` + `gpus` definition runs on its queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeComputeEnvironmentsCommand, DescribeJobDefinitionsCommand, DescribeJobQueuesCommand, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { deployLocal, type LocalDeployment } from '#local/deploy';
import { resolvedOnce } from '#test/helpers/packaged';
import { fireInput } from '#shared/config/validate';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';
import { PROJECT_DIR } from './package.helpers.ts';

let test: TestStack;
let deployment: LocalDeployment;

beforeAll(async () => {
  test = await startTestStack({ projectDir: PROJECT_DIR });
  const service = await resolvedOnce();
  const batchron = service.custom!.batchron as Record<string, any>;
  const image = 'example';
  batchron.compute = { ec2Spot: { instanceTypes: ['g5.xlarge'], allocationStrategy: 'SPOT_CAPACITY_OPTIMIZED' } };
  batchron.jobDefinitions = {
    'gpu-train': { image, command: ['sh', 'jobs/hello.sh'], platform: 'ec2-spot', gpus: 1, vcpus: 1, memory: 1024 },
    arm: { image, command: ['sh', 'jobs/hello.sh'], architecture: 'arm64', ephemeralStorageGiB: 50 },
    'with-role': { image, command: ['sh', 'jobs/hello.sh'], role: { statements: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } },
    'with-secret': { image, command: ['sh', 'jobs/hello.sh'], secrets: { TOKEN: { secretsManager: 'batchron/dev/token', key: 'token' } } },
  };
  // One paused schedule: nothing fires on its own while the test drives it.
  batchron.schedules = { train: { expression: 'rate(1 day)', enabled: false, job: { definition: 'gpu-train' } } };
  deployment = await deployLocal(test.stack, { projectDir: PROJECT_DIR, service });
});

afterAll(async () => {
  await test?.stop();
});

describe('job definitions for real work on the local stack', () => {
  it('creates the Spot queue with its on-demand fallback, and registers every new field', async () => {
    // Act
    const queue = (await test.clients.batch.send(new DescribeJobQueuesCommand({ jobQueues: ['batchron-dev_ec2-spot'] }))).jobQueues?.[0];
    const ces = (await test.clients.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['batchron-dev_ec2-spot', 'batchron-dev_ec2'] })))
      .computeEnvironments;
    const defs = (await test.clients.batch.send(new DescribeJobDefinitionsCommand({ status: 'ACTIVE' }))).jobDefinitions ?? [];
    const def = (name: string) => defs.find((d) => d.jobDefinitionName === name)!;
    // Assess
    expect(queue?.computeEnvironmentOrder?.map((o) => [o.order, o.computeEnvironment!.split('/').pop()])).toEqual([
      [1, 'batchron-dev_ec2-spot'],
      [2, 'batchron-dev_ec2'],
    ]);
    expect(ces?.map((c) => [c.computeEnvironmentName, c.computeResources?.type, c.computeResources?.allocationStrategy]).sort()).toEqual([
      ['batchron-dev_ec2', 'EC2', 'BEST_FIT_PROGRESSIVE'],
      ['batchron-dev_ec2-spot', 'SPOT', 'SPOT_CAPACITY_OPTIMIZED'],
    ]);
    expect(def('batchron-dev-gpu-train')).toMatchObject({ platformCapabilities: ['EC2'] });
    expect(def('batchron-dev-gpu-train').containerProperties?.resourceRequirements).toContainEqual({ type: 'GPU', value: '1' });
    expect(def('batchron-dev-arm').containerProperties).toMatchObject({
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      ephemeralStorage: { sizeInGiB: 50 },
    });
    expect(def('batchron-dev-with-role').containerProperties?.jobRoleArn).toBe(`arn:aws:iam::${test.stack.account}:role/batchron-dev-BatchronJobRoleWithRole`);
    expect(def('batchron-dev-with-secret').containerProperties?.secrets).toEqual([
      { name: 'TOKEN', valueFrom: `arn:aws:secretsmanager:${test.stack.region}:${test.stack.account}:secret:batchron/dev/token:token::` },
    ]);
  });

  it('runs a scheduled ec2-spot GPU job on its Spot queue', async () => {
    // Act: what Scheduler would send for the (paused) schedule
    await test.stack.lambda.invoke('batchron-dev-fire', fireInput(deployment.definitions.train!, '2026-01-01T00:00:00Z'));
    const job = await eventually(async () => {
      const list = await test.clients.batch.send(new ListJobsCommand({ jobQueue: 'batchron-dev_ec2-spot', jobStatus: 'SUCCEEDED' }));
      return list.jobSummaryList?.[0];
    }, 'the train job to succeed on batchron-dev_ec2-spot');
    const detail = (await test.clients.batch.send(new DescribeJobsCommand({ jobs: [job.jobId!] }))).jobs![0]!;
    // Assess
    expect(detail.jobName).toMatch(/^batchron-dev_train-/);
    expect(detail.jobDefinition).toContain('job-definition/batchron-dev-gpu-train:');
    await test.stack.idle();
  });
});
