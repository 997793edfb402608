/**
 * The whole local stack on one machine, wired together:
 *
 *   AWS SDK / CLI ──HTTP──▶ endpoint :4566 ──┬─ batch      LocalBatch ──events──▶ LocalEventBus ──▶ LocalLambda
 *                                            ├─ scheduler  LocalScheduler ──targets──▶ LocalLambda | LocalBatch
 *                                            ├─ dynamodb   proxy ──▶ DynamoDB Local (JVM)
 *                                            ├─ lambda     Invoke API ──▶ LocalLambda
 *                                            ├─ events     PutEvents/PutRule ──▶ LocalEventBus
 *                                            ├─ logs       GetLogEvents ──▶ job log files
 *                                            ├─ ssm        Parameter Store (the Slack webhook, job secrets)
 *                                            ├─ secretsmanager  job secrets (Create/Put/GetSecretValue)
 *                                            └─ /_batchron/ control API (clock, faults, kill; bearer token)
 *
 * Every listener binds loopback and refuses a foreign Host or Origin (local/guard.ts);
 * DynamoDB Local itself listens on 127.0.0.1 only and is reached through the endpoint.
 * The data folder is made private (0700, files 0600) at start.
 *
 * Everything time-driven waits on one Clock and every fault comes from one Faults object,
 * both exposed here so a test drives the same stack a user runs with `batchron local`.
 */
import { DEFAULT_PORT, DEFAULT_REGION, LOCAL_ACCOUNT, type LocalService } from './contracts.ts';
import { Clock } from './clock.ts';
import { Faults } from './faults.ts';
import { startEndpoint, type Endpoint } from './endpoint.ts';
import { LocalLambda } from './lambda.ts';
import { eventTime, LocalEventBus } from './eventbus.ts';
import { LocalDynamoDB } from './dynamodb.ts';
import { createControlHandler } from './control.ts';
import { LocalBatch } from './batch/index.ts';
import { LocalScheduler, type FireReport, type MissedFire } from './scheduler/index.ts';
import { LocalLogs, batchLogDirectory } from './logs.ts';
import { LocalSsm } from './ssm.ts';
import { LocalIam } from './iam/index.ts';
import { LocalSecretsManager } from './secretsmanager.ts';
import { localSecretResolver } from './secrets.ts';
import { assertLoopbackBind, loadOrCreateApiToken, securePrivateDir, type ServerLimits } from './guard.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { lockDataDir, type DataDirLock } from './lock.ts';

export interface LocalStackOptions {
  /** Default 4566; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; only a loopback address is accepted. */
  host?: string;
  /** Host names besides loopback ones that requests may be addressed to (`--allowed-hosts`). */
  allowedHosts?: readonly string[];
  /** Timeouts and connection cap of the endpoint (local/guard.ts has the defaults). */
  limits?: Partial<ServerLimits>;
  /** The control API's bearer token; default the one in `<dataDir>/api-token` (created if absent), or a random one without a dataDir. */
  token?: string;
  /** Where state, logs and DynamoDB data live (e.g. `.batchron/`); everything in memory when undefined. Locked for this stack while it runs. */
  dataDir?: string;
  /** How the data folder's lock names this stack to a second start that it refuses (e.g. `batchron start`). */
  command?: string;
  /** Working directory of job processes; default the current directory. */
  projectDir?: string;
  /** A clock to share (tests); a fresh wall clock by default. */
  clock?: Clock;
  /** Default `'spawn'`; `{ endpoint }` uses a running DynamoDB Local; `false` serves no DynamoDB. */
  dynamodb?: { endpoint: string; token?: string } | 'spawn' | false;
  /** Lambda async retry delays in clock ms (default [60_000, 120_000], as on AWS). */
  lambdaRetryDelaysMs?: number[];
  /** Extra environment for job processes, on top of the stack's own AWS_* variables. */
  jobEnv?: Record<string, string>;
  /** Clock ms between Batch's automatic status transitions. */
  transitionDelayMs?: number;
  /** Real ms between SIGTERM and SIGKILL when a job is stopped or killed. */
  killGraceMs?: number;
  region?: string;
  account?: string;
  /** Seed for the fault injector's random source. */
  seed?: number;
  /** Reports every Scheduler delivery attempt (live output). */
  onFire?: (fire: FireReport) => void;
  /** Where the stack's warnings go (Scheduler drops, endpoint 5xx); console.warn by default. */
  log?: (line: string) => void;
}

/** A running local stack and the handles to drive it. */
export interface LocalStack {
  /** The AWS endpoint, e.g. `http://127.0.0.1:4566`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly lambda: LocalLambda;
  readonly bus: LocalEventBus;
  readonly batch: LocalBatch;
  readonly scheduler: LocalScheduler;
  /** Undefined when the stack runs without DynamoDB. */
  readonly dynamodb: LocalDynamoDB | undefined;
  /** The deployment's principals and their policies (local/iam/); local deploy declares them. */
  readonly iam: LocalIam;
  /** DynamoDB Local's own URL (the stack's endpoint proxies to it); undefined without DynamoDB. */
  readonly dynamodbUrl: string | undefined;
  /** Schedule fires that fell due while the stack was stopped (reported, not run). */
  readonly missedFires: MissedFire[];
  readonly dataDir: string | undefined;
  /** The bearer token of the control API (`/_batchron/`). */
  readonly token: string;
  /** True when this start generated the token into `<dataDir>/api-token` (the banner prints it then). */
  readonly tokenCreated: boolean;
  /** The variables a shell, a job or an SDK needs to use this stack. */
  env(): Record<string, string>;
  /** Kills a running job as a lost host would; false when it is not running. */
  killJob(jobId: string, reason?: string): boolean;
  /** Resolves once the bus and Lambda have nothing queued or running (Lambda retries waiting on the Clock excepted). */
  idle(): Promise<void>;
  /**
   * Stops the scheduler, closes the bus (the events the stop causes are not delivered), then
   * jobs (SIGTERM, SIGKILL after `graceMs`, FAILED in Batch with a reason saying so), lets
   * deliveries under way finish, then Lambda, DynamoDB and the endpoint; state is flushed to disk.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

/** Starts every piece of the local stack; resolves once the endpoint answers. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const region = opts.region ?? DEFAULT_REGION;
  const account = opts.account ?? LOCAL_ACCOUNT;
  const host = opts.host ?? '127.0.0.1';
  assertLoopbackBind(host);
  const log = opts.log ?? ((line: string) => console.warn(line));
  // Before anything reads or writes the folder: a second stack on it would corrupt both.
  const lock = opts.dataDir ? lockDataDir(opts.dataDir, { command: opts.command ?? 'batchron' }) : undefined;
  if (lock?.tookOverFrom) log(`local stack: took over the lock of ${opts.dataDir} from pid ${lock.tookOverFrom.pid}, which no longer runs`);
  const ownClock = !opts.clock;
  const clock = opts.clock ?? new Clock();
  try {
    return await startOn(opts, { region, account, host, clock, ownClock, log, lock });
  } catch (error) {
    lock?.release();
    throw error;
  }
}

interface StartContext {
  region: string;
  account: string;
  host: string;
  clock: Clock;
  ownClock: boolean;
  log: (line: string) => void;
  lock: DataDirLock | undefined;
}

async function startOn(opts: LocalStackOptions, { region, account, host, clock, ownClock, log, lock }: StartContext): Promise<LocalStack> {
  const faults = new Faults(() => clock.now(), opts.seed ?? 1);
  // Before anything writes there: the folder holds the webhook, the token and every run.
  if (opts.dataDir) securePrivateDir(opts.dataDir);
  const stored = opts.token === undefined && opts.dataDir ? loadOrCreateApiToken(opts.dataDir) : undefined;
  const token = opts.token ?? stored?.token ?? randomBytes(32).toString('base64url');
  // Filled once the endpoint listens (its port may be picked by the OS); Batch reads it when it spawns a job.
  const jobEnv: Record<string, string> = { ...opts.jobEnv };

  const iam = new LocalIam({ region, account });
  // Parameter Store (the Slack webhook's SecureString, job secrets) and Secrets Manager, read exactly as on AWS.
  const ssm = new LocalSsm({ clock, faults, region, account, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
  const secretsManager = new LocalSecretsManager({ clock, faults, region, account, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
  // IAM authorizes a secret by its full ARN, whatever name or partial ARN the caller used.
  iam.setSecretArnResolver((name) => secretsManager.arnOf(name));
  const lambda = new LocalLambda({
    iam,
    clock,
    faults,
    region,
    account,
    ...(opts.lambdaRetryDelaysMs ? { retryDelaysMs: opts.lambdaRetryDelaysMs } : {}),
  });
  const bus = new LocalEventBus({ clock, faults, lambda, region, account });
  const batch = new LocalBatch({
    iam,
    clock,
    faults,
    events: bus,
    region,
    account,
    projectDir: opts.projectDir ?? process.cwd(),
    jobEnv,
    resolveSecrets: localSecretResolver(ssm, secretsManager),
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.transitionDelayMs !== undefined ? { transitionDelayMs: opts.transitionDelayMs } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
  });
  // IAM authorizes SubmitJob on the job definition's revision, as AWS does.
  iam.setJobDefinitionResolver((ref) => batch.jobDefinitionArn(ref));
  const scheduler = new LocalScheduler({
    iam,
    clock,
    faults,
    region,
    account,
    lambda,
    batch,
    log,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.onFire ? { onFire: opts.onFire } : {}),
  });
  const dynamodbMode = opts.dynamodb ?? 'spawn';
  const dynamodb =
    dynamodbMode === false
      ? undefined
      : new LocalDynamoDB({ faults, mode: dynamodbMode, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });

  const killJob = (jobId: string, reason?: string) => batch.killJob(jobId, reason);
  // Job output is served as CloudWatch Logs, so code that reads a job's log stream works unchanged.
  const logs = new LocalLogs(batchLogDirectory(batch.logDirectory));
  const services: LocalService[] = [batch, scheduler, lambda, bus, logs, ssm, secretsManager, ...(dynamodb ? [dynamodb] : [])];
  // The JVM takes seconds to start; the endpoint listens meanwhile. Both are awaited to
  // the end even when one fails, so a failure never leaves the other one running.
  const [dynamoResult, endpointResult] = await Promise.allSettled([
    dynamodb?.start(),
    startEndpoint({
      host,
      port: opts.port ?? DEFAULT_PORT,
      services,
      authorize: (req, rawUrl) => iam.authorizeRequest(req, rawUrl),
      ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
      control: createControlHandler({
        clock,
        faults,
        killJob,
        publishEvents: (events) =>
          events.map((e) => {
            const id = e.id ?? randomUUID();
            bus.publish({
              version: '0',
              id,
              'detail-type': e['detail-type'],
              source: e.source,
              account: e.account ?? account,
              time: e.time ? eventTime(new Date(e.time)) : eventTime(clock.now()),
              region: e.region ?? region,
              resources: e.resources ?? [],
              detail: e.detail,
            });
            return id;
          }),
        token,
        // DynamoDB Local's own port stays private: it is reached through this endpoint only.
        health: () => ({
          services: services.map((s) => s.signingName),
          functions: lambda.functions(),
          rules: bus.rules().map((r) => r.name),
          dynamodb: dynamodb !== undefined,
        }),
      }),
      onError: (error, req) => log(`local stack: ${req.service || 'endpoint'} ${req.method} ${req.path} failed: ${describe(error)}`),
    }),
  ]);
  if (dynamoResult.status === 'rejected' || endpointResult.status === 'rejected') {
    await dynamodb?.stop().catch(() => undefined);
    if (endpointResult.status === 'fulfilled') await endpointResult.value.close();
    if (ownClock) clock.dispose();
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (endpointResult as PromiseRejectedResult).reason;
  }
  const endpoint: Endpoint = endpointResult.value;

  const url = endpoint.url;
  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL: url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  Object.assign(jobEnv, env(), opts.jobEnv);

  let missedFires: MissedFire[];
  try {
    await batch.start();
    ({ missed: missedFires } = await scheduler.start());
  } catch (error) {
    await scheduler.stop().catch(() => undefined);
    await batch.stop(0).catch(() => undefined);
    await dynamodb?.stop().catch(() => undefined);
    await endpoint.close();
    if (ownClock) clock.dispose();
    throw error;
  }

  const idle = async (): Promise<void> => {
    // Lambda handlers publish and invoke in turn: settle until both are quiet at the same moment.
    for (;;) {
      await bus.idle();
      await lambda.idle();
      await new Promise((r) => setImmediate(r));
      if (bus.isIdle() && lambda.isIdle()) return;
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (stopOpts: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      // Every step runs even when an earlier one fails, so a failure never leaves a JVM or a port behind.
      const errors: unknown[] = [];
      const step = async (fn: () => unknown) => {
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      };
      await step(() => scheduler.stop());
      // What the stop does to jobs is not news for the functions: the jobs it ends are
      // recorded FAILED in Batch (kept on disk, with a reason saying the stack stopped), but
      // their events are not delivered, so no run fails and no Slack message goes out while
      // stopping. The next start's sweep reads them (DescribeJobs) and each task's retry
      // policy decides then, as for a job whose events were lost.
      bus.close();
      await step(() => batch.stop(stopOpts.graceMs ?? opts.killGraceMs));
      // Deliveries already under way finish while DynamoDB is still up; bounded, so a stuck handler cannot hold shutdown.
      await step(() => Promise.race([idle(), new Promise((r) => setTimeout(r, 10_000).unref())]));
      await step(() => bus.stop());
      await step(() => lambda.stop());
      await step(() => ssm.flush());
      await step(() => secretsManager.flush());
      await step(() => dynamodb?.stop());
      await step(() => endpoint.close());
      if (ownClock) clock.dispose();
      lock?.release();
      if (errors.length > 0) throw new AggregateError(errors, `the local stack stopped with ${errors.length} error(s): ${errors.map(describe).join('; ')}`);
    })();
    return stopping;
  };

  return {
    url,
    port: endpoint.port,
    region,
    account,
    clock,
    faults,
    lambda,
    bus,
    batch,
    scheduler,
    dynamodb,
    iam,
    dynamodbUrl: dynamodb?.url,
    missedFires,
    dataDir: opts.dataDir,
    token,
    tokenCreated: stored?.created ?? false,
    env,
    killJob,
    idle,
    stop,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
