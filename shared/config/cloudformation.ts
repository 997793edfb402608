/**
 * The CloudFormation resources `custom.batchron` stands for, merged by the osls plugin
 * (serverless/batchron-plugin.mjs) into the compiled template and read back by the local
 * deploy (local/deploy.ts), so AWS and the local stack get the same schedules:
 *
 * - one `AWS::Scheduler::ScheduleGroup` named after the deployment;
 * - one `AWS::Scheduler::Schedule` per schedule, targeting `fire` with the normalized
 *   definition in its Input (validate.ts#schedulerTargetInput);
 * - one `AWS::Events::Rule` per event trigger (`on:`), its pattern as declared, targeting
 *   `trigger` through an InputTransformer that wraps the event with the definition
 *   (validate.ts#triggerInputTemplate), and the `AWS::Lambda::Permission` that lets exactly
 *   that rule invoke `trigger`; a schedule with triggers and no expression gets no Scheduler
 *   schedule;
 * - the sweep schedule (`SWEEP_SCHEDULE_NAME`) targeting `sweep`;
 * - one `AWS::Batch::JobDefinition` per `jobDefinitions` entry, named
 *   `${deployment}-${key}`, for Fargate, logging to the deployment's job log group;
 * - when tasks use job definitions or queues the deployment does not declare, an IAM
 *   policy on the functions' role allowing SubmitJob on exactly those.
 *
 * The fixed resources (table, compute environment, queue, roles, log group) are written
 * out in serverless.yml, where a reader looks for them; these are generated because they
 * follow from the config.
 */
import { createHash } from 'node:crypto';
import type { BatchronConfig, EventTriggerSpec, JobDefinitionSpec, ScheduleSpec } from './schema.ts';
import { normalizeSchedule, resolveJobDefinition, schedulerTargetInput, triggerInputTemplate, type NormalizeContext } from './validate.ts';
import { dropUndefined } from '../objects.ts';

/** A CloudFormation value: a literal or an intrinsic function object. */
export type CfnValue = string | number | boolean | { [fn: string]: unknown };

/** One template resource. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** Where the generated resources plug into the rest of the template. */
export interface CloudFormationContext extends NormalizeContext {
  /** ARN of the `fire` function (e.g. `{ "Fn::GetAtt": ["FireLambdaFunction", "Arn"] }`). */
  fireFunctionArn: CfnValue;
  /** ARN of the `trigger` function (event triggers' rules and batch-window closes). */
  triggerFunctionArn?: CfnValue;
  /** ARN of the `sweep` function. */
  sweepFunctionArn: CfnValue;
  /** Role Scheduler assumes to invoke the targets. */
  schedulerRoleArn: CfnValue;
  /** Role Fargate uses to pull the image and write logs. */
  jobExecutionRoleArn: CfnValue;
  /** Role the job's own code runs with; absent = none. */
  jobRoleArn?: CfnValue;
  /** Name of the CloudWatch log group jobs log to. */
  jobLogGroupName: CfnValue;
  /** `ENABLED` when the compute environment's subnets are public (no NAT), the usual default-VPC case. */
  assignPublicIp: 'ENABLED' | 'DISABLED';
  /** Logical ID of the functions' IAM role (osls: `IamRoleLambdaExecution`). */
  functionRoleLogicalId: string;
}

/** Logical ID of the schedule group. */
export const SCHEDULE_GROUP_LOGICAL_ID = 'BatchronScheduleGroup';

/**
 * Name of the sweep schedule inside the deployment's group. It starts with `_`, which a
 * declared schedule name cannot (schema.ts NameSchema), so the two never collide and
 * listings of declared schedules can skip it.
 */
export const SWEEP_SCHEDULE_NAME = '_sweep';

/** Logical ID of the policy for job definitions and queues the deployment does not declare. */
export const EXTERNAL_BATCH_POLICY_LOGICAL_ID = 'BatchronExternalBatchPolicy';

/**
 * Scheduler's delivery retries of a fire. `fire` is idempotent (the run is keyed by schedule
 * and scheduled time), so a late or repeated delivery costs one no-op invoke, while giving up
 * loses a run: keep trying for the documented maximum of a day.
 */
export const FIRE_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } as const;

/** The generated resources, by logical ID. Expects a config that parseConfig accepted. */
export function buildResources(config: BatchronConfig, ctx: CloudFormationContext): Record<string, CfnResource> {
  const resources: Record<string, CfnResource> = {};
  resources[SCHEDULE_GROUP_LOGICAL_ID] = {
    Type: 'AWS::Scheduler::ScheduleGroup',
    Properties: { Name: ctx.deployment },
  };

  const usedIds = new Set<string>(Object.keys(resources));
  for (const [name, spec] of Object.entries(config.schedules)) {
    if (spec.expression !== undefined) resources[logicalId('BatchronSchedule', name, usedIds)] = scheduleResource(name, spec, config, ctx);
    for (const [i, trigger] of (spec.on ?? []).entries()) {
      const ruleId = logicalId('BatchronTrigger', `${name}-on${i}`, usedIds);
      const [rule, permission] = triggerResources(name, i, trigger, spec, config, ctx, ruleId);
      resources[ruleId] = rule;
      resources[logicalId('BatchronTriggerPermission', `${name}-on${i}`, usedIds)] = permission;
    }
  }
  resources.BatchronSweepSchedule = {
    Type: 'AWS::Scheduler::Schedule',
    Properties: {
      Name: SWEEP_SCHEDULE_NAME,
      GroupName: { Ref: SCHEDULE_GROUP_LOGICAL_ID },
      Description: 'Batchron: reconcile runs whose Batch events never came and alert on stuck ones',
      ScheduleExpression: config.sweep.expression,
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: ctx.sweepFunctionArn,
        RoleArn: ctx.schedulerRoleArn,
        Input: JSON.stringify({ source: 'batchron.sweep', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        // A missed sweep is made up by the next one; retrying an old one only adds load.
        RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 },
      },
    },
  };

  for (const [key, spec] of Object.entries(config.jobDefinitions)) {
    resources[logicalId('BatchronJobDefinition', key, usedIds)] = jobDefinitionResource(key, spec, ctx);
  }

  const external = externalBatchResources(config, ctx);
  if (external.length > 0) {
    resources[EXTERNAL_BATCH_POLICY_LOGICAL_ID] = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: `${ctx.deployment}-external-batch`,
        Roles: [{ Ref: ctx.functionRoleLogicalId }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['batch:SubmitJob'], Resource: external }],
        },
      },
    };
  }
  return resources;
}

/** The `AWS::Scheduler::Schedule` of one declared schedule. */
export function scheduleResource(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: CloudFormationContext): CfnResource {
  const definition = normalizeSchedule(name, spec, config, ctx);
  return {
    Type: 'AWS::Scheduler::Schedule',
    Properties: dropUndefined({
      Name: name,
      GroupName: { Ref: SCHEDULE_GROUP_LOGICAL_ID },
      Description: spec.description,
      ScheduleExpression: spec.expression,
      ScheduleExpressionTimezone: definition.timezone,
      StartDate: spec.startDate,
      EndDate: spec.endDate,
      State: spec.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow:
        spec.flexibleWindowMinutes === undefined ? { Mode: 'OFF' } : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: spec.flexibleWindowMinutes },
      Target: {
        Arn: ctx.fireFunctionArn,
        RoleArn: ctx.schedulerRoleArn,
        Input: schedulerTargetInput(definition),
        RetryPolicy: { ...FIRE_RETRY_POLICY },
      },
    }),
  };
}

/**
 * Name of the EventBridge rule of trigger `index` of a schedule: `<deployment>-<schedule>-on<index>`,
 * cut to EventBridge's 64 characters with a hash when longer.
 */
export function triggerRuleName(deployment: string, schedule: string, index: number): string {
  const name = `${deployment}-${schedule}-on${index}`;
  if (name.length <= 64) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 64 - 9 - `-on${index}`.length)}-${hash}-on${index}`;
}

/** The rule of one event trigger and the permission for that rule (only) to invoke `trigger`. */
export function triggerResources(
  name: string,
  index: number,
  trigger: EventTriggerSpec,
  spec: ScheduleSpec,
  config: BatchronConfig,
  ctx: CloudFormationContext,
  ruleLogicalId: string,
): [CfnResource, CfnResource] {
  if (ctx.triggerFunctionArn === undefined) throw new Error(`schedules.${name}.on: event triggers need the trigger function (functions.trigger in serverless.yml)`);
  const definition = normalizeSchedule(name, spec, config, ctx);
  return [
    {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: triggerRuleName(ctx.deployment, name, index),
        Description: `Batchron: start ${name} on these events`,
        EventPattern: trigger.event,
        State: spec.enabled ? 'ENABLED' : 'DISABLED',
        Targets: [
          {
            Id: 'trigger',
            Arn: ctx.triggerFunctionArn,
            InputTransformer: { InputPathsMap: {}, InputTemplate: triggerInputTemplate(definition, index, trigger) },
            // `trigger` is idempotent per key: keep retrying for EventBridge's maximum of a day.
            RetryPolicy: { ...FIRE_RETRY_POLICY },
          },
        ],
      },
    },
    {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: ctx.triggerFunctionArn,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleLogicalId, 'Arn'] },
      },
    },
  ];
}

/** The `AWS::Batch::JobDefinition` of one `jobDefinitions` entry (Fargate). */
export function jobDefinitionResource(key: string, spec: JobDefinitionSpec, ctx: CloudFormationContext): CfnResource {
  const environment = Object.entries(spec.environment ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, Value]) => ({ Name, Value }));
  return {
    Type: 'AWS::Batch::JobDefinition',
    Properties: dropUndefined({
      JobDefinitionName: ctx.jobDefinitionName(key),
      Type: 'container',
      PlatformCapabilities: ['FARGATE'],
      PropagateTags: true,
      Parameters: spec.parameters,
      // Batch itself makes one attempt: retries are the engine's, with backoff and Slack.
      RetryStrategy: { Attempts: 1 },
      Timeout: spec.timeoutSeconds === undefined ? undefined : { AttemptDurationSeconds: spec.timeoutSeconds },
      ContainerProperties: dropUndefined({
        Image: spec.image,
        Command: spec.command,
        Environment: environment.length > 0 ? environment : undefined,
        ResourceRequirements: [
          { Type: 'VCPU', Value: String(spec.vcpus) },
          { Type: 'MEMORY', Value: String(spec.memory) },
        ],
        ExecutionRoleArn: ctx.jobExecutionRoleArn,
        JobRoleArn: ctx.jobRoleArn,
        FargatePlatformConfiguration: { PlatformVersion: 'LATEST' },
        NetworkConfiguration: { AssignPublicIp: ctx.assignPublicIp },
        LogConfiguration: {
          LogDriver: 'awslogs',
          Options: {
            'awslogs-group': ctx.jobLogGroupName,
            'awslogs-region': { Ref: 'AWS::Region' },
            'awslogs-stream-prefix': key,
          },
        },
      }),
    }),
  };
}

/** ARNs (as CFN values) of job definitions and queues tasks use that the deployment does not declare. */
function externalBatchResources(config: BatchronConfig, ctx: CloudFormationContext): CfnValue[] {
  const out = new Map<string, CfnValue>();
  const defaultQueues = new Set([ctx.defaultQueue, config.defaults?.queue].filter((q): q is string => q !== undefined));
  for (const spec of Object.values(config.schedules)) {
    const tasks = [...(spec.job ? [spec.job] : []), ...Object.values(spec.tasks ?? {}), ...Object.values(spec.onFailure ?? {})];
    for (const task of tasks) {
      const ref = resolveJobDefinition(task.definition, config, ctx);
      if ('problem' in ref || ref.kind === 'declared') {
        // declared ones are covered by serverless.yml's `job-definition/${deployment}-*`
      } else if (ref.kind === 'arn') {
        out.set(ref.arn, `${ref.arn}:*`);
      } else {
        out.set(ref.name, { 'Fn::Sub': `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/${ref.name}:*` });
      }
      const queue = task.queue;
      if (queue !== undefined && !defaultQueues.has(queue)) {
        out.set(
          `queue:${queue}`,
          queue.startsWith('arn:') ? queue : { 'Fn::Sub': `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-queue/${queue}` },
        );
      }
    }
  }
  return [...out.values()];
}

/**
 * A readable logical ID (`BatchronScheduleNightlyEtl`); names that differ only in
 * punctuation (`a-b`, `a_b`) would collide once made alphanumeric, so those get a hash.
 */
function logicalId(prefix: string, name: string, used: Set<string>): string {
  const pascal = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
  let id = `${prefix}${pascal}`;
  if (used.has(id)) id = `${id}${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  used.add(id);
  return id;
}

/**
 * The logical ID osls gives a function's `AWS::Lambda::Function` (`job-events` ->
 * `JobDasheventsLambdaFunction`), mirrored so the local deploy resolves the same references.
 */
export function lambdaLogicalId(functionName: string): string {
  const normalized = functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

/**
 * The context the generated resources use inside this project's template: the functions
 * and the roles / log group serverless.yml declares, by logical ID. The plugin and the
 * local deploy both build it here so they reference the same things.
 */
export function templateContext(options: {
  deployment: string;
  defaultQueue?: string;
  assignPublicIp?: string;
  functionRoleLogicalId?: string;
}): CloudFormationContext {
  const { deployment } = options;
  return {
    deployment,
    defaultQueue: options.defaultQueue ?? deployment,
    jobDefinitionName: (key) => `${deployment}-${key}`,
    fireFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('fire'), 'Arn'] },
    sweepFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('sweep'), 'Arn'] },
    triggerFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('trigger'), 'Arn'] },
    schedulerRoleArn: { 'Fn::GetAtt': ['BatchronSchedulerRole', 'Arn'] },
    jobExecutionRoleArn: { 'Fn::GetAtt': ['BatchronJobExecutionRole', 'Arn'] },
    jobLogGroupName: { Ref: 'BatchronJobLogGroup' },
    assignPublicIp: options.assignPublicIp === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    functionRoleLogicalId: options.functionRoleLogicalId ?? 'IamRoleLambdaExecution',
  };
}
