/**
 * Test wiring for the engine: schedule-definition builders (pure), and an engine on a whole
 * local stack (real DynamoDB Local from the global setup, local Batch running processes,
 * local Scheduler firing at() retries on the stack Clock, the event bus invoking
 * job-events), with the real functions/*.ts handlers registered in the local Lambda runtime.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListJobsCommand, type JobSummary } from '@aws-sdk/client-batch';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FireInput, ScheduleDefinition, TaskDefinition } from '#shared/config/definition';
import { ENV } from '#shared/config/definition';
import { tableInput } from '#shared/config/table';
import { deployEngine as deployEngineOnStack } from '#local/engine-deploy';
import type { Runtime } from '#shared/runtime';
import { logger, type EngineLogger } from '#shared/logger';
import { CountingMetrics } from '#test/helpers/metrics';
import type { Notifier } from '#shared/notify/slack';
import type { NotificationMessage } from '#shared/notify/messages';
import { sdkBatch, sdkRetryScheduler, type BatchPort } from '#shared/engine/ports';
import { runtimeDepsFor, type DepsFor, type EngineDeps } from '#shared/engine/deps';
import { dynamoStore } from '#shared/store/dynamo';
import type { RunItem } from '#shared/store/schema';
import type { LocalStack } from '#local/stack';
import type { TestStack } from '#test/helpers/stack';
import { eventually } from '#test/helpers/eventually';
import type { awsClients } from '#test/helpers/aws';

export { eventually };

/* ------------------------------------------------------------------ definitions */

const RETRY_NONE: TaskDefinition['retry'] = {
  attempts: 1,
  backoff: { initialSeconds: 30, multiplier: 2, maxSeconds: 900, jitter: 'none' },
  retryOn: { exitCodes: 'any', statusReasons: ['Host EC2*'], timeouts: false },
};

/** A task definition running `script` with `sh -c` on the engine's test queue. */
export function task(name: string, script = 'exit 0', extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return { name, jobDefinition: 'engine-sh', jobQueue: 'engine-queue', command: ['sh', '-c', script], dependsOn: [], retry: RETRY_NONE, ...extra };
}

/** A retry policy with `attempts` and an un-jittered backoff. */
export function retry(attempts: number, initialSeconds = 10, multiplier = 2, jitter: 'none' | 'full' | 'equal' = 'none'): TaskDefinition['retry'] {
  return { attempts, backoff: { initialSeconds, multiplier, maxSeconds: 900, jitter }, retryOn: { exitCodes: 'any', statusReasons: ['Host EC2*'], timeouts: false } };
}

/** A normalized schedule definition with sensible test defaults. */
export function definition(name: string, tasks: TaskDefinition[], extra: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  return {
    name,
    expression: 'rate(1 hour)',
    timezone: 'UTC',
    overlap: 'allow',
    parameters: {},
    tasks,
    onFailure: [],
    notify: { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 } },
    tags: {},
    ...extra,
  };
}

/** The fire input Scheduler would send for `def` at `scheduledTime`. */
export function fire(def: ScheduleDefinition, scheduledTime: string, extra: Partial<FireInput> = {}): FireInput {
  return { schedule: def.name, scheduledTime, definition: def, trigger: 'schedule', parameters: {}, ...extra };
}

/* ------------------------------------------------------------------ test doubles that are not the thing under test */

/** A logger that keeps lines for assertions (and prints nothing). */
export class MemoryLog implements EngineLogger {
  readonly lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  info(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'info', message, extra: Object.assign({}, ...extra) });
  }
  warn(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'warn', message, extra: Object.assign({}, ...extra) });
  }
  error(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'error', message, extra: Object.assign({}, ...extra) });
  }
  debug(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'debug', message, extra: Object.assign({}, ...extra) });
  }
}

/** A local HTTP server standing in for Slack's webhook endpoint; it records every POST. */
export interface SlackCapture {
  url: string;
  messages: { text: string }[];
  /** Answers 500 (an outage) while true. */
  failing: boolean;
  close(): Promise<void>;
}

export async function startSlackCapture(): Promise<SlackCapture> {
  const capture: SlackCapture = { url: '', messages: [], failing: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (capture.failing) {
        res.writeHead(500).end('outage');
        return;
      }
      capture.messages.push(JSON.parse(body) as { text: string });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  capture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  capture.close = () => new Promise((resolve) => server.close(() => resolve()));
  return capture;
}

/** A notifier recording messages in memory (for tests that are not about Slack delivery). */
export class MemoryNotifier implements Notifier {
  readonly sent: NotificationMessage[] = [];
  async send(message: NotificationMessage): Promise<void> {
    this.sent.push(message);
  }
}

/* ------------------------------------------------------------------ the engine on the local stack */

/** Creates the Batchron table with the projections serverless.yml declares (or `all`). */
export async function createEngineTable(client: DynamoDBClient, name: string, projections: 'narrow' | 'all' = 'narrow'): Promise<void> {
  await client.send(new CreateTableCommand(tableInput(name, projections)));
}

export interface EngineStack extends EngineDeployment {
  ts: TestStack;
  stop(): Promise<void>;
}

/** The engine deployed on a running local stack. */
export interface EngineDeployment {
  stack: LocalStack;
  deployment: string;
  table: string;
  /** The document client the deployment's store uses (to record or wrap its requests). */
  doc: DynamoDBDocumentClient;
  slack: SlackCapture;
  /** ARNs of the registered functions. */
  arns: { fire: string; jobEvents: string; retry: string; sweep: string };
  /** Engine deps on the stack's real clients, for direct calls (and for wrapping the Batch port). */
  deps(owner?: string, batch?: BatchPort): EngineDeps;
  run(runId: string): Promise<RunItem | undefined>;
  /** Jobs on the test queue with names starting with `prefix`, any status. */
  jobs(prefix: string): Promise<JobSummary[]>;
  /** Waits until the run satisfies `check` (real time; the stack runs jobs as processes). */
  waitRun(runId: string, check: (run: RunItem) => boolean, what: string, timeoutMs?: number): Promise<RunItem>;
  /** The functions' runtime: the deployment's environment and the stack's clock. */
  runtime: Runtime;
  /** The production engine deps over this deployment's runtime, as its functions build them (to wrap, as the crash harness does). */
  lambdaDeps: DepsFor;
  /** Closes the Slack capture server. */
  undeploy(): Promise<void>;
}

let counter = 0;

/**
 * Starts a local stack with the engine deployed on it: a fresh table, queue, job definition,
 * schedule group, the job-events rule, and the four functions, each over this deployment's
 * environment and the stack's clock.
 */
export async function startEngineStack(opts: { lambdaRetryDelaysMs?: number[] } = {}): Promise<EngineStack> {
  const { startTestStack } = await import('#test/helpers/stack');
  const ts = await startTestStack({ lambdaRetryDelaysMs: opts.lambdaRetryDelaysMs ?? [1_000, 2_000], transitionDelayMs: 5 });
  const deployed = await deployEngine(ts.stack, ts.clients);
  return {
    ...deployed,
    ts,
    async stop() {
      await deployed.undeploy();
      await ts.stop();
    },
  };
}

/**
 * Deploys the engine on a running stack (local/engine-deploy.ts): table, Batch resources,
 * schedule group, the four functions over this deployment's runtime, and the job-events rule.
 */
export async function deployEngine(
  stack: LocalStack,
  clients: ReturnType<typeof awsClients>,
  opts: { projections?: 'narrow' | 'all' } = {},
): Promise<EngineDeployment> {
  const deployment = `bt${process.pid}x${++counter}`;
  const slack = await startSlackCapture();
  const deployed = await deployEngineOnStack(stack, {
    deployment,
    ...(opts.projections ? { projections: opts.projections } : {}),
    computeEnvironment: { name: 'engine-ce', maxvCpus: 64 },
    queue: 'engine-queue',
    jobDefinitions: [{ name: 'engine-sh', image: 'public.ecr.aws/docker/library/busybox:latest', command: ['sh', '-c', 'exit 0'] }],
    env: {
      [ENV.retentionDays]: '7',
      [ENV.slackWebhookUrl]: slack.url,
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    functions: { fire: { timeoutMs: 60_000 }, jobEvents: { timeoutMs: 60_000 }, retry: { timeoutMs: 60_000 }, sweep: { timeoutMs: 300_000 } },
    clients,
  });
  const { table, arns, runtime } = deployed;
  // Decisions are asserted on state, not on log lines; ENGINE_TEST_LOG=INFO shows them.
  logger.setLogLevel((process.env.ENGINE_TEST_LOG ?? 'ERROR') as 'ERROR');

  const store = dynamoStore({ doc: clients.doc, table });
  const log = new MemoryLog();
  const engine: EngineDeployment = {
    stack,
    deployment,
    table,
    doc: clients.doc,
    slack,
    arns,
    deps(owner = `test-${Math.random().toString(36).slice(2)}`, batch?: BatchPort): EngineDeps {
      return {
        store,
        batch: batch ?? sdkBatch(clients.batch),
        retries: sdkRetryScheduler(clients.scheduler, { groupName: deployment, targetArn: arns.retry, roleArn: deployed.schedulerRoleArn }),
        notifier: { send: async (m) => void (await fetch(slack.url, { method: 'POST', body: JSON.stringify({ text: m.text }) })) },
        env: {
          deployment,
          defaultQueue: 'engine-queue',
          retentionDays: 7,
          jobLogGroup: '/aws/batch/job',
          region: 'us-east-1',
          stuckMinutes: { queued: 30, submitted: 120, running: 720 },
          submitRate: 50,
        },
        now: () => stack.clock.now(),
        owner,
        log,
        metrics: new CountingMetrics(),
      };
    },
    run: (runId) => store.getRun(runId),
    async jobs(prefix) {
      const out = await clients.batch.send(new ListJobsCommand({ jobQueue: 'engine-queue', filters: [{ name: 'JOB_NAME', values: [`${prefix}*`] }] }));
      return out.jobSummaryList ?? [];
    },
    async waitRun(runId, check, what, timeoutMs = 20_000) {
      return eventually(async () => {
        const run = await store.getRun(runId);
        return run && check(run) ? run : undefined;
      }, what, timeoutMs);
    },
    runtime,
    lambdaDeps: runtimeDepsFor(runtime),
    async undeploy() {
      await slack.close();
    },
  };
  return engine;
}
