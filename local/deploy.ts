/**
 * "Deploys" serverless.yml onto the local stack: what CloudFormation would create on AWS,
 * created through the real SDK clients against the stack's endpoint, and every function
 * registered with the local Lambda runtime from its TypeScript handler.
 *
 *   serverless.yml ──osls print──▶ resolved service ──parseConfig──▶ custom.batchron
 *        │                               │
 *        │   resources + buildResources (the plugin's schedules, group, job definitions)
 *        ▼                               ▼
 *   functions ──import()──▶ LocalLambda   DynamoDB table, Batch CE/queue/job definitions,
 *   eventBridge events ──▶ LocalEventBus  Scheduler group/schedules (SDK → stack.url)
 *
 * The service is resolved by osls itself (`osls print`, ~3-4 s measured on a laptop-class
 * machine) rather than by a second variable resolver here: `${self:}`, `${sls:}`, `${opt:}`,
 * `${env:}`, `${param:}` and `${file()}` then mean exactly what they mean on deploy.
 * CloudFormation intrinsics left in it (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, ...) are
 * evaluated against local names and ARNs.
 *
 * Idempotent: run again against a stack that has these things (a restart), it updates
 * them instead of failing. A declared schedule that already exists keeps its current state
 * (a schedule paused through the API stays paused across restarts, as CloudFormation leaves
 * an unchanged State alone) unless serverless.yml disables it. A Batchron schedule that
 * serverless.yml no longer declares is deleted, as a CloudFormation update deletes a resource
 * removed from the template; schedules created through the API (`"origin": "api"` in their
 * input) and the engine's one-time retry schedules are not the template's and stay. Runs
 * of a removed schedule stay in the history.
 */
import { setClock } from '#shared/time';
import { YamlSyntaxError } from '#shared/errors';
import { STACK_STOPPED_GLOB } from '#local/batch/types';
import { LineCounter, parseDocument } from 'yaml';
import { setCredentialSource } from '#shared/clients/credentials';
import { OSLS_FUNCTION_ROLE, deployedRoles, oslsFunctionRole } from './iam/template.ts';
import { applyLocalSeed, loadLocalSeed, type SeedReport } from './seed.ts';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobDefinitionsCommand,
  RegisterJobDefinitionCommand,
  UpdateComputeEnvironmentCommand,
  UpdateJobQueueCommand,
  type RegisterJobDefinitionCommandInput,
} from '@aws-sdk/client-batch';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { ENV, type ScheduleDefinition } from '#shared/config/definition';
import type { BatchronConfig } from '#shared/config/schema';
import { deploymentContext, deploymentOf, normalizeConfig, parseConfig } from '#shared/config/validate';
import { buildResources, lambdaLogicalId, templateContext, type CfnResource } from '#shared/config/cloudformation';
import { DASHBOARD_ENV } from '#shared/api/deps';
import type { LocalStack } from './stack.ts';
import type { LocalHandler } from './lambda.ts';
import { dropUndefined } from '#shared/objects';

const run = promisify(execFile);

// Resource properties below are JSON read back from the template (`Record<string, any>`):
// their shapes are CloudFormation's, checked by AWS on deploy and by the local services here.

/** serverless.yml as `osls print --format json` gives it (the parts the local deploy reads). */
export interface ResolvedService {
  service: string;
  provider: {
    stage?: string;
    region?: string;
    timeout?: number;
    memorySize?: number;
    environment?: Record<string, unknown>;
    /** osls's functions role: its statements, or an existing role (logical id or ARN). */
    iam?: { role?: string | { statements?: unknown[] } };
  };
  custom?: Record<string, unknown> & { batchron?: unknown; deployment?: string; jobQueue?: string };
  functions?: Record<string, ResolvedFunction>;
  resources?: { Resources?: Record<string, CfnResource>; Conditions?: Record<string, unknown> };
}

export interface ResolvedFunction {
  handler: string;
  name?: string;
  timeout?: number;
  memorySize?: number;
  reservedConcurrency?: number;
  /** The function's own role (a logical id, an ARN, or an intrinsic); osls's shared role when absent. */
  role?: unknown;
  environment?: Record<string, unknown>;
  events?: Record<string, unknown>[];
}

export interface DeployLocalOptions {
  projectDir: string;
  /** Default `dev`, as `osls` defaults it. */
  stage?: string;
  /** Extra environment for resolving serverless.yml (`${env:}`) and for the functions. */
  env?: Record<string, string>;
  /** An already resolved service (skips `osls print`). */
  service?: ResolvedService;
}

/** An HTTP API route declared by a function's `httpApi` event (served by the local HTTP API). */
export interface LocalRoute {
  method: string;
  path: string;
  /** Registered function name, as local/http-api.ts's HttpRoute takes it. */
  functionName: string;
  /** The function's key in serverless.yml. */
  function: string;
  functionArn: string;
  authorizer?: unknown;
}

/** What deployLocal created or updated, for `npm start` to print and tests to check. */
export interface LocalDeployment {
  service: string;
  stage: string;
  deployment: string;
  table: string;
  computeEnvironment: { name: string; arn: string; maxvCpus: number };
  jobQueue: { name: string; arn: string };
  jobDefinitions: { name: string; arn: string; revision: number; registered: boolean }[];
  scheduleGroup: string;
  schedules: { name: string; arn: string; expression: string; timezone: string; state: string; created: boolean }[];
  /** Declared schedules of an earlier deploy that serverless.yml no longer declares: deleted. */
  removedSchedules: string[];
  rules: { name: string; arn: string; function: string }[];
  functions: { key: string; name: string; arn: string; file: string }[];
  routes: LocalRoute[];
  /** Environment the functions run with (also set on process.env). */
  environment: Record<string, string>;
  config: BatchronConfig;
  definitions: Record<string, ScheduleDefinition>;
  /** Seconds `osls print` took (0 when a resolved service was passed in). */
  resolveSeconds: number;
  /** Parameters and secrets of local-seed.yml: created by this deploy, or kept as they were. */
  seeded?: SeedReport;
}

/**
 * Throws YamlSyntaxError (file, line, column) when `file` is not valid YAML, before osls
 * (whose own message does not say where) reads it. CloudFormation's short tags (`!Ref`,
 * `!GetAtt`, ...) are unknown to a plain YAML parser but valid: only errors count, not warnings.
 */
export function checkYamlSyntax(file: string, text: string = readFileSync(file, 'utf8')): void {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  const first = doc.errors[0];
  if (!first) return;
  const pos = lineCounter.linePos(first.pos[0]);
  const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
  const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  throw new YamlSyntaxError(basename(file), pos.line, pos.col, reason, `  ${lineText}\n  ${' '.repeat(Math.max(0, pos.col - 1))}^`);
}

/**
 * The template's resources as the local deploy creates them: serverless.yml's `resources`,
 * the plugin's (buildResources), and the functions' shared role osls generates at package
 * time for functions without a `role` (local/iam/template.ts), which `osls print` lacks.
 */
export function templateResources(
  service: ResolvedService,
  o: { stage: string; region: string },
): { config: BatchronConfig; definitions: Record<string, ScheduleDefinition>; resources: Record<string, CfnResource> } {
  const deployment = service.custom?.deployment ?? `${service.service}-${o.stage}`;
  const defaultQueue = service.custom?.jobQueue ?? deployment;
  const config = parseConfig(service.custom?.batchron, deploymentContext(deployment, defaultQueue));
  const definitions = normalizeConfig(config, deploymentContext(deployment, defaultQueue));
  const network = (service.custom?.network ?? {}) as { assignPublicIp?: string; subnets?: string; securityGroupIds?: string };
  const jobLogGroup = typeof service.custom?.jobLogGroup === 'string' ? service.custom.jobLogGroup : undefined;
  const resources: Record<string, CfnResource> = {
    ...(service.resources?.Resources ?? {}),
    ...buildResources(
      config,
      templateContext({
        deployment,
        defaultQueue,
        ...(network.assignPublicIp ? { assignPublicIp: network.assignPublicIp } : {}),
        ...(network.subnets ? { subnets: network.subnets } : {}),
        ...(network.securityGroupIds ? { securityGroupIds: network.securityGroupIds } : {}),
        ...(jobLogGroup ? { jobLogGroup } : {}),
      }),
    ),
  };
  const sharedRole = service.provider.iam?.role;
  const functions = Object.values(service.functions ?? {});
  if (!resources[OSLS_FUNCTION_ROLE] && typeof sharedRole !== 'string' && functions.some((fn) => fn.role === undefined)) {
    resources[OSLS_FUNCTION_ROLE] = oslsFunctionRole({ service: service.service, stage: o.stage, region: o.region, statements: sharedRole?.statements ?? [] });
  }
  return { config, definitions, resources };
}

/** Resolves serverless.yml with osls itself (`osls print --format json`). */
export async function resolveService(projectDir: string, options: { stage?: string; env?: Record<string, string> } = {}): Promise<ResolvedService> {
  const yml = join(projectDir, 'serverless.yml');
  if (existsSync(yml)) checkYamlSyntax(yml);
  const require = createRequire(join(projectDir, 'package.json'));
  const bin = join(dirname(require.resolve('osls/package.json')), 'bin', 'serverless.js');
  const args = [bin, 'print', '--format', 'json', ...(options.stage ? ['--stage', options.stage] : [])];
  try {
    const { stdout } = await run(process.execPath, args, {
      cwd: projectDir,
      env: { ...process.env, ...options.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout.slice(stdout.indexOf('{'))) as ResolvedService;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`osls print failed in ${projectDir}${stderr ? `:\n${stderr}` : ''}`, { cause: error });
  }
}

/**
 * Creates on the local stack what CloudFormation would create from serverless.yml, and
 * registers every function with its events. Throws ConfigError for an invalid
 * custom.batchron (the same message `osls package` gives).
 */
export async function deployLocal(stack: LocalStack, opts: DeployLocalOptions): Promise<LocalDeployment> {
  const started = Date.now();
  const service = opts.service ?? (await resolveService(opts.projectDir, opts));
  const resolveSeconds = opts.service ? 0 : (Date.now() - started) / 1000;
  const stage = service.provider.stage ?? opts.stage ?? 'dev';
  const { deployment, defaultQueue } = deploymentOf(service.service, stage, service.custom);

  const { config, definitions, resources } = templateResources(service, { stage, region: stack.region });

  const functions = Object.entries(service.functions ?? {}).map(([key, fn]) => ({
    key,
    fn,
    name: fn.name ?? `${service.service}-${stage}-${key}`,
  }));
  const cfn = new Intrinsics(
    stack,
    resources,
    `${service.service}-${stage}`,
    new Map(functions.map((f) => [lambdaLogicalId(f.key), stack.lambda.arnOf(f.name)])),
    service.resources?.Conditions ?? {},
  );

  // IAM: every role of the template, each function's handler running as its role's session (local/iam/).
  const sharedRole = service.provider.iam?.role;
  for (const role of deployedRoles(resources, (v) => cfn.evaluate(v), (id) => cfn.arnOf(id))) {
    stack.iam.putRole(role.arn, role.policies.map((p) => p.document));
  }
  const roleArnOf = (role: unknown): string => {
    if (typeof role === 'string') return role.startsWith('arn:') ? role : cfn.arnOf(role);
    return String(cfn.evaluate(role));
  };
  const functionRoleArn = (fn: ResolvedFunction): string => roleArnOf(fn.role ?? (typeof sharedRole === 'string' ? sharedRole : OSLS_FUNCTION_ROLE));
  setCredentialSource(() => stack.iam.currentCredentials());

  // The functions' environment: what serverless.yml sets, resolved locally, plus the stack's
  // endpoint and credentials. Slack: SLACK_WEBHOOK_URL when set; else the SSM parameter, as
  // on AWS, when it exists in the local Parameter Store (`aws ssm put-parameter` against the
  // stack); else messages are printed.
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.provider.environment ?? {})) environment[k] = String(cfn.evaluate(v));
  for (const { fn } of functions) for (const [k, v] of Object.entries(fn.environment ?? {})) environment[k] = String(cfn.evaluate(v));
  const slackParameter = environment[ENV.slackWebhookParameter];
  delete environment[ENV.slackWebhookParameter];
  delete environment.NODE_OPTIONS; // source maps are on already; the functions share this process
  // The local gateway signs browsers in itself (token + cookie); the stack's OIDC settings name a
  // Cognito domain that exists only on AWS.
  for (const name of [DASHBOARD_ENV.authorizeUrl, DASHBOARD_ENV.tokenUrl, DASHBOARD_ENV.clientId]) delete environment[name];
  Object.assign(environment, stack.env(), opts.env ?? {});
  // Jobs the stack's own stop ended are not failures anyone is paged for (docs/cli.md).
  environment[ENV.quietFailureReasons] ??= JSON.stringify([STACK_STOPPED_GLOB]);
  const slack = opts.env?.[ENV.slackWebhookUrl] ?? process.env[ENV.slackWebhookUrl];
  if (slack) environment[ENV.slackWebhookUrl] = slack;
  Object.assign(process.env, environment);
  // The functions run in this process: their decisions (leases, backoffs, stuck limits) must
  // read the stack's Clock, so a fast-forwarded test or a paused clock stays consistent.
  setClock(() => stack.clock.now());

  const clientConfig = {
    endpoint: stack.url,
    region: stack.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  // Values for the jobs' secrets from local-seed.yml, created when missing (local/seed.ts).
  const seed = loadLocalSeed(opts.projectDir, stage);
  const seeded = seed ? await applyLocalSeed(seed, clientConfig) : undefined;
  if (!environment[ENV.slackWebhookUrl] && slackParameter && (await parameterExists(new SSMClient(clientConfig), slackParameter))) {
    environment[ENV.slackWebhookParameter] = slackParameter;
    process.env[ENV.slackWebhookParameter] = slackParameter;
  }
  const dynamodb = new DynamoDBClient(clientConfig);
  const batch = new BatchClient(clientConfig);
  const scheduler = new SchedulerClient(clientConfig);
  try {
    const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

    // DynamoDB
    let table = '';
    for (const [, resource] of byType('AWS::DynamoDB::Table')) {
      const props = cfn.evaluate(resource.Properties) as Record<string, unknown>;
      table = String(props.TableName);
      await createTable(dynamodb, props);
    }

    // Batch: compute environment, queue, job definitions
    let computeEnvironment = { name: '', arn: '', maxvCpus: 0 };
    for (const [id, resource] of byType('AWS::Batch::ComputeEnvironment')) {
      const props = cfn.evaluate(resource.Properties) as Record<string, any>;
      const name = String(props.ComputeEnvironmentName ?? id);
      const cr = props.ComputeResources ?? {};
      const maxvCpus = Number(cr.MaxvCpus ?? 16);
      const arn = await createOrUpdate(
        async () =>
          (
            await batch.send(
              new CreateComputeEnvironmentCommand({
                computeEnvironmentName: name,
                type: props.Type ?? 'MANAGED',
                state: props.State ?? 'ENABLED',
                computeResources: {
                  type: cr.Type ?? 'FARGATE',
                  maxvCpus,
                  subnets: cr.Subnets ?? [],
                  securityGroupIds: cr.SecurityGroupIds ?? [],
                  // EC2 and Spot environments carry what Batch requires of them (Fargate refuses these).
                  ...(cr.MinvCpus !== undefined ? { minvCpus: Number(cr.MinvCpus) } : {}),
                  ...(cr.InstanceRole !== undefined ? { instanceRole: String(cr.InstanceRole) } : {}),
                  ...(cr.InstanceTypes !== undefined ? { instanceTypes: cr.InstanceTypes as string[] } : {}),
                  ...(cr.AllocationStrategy !== undefined ? { allocationStrategy: cr.AllocationStrategy } : {}),
                },
              }),
            )
          ).computeEnvironmentArn,
        async () =>
          (await batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: name, state: props.State ?? 'ENABLED', computeResources: { maxvCpus } })))
            .computeEnvironmentArn,
      );
      // The first is serverless.yml's (Fargate); the platforms' generated ones follow it.
      if (!computeEnvironment.name) computeEnvironment = { name, arn: arn ?? cfn.arnOf(id), maxvCpus };
    }

    let jobQueue = { name: '', arn: '' };
    for (const [id, resource] of byType('AWS::Batch::JobQueue')) {
      const props = cfn.evaluate(resource.Properties) as Record<string, any>;
      const name = String(props.JobQueueName ?? id);
      const order = ((props.ComputeEnvironmentOrder ?? []) as { Order: number; ComputeEnvironment: string }[]).map((o) => ({
        order: Number(o.Order),
        computeEnvironment: o.ComputeEnvironment,
      }));
      const arn = await createOrUpdate(
        async () =>
          (
            await batch.send(
              new CreateJobQueueCommand({ jobQueueName: name, priority: Number(props.Priority ?? 1), state: props.State ?? 'ENABLED', computeEnvironmentOrder: order }),
            )
          ).jobQueueArn,
        async () =>
          (await batch.send(new UpdateJobQueueCommand({ jobQueue: name, priority: Number(props.Priority ?? 1), state: props.State ?? 'ENABLED', computeEnvironmentOrder: order })))
            .jobQueueArn,
      );
      if (!jobQueue.name) jobQueue = { name, arn: arn ?? cfn.arnOf(id) };
    }

    const jobDefinitions: LocalDeployment['jobDefinitions'] = [];
    for (const [, resource] of byType('AWS::Batch::JobDefinition')) {
      const input = jobDefinitionInput(cfn.evaluate(resource.Properties) as Record<string, unknown>);
      jobDefinitions.push(await registerIfChanged(batch, input));
    }

    // Lambda: every function from its TypeScript handler, then its EventBridge rules. Before
    // the schedules, as CloudFormation orders them: a schedule that fires at creation (rate)
    // must find its target.
    const registered: LocalDeployment['functions'] = [];
    const rules: LocalDeployment['rules'] = [];
    const routes: LocalRoute[] = [];
    for (const { key, fn, name } of functions) {
      const file = handlerFile(opts.projectDir, fn.handler);
      const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const handler = module[exportName];
      if (typeof handler !== 'function') throw new Error(`functions.${key}.handler: ${file} exports no function "${exportName}"`);
      const timeoutSeconds = fn.timeout ?? service.provider.timeout ?? 6;
      const memorySize = fn.memorySize ?? service.provider.memorySize;
      const roleArn = functionRoleArn(fn);
      const arn = stack.lambda.register(name, handler as LocalHandler, {
        ...(stack.iam.hasRole(roleArn) ? { roleArn, credentials: stack.iam.assumeRole(roleArn, name) } : {}),
        timeoutMs: timeoutSeconds * 1000,
        ...(memorySize !== undefined ? { memorySizeMb: memorySize } : {}),
        ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
      });
      registered.push({ key, name, arn, file });

      let ruleIndex = 0;
      for (const event of fn.events ?? []) {
        if ('eventBridge' in event) {
          ruleIndex += 1;
          const eb = event.eventBridge as { pattern?: unknown; name?: string; input?: unknown; enabled?: boolean };
          // osls's own rule name (`<function name>-rule-<n>`), so logs read the same locally.
          const ruleName = eb.name ?? `${name}-rule-${ruleIndex}`;
          const ruleArn = stack.bus.putRule({
            name: ruleName,
            pattern: cfn.evaluate(eb.pattern),
            targets: [{ id: `${ruleName}-target`, arn, ...(eb.input !== undefined ? { input: eb.input } : {}) }],
            enabled: eb.enabled ?? true,
          });
          rules.push({ name: ruleName, arn: ruleArn, function: key });
        } else if ('httpApi' in event) {
          routes.push({ ...parseRoute(event.httpApi), functionName: name, function: key, functionArn: arn });
        }
      }
    }

    // Event triggers' rules (AWS::Events::Rule from the plugin's resources), as CloudFormation
    // creates them: pattern, state and targets with their InputTransformer. Their
    // AWS::Lambda::Permission has no local counterpart: the local bus invokes any function.
    for (const [id, resource] of byType('AWS::Events::Rule')) {
      const props = cfn.evaluate(resource.Properties) as {
        Name?: string;
        EventPattern: unknown;
        State?: string;
        Description?: string;
        Targets?: { Id: string; Arn: string; Input?: string; InputPath?: string; InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string } }[];
      };
      const ruleName = props.Name ?? `${deployment}-${id}`;
      const ruleArn = stack.bus.putRule({
        name: ruleName,
        pattern: props.EventPattern,
        targets: (props.Targets ?? []).map((t) => ({
          id: t.Id,
          arn: t.Arn,
          ...(t.Input !== undefined ? { input: t.Input } : {}),
          ...(t.InputPath !== undefined ? { inputPath: t.InputPath } : {}),
          ...(t.InputTransformer ? { inputTransformer: { inputTemplate: t.InputTransformer.InputTemplate, inputPathsMap: t.InputTransformer.InputPathsMap ?? {} } } : {}),
        })),
        enabled: props.State !== 'DISABLED',
        ...(props.Description ? { description: props.Description } : {}),
      });
      const target = registered.find((f) => (props.Targets ?? []).some((t) => t.Arn === f.arn));
      rules.push({ name: ruleName, arn: ruleArn, function: target?.key ?? '' });
    }

    // Scheduler: group, then schedules (declared ones and the sweep)
    let scheduleGroup = deployment;
    for (const [, resource] of byType('AWS::Scheduler::ScheduleGroup')) {
      scheduleGroup = String((cfn.evaluate(resource.Properties) as { Name: string }).Name);
      try {
        await scheduler.send(new CreateScheduleGroupCommand({ Name: scheduleGroup }));
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
      }
    }
    const schedules: LocalDeployment['schedules'] = [];
    for (const [, resource] of byType('AWS::Scheduler::Schedule')) {
      schedules.push(await putSchedule(scheduler, cfn.evaluate(resource.Properties) as Record<string, any>));
    }
    const removedSchedules = await removeUndeclared(scheduler, scheduleGroup, new Set(schedules.map((s) => s.name)));

    return {
      service: service.service,
      stage,
      deployment,
      table,
      computeEnvironment,
      jobQueue,
      jobDefinitions,
      scheduleGroup,
      schedules,
      removedSchedules,
      rules,
      functions: registered,
      routes,
      environment,
      config,
      definitions,
      resolveSeconds,
      ...(seeded ? { seeded } : {}),
    };
  } finally {
    dynamodb.destroy();
    batch.destroy();
    scheduler.destroy();
  }
}

// ---------------------------------------------------------------------------------------

async function createTable(client: DynamoDBClient, props: Record<string, unknown>): Promise<void> {
  // DynamoDB's API takes the same PascalCase members as the CloudFormation resource.
  const input: CreateTableCommandInput = {
    TableName: props.TableName as string,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: (props.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PAY_PER_REQUEST',
    ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
  };
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    // A restart: the table (and its data) is already there.
    if (error instanceof ResourceInUseException) return;
    throw error;
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl?.Enabled) {
    await client.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: ttl }));
  }
}

/** Create; when Batch says it already exists, update instead. */
async function createOrUpdate(create: () => Promise<string | undefined>, update: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await create();
  } catch (error) {
    if ((error as { name?: string }).name === 'ClientException' && /already exists/i.test((error as Error).message)) return update();
    throw error;
  }
}

/** The RegisterJobDefinition request for an `AWS::Batch::JobDefinition` resource's properties. */
export function jobDefinitionInput(props: Record<string, unknown>): RegisterJobDefinitionCommandInput {
  const container = (props.ContainerProperties ?? {}) as Record<string, any>;
  const log = container.LogConfiguration as { LogDriver: string; Options?: Record<string, string> } | undefined;
  return dropUndefined({
    jobDefinitionName: String(props.JobDefinitionName),
    type: (props.Type as 'container') ?? 'container',
    platformCapabilities: props.PlatformCapabilities as ('FARGATE' | 'EC2')[] | undefined,
    propagateTags: props.PropagateTags as boolean | undefined,
    parameters: props.Parameters as Record<string, string> | undefined,
    retryStrategy: props.RetryStrategy ? { attempts: Number((props.RetryStrategy as { Attempts: number }).Attempts) } : undefined,
    timeout: props.Timeout ? { attemptDurationSeconds: Number((props.Timeout as { AttemptDurationSeconds: number }).AttemptDurationSeconds) } : undefined,
    containerProperties: dropUndefined({
      image: container.Image,
      command: container.Command,
      environment: (container.Environment as { Name: string; Value: string }[] | undefined)?.map((e) => ({ name: e.Name, value: e.Value })),
      secrets: (container.Secrets as { Name: string; ValueFrom: string }[] | undefined)?.map((e) => ({ name: e.Name, valueFrom: e.ValueFrom })),
      runtimePlatform: container.RuntimePlatform
        ? { operatingSystemFamily: container.RuntimePlatform.OperatingSystemFamily, cpuArchitecture: container.RuntimePlatform.CpuArchitecture }
        : undefined,
      ephemeralStorage: container.EphemeralStorage ? { sizeInGiB: Number(container.EphemeralStorage.SizeInGiB) } : undefined,
      resourceRequirements: (container.ResourceRequirements as { Type: 'VCPU' | 'MEMORY' | 'GPU'; Value: string }[] | undefined)?.map((r) => ({ type: r.Type, value: String(r.Value) })),
      executionRoleArn: container.ExecutionRoleArn,
      jobRoleArn: container.JobRoleArn,
      fargatePlatformConfiguration: container.FargatePlatformConfiguration ? { platformVersion: container.FargatePlatformConfiguration.PlatformVersion } : undefined,
      networkConfiguration: container.NetworkConfiguration ? { assignPublicIp: container.NetworkConfiguration.AssignPublicIp } : undefined,
      logConfiguration: log ? { logDriver: log.LogDriver as 'awslogs', options: log.Options } : undefined,
    }),
  });
}

/**
 * Registers a job definition unless its latest ACTIVE revision already says the same,
 * so restarts do not pile up identical revisions.
 */
async function registerIfChanged(batch: BatchClient, input: RegisterJobDefinitionCommandInput): Promise<LocalDeployment['jobDefinitions'][number]> {
  const existing = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: input.jobDefinitionName, status: 'ACTIVE' }));
  const latest = (existing.jobDefinitions ?? []).sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
  if (latest && isSubset(input, latest)) {
    return { name: input.jobDefinitionName!, arn: latest.jobDefinitionArn!, revision: latest.revision!, registered: false };
  }
  const out = await batch.send(new RegisterJobDefinitionCommand(input));
  return { name: input.jobDefinitionName!, arn: out.jobDefinitionArn!, revision: out.revision!, registered: true };
}

/** Whether every field of `wanted` has the same value in `actual` (which may hold more). */
function isSubset(wanted: unknown, actual: unknown): boolean {
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && wanted.length === actual.length && wanted.every((w, i) => isSubset(w, actual[i]));
  }
  if (wanted && typeof wanted === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(wanted).every(([k, v]) => v === undefined || isSubset(v, (actual as Record<string, unknown>)[k]));
  }
  return wanted === actual;
}

async function putSchedule(scheduler: SchedulerClient, props: Record<string, any>): Promise<LocalDeployment['schedules'][number]> {
  const input: CreateScheduleCommandInput = dropUndefined({
    Name: props.Name,
    GroupName: props.GroupName,
    Description: props.Description,
    ScheduleExpression: props.ScheduleExpression,
    ScheduleExpressionTimezone: props.ScheduleExpressionTimezone,
    StartDate: props.StartDate ? new Date(props.StartDate) : undefined,
    EndDate: props.EndDate ? new Date(props.EndDate) : undefined,
    State: props.State ?? 'ENABLED',
    FlexibleTimeWindow: props.FlexibleTimeWindow,
    Target: props.Target,
  });
  let created = true;
  let arn: string | undefined;
  try {
    arn = (await scheduler.send(new CreateScheduleCommand(input))).ScheduleArn;
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
    created = false;
    const current = await scheduler.send(new GetScheduleCommand({ Name: input.Name, GroupName: input.GroupName }));
    // Keep a pause made through the API; serverless.yml can still disable.
    if (input.State === 'ENABLED' && current.State === 'DISABLED') input.State = 'DISABLED';
    arn = (await scheduler.send(new UpdateScheduleCommand(input))).ScheduleArn;
  }
  return {
    name: input.Name!,
    arn: arn ?? '',
    expression: input.ScheduleExpression!,
    timezone: input.ScheduleExpressionTimezone ?? 'UTC',
    state: input.State ?? 'ENABLED',
    created,
  };
}

/**
 * Deletes the group's declared Batchron schedules that are not in `declared` (what a
 * CloudFormation update does to a resource removed from the template). A declared schedule
 * is one whose target input carries a schedule definition (`schedule` + `definition`)
 * without `"origin": "api"`; dynamic schedules and one-time retry/deferral schedules (whose
 * input is a run, task and attempt) are left alone.
 */
async function removeUndeclared(scheduler: SchedulerClient, group: string, declared: Set<string>): Promise<string[]> {
  const removed: string[] = [];
  let token: string | undefined;
  const candidates: string[] = [];
  do {
    const page = await scheduler.send(new ListSchedulesCommand({ GroupName: group, NextToken: token }));
    for (const s of page.Schedules ?? []) if (s.Name && !declared.has(s.Name)) candidates.push(s.Name);
    token = page.NextToken;
  } while (token);
  for (const name of candidates) {
    let input: unknown;
    try {
      const out = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
      input = JSON.parse(out.Target?.Input ?? 'null');
    } catch {
      continue; // deleted meanwhile, or an input that is not ours
    }
    if (!isDeclaredInput(input)) continue;
    try {
      await scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: group }));
      removed.push(name);
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
  }
  return removed.sort();
}

/** True for the target input of a schedule declared in serverless.yml (not created through the API). */
export function isDeclaredInput(input: unknown): boolean {
  if (!input || typeof input !== 'object') return false;
  const o = input as Record<string, unknown>;
  return typeof o.schedule === 'string' && typeof o.definition === 'object' && o.definition !== null && o.origin !== 'api';
}

/** `functions/fire.handler` -> `<projectDir>/functions/fire.ts` (or .mts/.js/.mjs). */
function handlerFile(projectDir: string, handler: string): string {
  const base = join(projectDir, handler.slice(0, handler.lastIndexOf('.')));
  for (const ext of ['.ts', '.mts', '.js', '.mjs']) {
    if (existsSync(base + ext)) return base + ext;
  }
  throw new Error(`handler ${handler}: no ${base}.ts (or .mts/.js/.mjs) in ${projectDir}`);
}

function parseRoute(httpApi: unknown): Omit<LocalRoute, 'function' | 'functionName' | 'functionArn'> {
  if (typeof httpApi === 'string') {
    if (httpApi === '*') return { method: '*', path: '*' };
    const [method = '*', path = '/'] = httpApi.split(/\s+/);
    return { method: method.toUpperCase(), path };
  }
  const h = (httpApi ?? {}) as { method?: string; path?: string; authorizer?: unknown };
  // A route declared without an authorizer is public on AWS; say so explicitly for the local gateway.
  return { method: (h.method ?? '*').toUpperCase(), path: h.path ?? '*', authorizer: h.authorizer ?? 'none' };
}


/**
 * Evaluates the CloudFormation intrinsics serverless.yml and the generated resources use,
 * with the local stack's region, account and names.
 */
class Intrinsics {
  constructor(
    private readonly stack: LocalStack,
    private readonly resources: Record<string, CfnResource>,
    private readonly stackName: string,
    private readonly functionArns: Map<string, string>,
    private readonly conditions: Record<string, unknown> = {},
  ) {}

  /** A template condition by name (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`). */
  condition(name: string): boolean {
    if (!(name in this.conditions)) throw new Error(`local deploy: condition ${name} is not declared under resources.Conditions`);
    return this.truth(this.conditions[name]);
  }

  private truth(value: unknown): boolean {
    const [fn, arg] = Object.entries((value ?? {}) as Record<string, unknown>)[0] ?? [];
    const list = (arg ?? []) as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return String(this.evaluate(list[0])) === String(this.evaluate(list[1]));
      case 'Fn::Not':
        return !this.truth(list[0]);
      case 'Fn::And':
        return list.every((c) => this.truth(c));
      case 'Fn::Or':
        return list.some((c) => this.truth(c));
      case 'Condition':
        return this.condition(String(arg));
      default:
        throw new Error(`local deploy: condition function ${String(fn)} is not supported`);
    }
  }

  evaluate(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.evaluate(v));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/);
          return this.getAtt(id!, attr ?? 'Arn');
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.evaluate(parts) as unknown[]).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.evaluate(text)).split(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.evaluate(list) as unknown[])[Number(index)];
        }
        case 'Fn::If': {
          const [name, then, otherwise] = arg as [string, unknown, unknown];
          return this.evaluate(this.condition(name) ? then : otherwise);
        }
        default:
          if (fn.startsWith('Fn::')) throw new Error(`local deploy: ${fn} is not supported`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.evaluate(v)]));
  }

  arnOf(id: string): string {
    return String(this.getAtt(id, 'Arn'));
  }

  private ref(name: string): unknown {
    const { region, account } = this.stack;
    const pseudo: Record<string, string> = {
      'AWS::Region': region,
      'AWS::AccountId': account,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${this.stackName}/local`,
    };
    if (name in pseudo) return pseudo[name];
    const r = this.resource(name);
    const p = r.Properties;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return this.evaluate(p.TableName ?? name);
      case 'AWS::Logs::LogGroup':
        return this.evaluate(p.LogGroupName ?? name);
      case 'AWS::IAM::Role':
        return this.evaluate(p.RoleName ?? `${this.stackName}-${name}`);
      case 'AWS::Scheduler::ScheduleGroup':
        return this.evaluate(p.Name ?? name);
      case 'AWS::Batch::ComputeEnvironment':
      case 'AWS::Batch::JobQueue':
      case 'AWS::Batch::JobDefinition':
        return this.arnOf(name);
      default:
        return name;
    }
  }

  private getAtt(id: string, attr: string): unknown {
    const fn = this.functionArns.get(id);
    if (fn) return fn;
    const { region, account } = this.stack;
    const r = this.resource(id);
    const p = r.Properties;
    if (attr !== 'Arn') throw new Error(`local deploy: Fn::GetAtt ${id}.${attr} is not supported`);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${account}:table/${String(this.ref(id))}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${String(this.ref(id))}:*`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${String(this.ref(id))}`;
      case 'AWS::Batch::ComputeEnvironment':
        return `arn:aws:batch:${region}:${account}:compute-environment/${String(this.evaluate(p.ComputeEnvironmentName ?? id))}`;
      case 'AWS::Batch::JobQueue':
        return `arn:aws:batch:${region}:${account}:job-queue/${String(this.evaluate(p.JobQueueName ?? id))}`;
      case 'AWS::Scheduler::ScheduleGroup':
        return `arn:aws:scheduler:${region}:${account}:schedule-group/${String(this.ref(id))}`;
      case 'AWS::ECR::Repository':
        return `arn:aws:ecr:${region}:${account}:repository/${String(this.evaluate(p.RepositoryName ?? id))}`;
      case 'AWS::IAM::InstanceProfile':
        return `arn:aws:iam::${account}:instance-profile/${this.stackName}-${id}`;
      default:
        throw new Error(`local deploy: Fn::GetAtt ${id}.Arn (${r.Type}) is not supported`);
    }
  }

  private sub(arg: unknown): string {
    const [template, vars] = Array.isArray(arg) ? [String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>] : [String(arg), {}];
    return template.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return String(this.evaluate(vars[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return String(this.getAtt(name.slice(0, dot), name.slice(dot + 1)));
      return String(this.ref(name));
    });
  }

  private resource(id: string): CfnResource {
    const r = this.resources[id];
    if (!r) throw new Error(`local deploy: serverless.yml references ${id}, which is not a resource`);
    return r;
  }
}

/** Whether an SSM parameter exists (the local Parameter Store answers ParameterNotFound otherwise). */
async function parameterExists(ssm: SSMClient, name: string): Promise<boolean> {
  try {
    await ssm.send(new GetParameterCommand({ Name: name }));
    return true;
  } catch (error) {
    if (error instanceof ParameterNotFound) return false;
    throw error;
  }
}
