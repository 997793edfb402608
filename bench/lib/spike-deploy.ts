/**
 * A minimal deployment of the engine for the spike benchmark: what serverless.yml would
 * create, minus the example schedules (which would fire into the measurement) and minus the
 * `osls print` step. The real handlers (functions/fire, job-events, retry, sweep) are
 * registered in the local Lambda runtime with serverless.yml's timeouts and memory; the
 * table, a Batch compute environment large enough that capacity is never the bottleneck, a
 * queue, a job definition running `true`, the job-events rule and the Scheduler group
 * (with the `_sweep` schedule) are created through the real SDK clients, by the deployer the
 * engine tests share (local/engine-deploy.ts).
 */
import { ListJobsCommand, type BatchClient, type JobSummary } from '@aws-sdk/client-batch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { ENV, type ScheduleDefinition } from '#shared/config/definition';
import { SWEEP_SCHEDULE_NAME, FIRE_RETRY_POLICY } from '#shared/config/cloudformation';
import { deploymentContext, normalizeSchedule, parseConfig, schedulerTargetInput } from '#shared/config/validate';
import { deployEngine } from '#local/engine-deploy';
import type { LocalStack } from '#local/stack';

/** serverless.yml's values the benchmark mirrors (kept here so the benchmark needs no `osls print`). */
export const SERVERLESS_YML = {
  memorySizeMb: 512,
  timeouts: { fire: 60, 'job-events': 60, retry: 90, sweep: 300 },
  sweepExpression: 'rate(5 minutes)',
} as const;

export interface SpikeDeployment {
  deployment: string;
  table: string;
  queue: string;
  arns: { fire: string; jobEvents: string; retry: string; sweep: string };
  clients: { batch: BatchClient; scheduler: SchedulerClient; dynamodb: DynamoDBClient; doc: DynamoDBDocumentClient };
  /** The normalized definition of spike schedule `name` (one task running the `noop` job definition). */
  definition(name: string): ScheduleDefinition;
  /** Creates schedule `name` firing `expression` (UTC) with the target input serverless.yml's plugin would give it. */
  createSchedule(name: string, expression: string): Promise<void>;
  /** Every job on the queue whose name starts with the deployment's prefix, any status. */
  listJobs(): Promise<JobSummary[]>;
  destroy(): void;
}

export interface SpikeDeployOptions {
  deployment?: string;
  /** `narrow` (the default) is serverless.yml's (see docs/engine.md, Cost); `all` projects everything, to compare. */
  projections?: 'all' | 'narrow';
  sweepExpression?: string;
  /**
   * Concurrency of each function in the local runtime (default: the runtime's 1,000, AWS's
   * default account limit). One machine cannot run 1,000 handlers in parallel the way Lambda
   * does: they share its cores and its one DynamoDB Local, every one of them progresses at
   * 1/1,000th speed and all of them finish late or time out together. A cap near what the
   * machine can really overlap keeps the rest in Lambda's own queue, where AWS would have run them.
   */
  concurrency?: number;
  /** The deployment's SubmitJob pacing (custom.batchron.submitRate), per second. */
  submitRate?: number;
  /** The functions' DynamoDB endpoint, when it should not be the stack's endpoint (e.g. DynamoDB Local directly, skipping the proxy hop). */
  dynamodbEndpoint?: string;
}

/** Deploys the engine on `stack` (local/engine-deploy.ts) with serverless.yml's timeouts and memory, and its sweep schedule. */
export async function deploySpike(stack: LocalStack, opts: SpikeDeployOptions = {}): Promise<SpikeDeployment> {
  const deployment = opts.deployment ?? 'batchron-spike';
  const queue = deployment;
  const { logger } = await import('#shared/logger');
  logger.setLogLevel((process.env.BENCH_LOG_LEVEL ?? 'ERROR') as 'ERROR');
  const fn = (key: keyof typeof SERVERLESS_YML.timeouts) => ({
    timeoutMs: SERVERLESS_YML.timeouts[key] * 1000,
    memorySizeMb: SERVERLESS_YML.memorySizeMb,
    ...(opts.concurrency ? { reservedConcurrency: opts.concurrency } : {}),
  });
  const deployed = await deployEngine(stack, {
    deployment,
    projections: opts.projections ?? 'narrow',
    // Large on purpose: the benchmark measures the scheduler, not compute capacity.
    computeEnvironment: { name: deployment, maxvCpus: 100_000 },
    queue,
    jobDefinitions: [{ name: `${deployment}-noop`, image: 'public.ecr.aws/docker/library/alpine:3.20', command: ['true'] }],
    env: {
      [ENV.retentionDays]: '30',
      [ENV.submitRate]: String(opts.submitRate ?? 50),
      // Thousands of throttling warnings would drown the progress line; errors still show.
      POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...(opts.dynamodbEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: opts.dynamodbEndpoint } : {}),
    },
    functions: { fire: fn('fire'), jobEvents: fn('job-events'), retry: fn('retry'), sweep: fn('sweep') },
    ruleName: `${deployment}-job-events-rule-1`,
  });
  const { table, arns, clients, schedulerRoleArn: roleArn } = deployed;
  await clients.scheduler.send(
    new CreateScheduleCommand({
      Name: SWEEP_SCHEDULE_NAME,
      GroupName: deployment,
      ScheduleExpression: opts.sweepExpression ?? SERVERLESS_YML.sweepExpression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: arns.sweep,
        RoleArn: roleArn,
        Input: JSON.stringify({ source: 'batchron.sweep', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 },
      },
    }),
  );

  const ctx = deploymentContext(deployment, queue);
  const batchron = parseConfig(
    {
      jobDefinitions: { noop: { image: 'public.ecr.aws/docker/library/alpine:3.20', command: ['true'] } },
      schedules: { template: { expression: 'rate(1 hour)', job: { definition: 'noop' } } },
    },
    ctx,
  );
  const spec = batchron.schedules.template!;
  const definition = (name: string) => normalizeSchedule(name, spec, batchron, ctx);

  return {
    deployment,
    table,
    queue,
    arns,
    clients,
    definition,
    async createSchedule(name, expression) {
      await clients.scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: deployment,
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          Target: { Arn: arns.fire, RoleArn: roleArn, Input: schedulerTargetInput(definition(name)), RetryPolicy: { ...FIRE_RETRY_POLICY } },
        }),
      );
    },
    async listJobs() {
      const out: JobSummary[] = [];
      let nextToken: string | undefined;
      do {
        const page = await clients.batch.send(
          new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'JOB_NAME', values: [`${deployment}_*`] }], maxResults: 1000, nextToken }),
        );
        out.push(...(page.jobSummaryList ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return out;
    },
    destroy: () => deployed.destroy(),
  };
}

/** Runs `fn` over `items` with at most `concurrency` at once, calling `onProgress` after each. */
export async function forEachLimited<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, onProgress?: (done: number) => void): Promise<void> {
  const limit = pLimit(concurrency);
  let done = 0;
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        await fn(item);
        onProgress?.(++done);
      }),
    ),
  );
}
