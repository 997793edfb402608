/**
 * The engine alone on a running local stack, without `osls print`: for the benchmarks and the
 * engine tests, which need the real functions and resources but none of serverless.yml's
 * example schedules or its IAM. The table (with serverless.yml's projections, or all), a
 * Fargate compute environment and queue, the job definitions asked for, the schedule group,
 * the four engine functions (fire, job-events, retry, sweep) registered from their modules'
 * `handlerFor` over this deployment's environment and the stack's Clock (shared/runtime.ts),
 * and the job-events rule, all through the real SDK clients. `npm start` deploys the whole
 * of serverless.yml with local/deploy.ts instead.
 */
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '#shared/config/definition';
import { TABLE, tableInput } from '#shared/config/table';
import type { Runtime } from '#shared/runtime';
import type { LocalStack } from './stack.ts';

/** The engine's functions, by the key their ARNs go under. */
export type EngineFunction = 'fire' | 'jobEvents' | 'retry' | 'sweep';

/** A job definition to register: Fargate, 0.25 vCPU, 512 MiB. */
export interface EngineJobDefinition {
  name: string;
  image: string;
  command: string[];
}

export interface EngineDeployOptions {
  deployment: string;
  /** Default: the deployment's name. */
  table?: string;
  /** `narrow` (default) is serverless.yml's (docs/engine.md, Cost); `all` projects everything. */
  projections?: 'narrow' | 'all';
  computeEnvironment: { name: string; maxvCpus: number };
  queue: string;
  jobDefinitions: EngineJobDefinition[];
  /** The functions' variables besides the deployment's own (retention, Slack, submit rate, Powertools, endpoints). */
  env?: Record<string, string>;
  /** Per function: timeout (ms), memory, reserved concurrency. */
  functions: Record<EngineFunction, { timeoutMs: number; memorySizeMb?: number; reservedConcurrency?: number }>;
  /** Name of the job-events rule (default `${deployment}-job-events`). */
  ruleName?: string;
  /** Clients on the stack to use (and leave open); default: new ones, closed by `destroy`. */
  clients?: EngineDeployed['clients'];
}

/** What `deployEngine` created. */
export interface EngineDeployed {
  deployment: string;
  table: string;
  arns: Record<EngineFunction, string>;
  /** The functions' runtime: their environment and the stack's clock. */
  runtime: Runtime & { env: Record<string, string> };
  /** The role the deployment's schedules run as (recorded in their targets; the local Scheduler does not assume it). */
  schedulerRoleArn: string;
  clients: { batch: BatchClient; scheduler: SchedulerClient; dynamodb: DynamoDBClient; doc: DynamoDBDocumentClient };
  /** Closes the clients deployEngine made. */
  destroy(): void;
}

/**
 * Sets on process.env the variables of `env` read once per process, not per function: the AWS
 * SDK's (endpoint, region, credentials; the shared clients are built once per process) and
 * Powertools'. No decision reads them; the rest reaches the functions through their Runtime.
 */
export function setProcessWide(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) if (/^(AWS_|POWERTOOLS_)/.test(name)) process.env[name] = value;
}

/** Deploys the engine on `stack` (see the module comment). */
export async function deployEngine(stack: LocalStack, opts: EngineDeployOptions): Promise<EngineDeployed> {
  const { deployment } = opts;
  const table = opts.table ?? deployment;
  const clients = opts.clients ?? stackClients(stack);
  const { dynamodb } = clients;

  await dynamodb.send(new CreateTableCommand(tableInput(table, opts.projections ?? 'narrow')));
  await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true } }));
  const ce = opts.computeEnvironment;
  await clients.batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: ce.name,
      type: 'MANAGED',
      state: 'ENABLED',
      computeResources: { type: 'FARGATE', maxvCpus: ce.maxvCpus, subnets: ['subnet-local'], securityGroupIds: ['sg-local'] },
    }),
  );
  await clients.batch.send(
    new CreateJobQueueCommand({ jobQueueName: opts.queue, priority: 1, state: 'ENABLED', computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.name }] }),
  );
  for (const def of opts.jobDefinitions) {
    await clients.batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: def.name,
        type: 'container',
        platformCapabilities: ['FARGATE'],
        retryStrategy: { attempts: 1 },
        containerProperties: {
          image: def.image,
          command: def.command,
          resourceRequirements: [
            { type: 'VCPU', value: '0.25' },
            { type: 'MEMORY', value: '512' },
          ],
        },
      }),
    );
  }
  await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: deployment }));

  const arnOf = (fn: string) => stack.lambda.arnOf(`${deployment}-${fn}`);
  const schedulerRoleArn = `arn:aws:iam::${stack.account}:role/${deployment}-scheduler`;
  const env: Record<string, string> = {
    ...stack.env(),
    [ENV.table]: table,
    [ENV.deployment]: deployment,
    [ENV.scheduleGroup]: deployment,
    [ENV.fireTargetArn]: arnOf('fire'),
    [ENV.retryTargetArn]: arnOf('retry'),
    [ENV.schedulerRoleArn]: schedulerRoleArn,
    [ENV.defaultQueue]: opts.queue,
    ...opts.env,
  };
  setProcessWide(env);
  const runtime = { env, now: () => stack.clock.now() };

  const [fire, jobEvents, retry, sweep] = await Promise.all([
    import('#functions/fire'),
    import('#functions/job-events'),
    import('#functions/retry'),
    import('#functions/sweep'),
  ]);
  const modules: Record<EngineFunction, { handlerFor(r: Runtime): unknown }> = { fire, jobEvents, retry, sweep };
  const names: Record<EngineFunction, string> = { fire: 'fire', jobEvents: 'job-events', retry: 'retry', sweep: 'sweep' };
  const arns = {} as Record<EngineFunction, string>;
  for (const key of Object.keys(modules) as EngineFunction[]) {
    const fn = opts.functions[key];
    arns[key] = stack.lambda.register(`${deployment}-${names[key]}`, modules[key].handlerFor(runtime) as never, {
      timeoutMs: fn.timeoutMs,
      ...(fn.memorySizeMb !== undefined ? { memorySizeMb: fn.memorySizeMb } : {}),
      ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
    });
  }
  stack.bus.putRule({
    name: opts.ruleName ?? `${deployment}-job-events`,
    pattern: {
      source: ['aws.batch'],
      'detail-type': ['Batch Job State Change'],
      detail: { status: ['RUNNING', 'SUCCEEDED', 'FAILED'], jobName: [{ prefix: `${deployment}_` }] },
    },
    targets: [{ id: 'job-events', arn: arns.jobEvents }],
  });

  return {
    deployment,
    table,
    arns,
    runtime,
    schedulerRoleArn,
    clients,
    destroy() {
      if (opts.clients) return;
      clients.batch.destroy();
      clients.scheduler.destroy();
      dynamodb.destroy();
    },
  };
}

function stackClients(stack: LocalStack): EngineDeployed['clients'] {
  const config = { region: stack.region, endpoint: stack.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const dynamodb = new DynamoDBClient(config);
  return {
    batch: new BatchClient(config),
    scheduler: new SchedulerClient(config),
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
  };
}
