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
 *   `${deployment}-${key}`, on its platform, logging to the deployment's job log group,
 *   with its secrets and job role;
 * - the compute environments and queues of the platforms other than Fargate that a job
 *   definition uses (Spot queues fall back to on-demand by compute environment order),
 *   and for EC2 an instance role and profile;
 * - one IAM role per function and the job roles and secret grants (./iam.ts).
 *
 * The fixed resources (table, Fargate compute environment and queue, execution and
 * Scheduler roles, log group, ECR repository) are written out in serverless.yml, where a
 * reader looks for them; these are generated because they follow from the config.
 */
import { createHash } from 'node:crypto';
import type { BatchronConfig, EventTriggerSpec, JobDefinitionSpec, Platform, ScheduleSpec } from './schema.ts';
import { isFargate, normalizeSchedule, platformQueueName, schedulerTargetInput, triggerInputTemplate, type NormalizeContext } from './validate.ts';
import { FUNCTIONS, functionRole, functionRoleLogicalId, jobRole, jobSecretStatements, pascal, secretValueFrom, type CfnValue } from './iam.ts';
import { dropUndefined } from '../objects.ts';

export type { CfnValue };

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
  /** Name of the job log group (`/aws/batch/<deployment>`), for the ARNs of its streams. */
  jobLogGroup: string;
  /** Name of the Slack webhook's SSM parameter, when one is configured. */
  slackWebhookParameter?: string;
  /** Subnets and security groups of the compute environments this file generates. */
  subnets: CfnValue;
  securityGroupIds: CfnValue;
}

/** Logical ID of the schedule group. */
export const SCHEDULE_GROUP_LOGICAL_ID = 'BatchronScheduleGroup';

/**
 * Name of the sweep schedule inside the deployment's group. It starts with `_`, which a
 * declared schedule name cannot (schema.ts NameSchema), so the two never collide and
 * listings of declared schedules can skip it.
 */
export const SWEEP_SCHEDULE_NAME = '_sweep';

/** Logical ID of the policy on the job execution role that lets it read the jobs' secrets. */
export const JOB_SECRETS_POLICY_LOGICAL_ID = 'BatchronJobSecretsPolicy';

/** Logical IDs of the fixed resources serverless.yml declares and the generated ones reference. */
export const FIXED = {
  table: 'BatchronTable',
  schedulerRole: 'BatchronSchedulerRole',
  jobExecutionRole: 'BatchronJobExecutionRole',
  computeEnvironment: 'BatchronComputeEnvironment',
  instanceRole: 'BatchronInstanceRole',
  instanceProfile: 'BatchronInstanceProfile',
} as const;

/** Logical IDs of a platform's generated compute environment and queue. */
export function platformLogicalIds(platform: Exclude<Platform, 'fargate'>): { computeEnvironment: string; jobQueue: string } {
  const p = pascal(platform);
  return { computeEnvironment: `BatchronComputeEnvironment${p}`, jobQueue: `BatchronJobQueue${p}` };
}

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
    resources[logicalId('BatchronJobDefinition', key, usedIds)] = jobDefinitionResource(key, spec, ctx, Object.keys(config.jobDefinitions));
  }

  Object.assign(resources, computeResources(config, ctx));

  const iamCtx = { ...ctx, schedulerRoleLogicalId: FIXED.schedulerRole, tableLogicalId: FIXED.table };
  for (const fn of FUNCTIONS) resources[functionRoleLogicalId(fn)] = functionRole(fn, config, iamCtx);
  for (const [key, spec] of Object.entries(config.jobDefinitions)) {
    if (spec.role !== undefined && typeof spec.role !== 'string') resources[jobRoleLogicalId(key, Object.keys(config.jobDefinitions))] = jobRole(key, spec.role.statements, ctx);
  }
  const secrets = jobSecretStatements(config.jobDefinitions);
  if (secrets.length > 0) {
    resources[JOB_SECRETS_POLICY_LOGICAL_ID] = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'job-secrets',
        Roles: [{ Ref: FIXED.jobExecutionRole }],
        PolicyDocument: { Version: '2012-10-17', Statement: secrets },
      },
    };
  }
  return resources;
}

/**
 * Logical ID of the role a job definition declares with `role.statements`
 * (`nightly-etl` -> `BatchronJobRoleNightlyEtl`); keys that differ only in punctuation
 * (`a-b`, `a_b`; `keys` are all of them) get a hash so their IDs differ.
 */
export function jobRoleLogicalId(key: string, keys: readonly string[] = [key]): string {
  const id = `BatchronJobRole${pascal(key)}`;
  const clash = keys.some((k) => k !== key && pascal(k) === pascal(key));
  return clash ? `${id}${createHash('sha256').update(key).digest('hex').slice(0, 6)}` : id;
}

/** The platforms the job definitions use, besides Fargate (whose resources serverless.yml declares). */
function platformsUsed(config: BatchronConfig): Set<Exclude<Platform, 'fargate'>> {
  const used = new Set<Exclude<Platform, 'fargate'>>();
  for (const def of Object.values(config.jobDefinitions)) if (def.platform !== 'fargate') used.add(def.platform);
  return used;
}

/**
 * Compute environments and queues of the platforms in use. Fargate Spot's queue tries the
 * Spot environment first and then the Fargate one serverless.yml declares; EC2 Spot's
 * tries Spot, then on-demand EC2 (Batch places a job on the first environment in order
 * with capacity). EC2 instances get the ECS instance role through an instance profile.
 */
function computeResources(config: BatchronConfig, ctx: CloudFormationContext): Record<string, CfnResource> {
  const used = platformsUsed(config);
  const out: Record<string, CfnResource> = {};
  const network = { Subnets: ctx.subnets, SecurityGroupIds: ctx.securityGroupIds };
  const queue = (platform: Exclude<Platform, 'fargate'>, order: CfnValue[]): CfnResource => ({
    Type: 'AWS::Batch::JobQueue',
    Properties: {
      JobQueueName: platformQueueName(ctx, platform),
      Priority: 1,
      State: 'ENABLED',
      ComputeEnvironmentOrder: order.map((ce, i) => ({ Order: i + 1, ComputeEnvironment: ce })),
    },
  });
  const ceName = (platform: Platform) => `${ctx.deployment}_${platform}`;
  if (used.has('fargate-spot')) {
    const ids = platformLogicalIds('fargate-spot');
    out[ids.computeEnvironment] = {
      Type: 'AWS::Batch::ComputeEnvironment',
      Properties: {
        ComputeEnvironmentName: ceName('fargate-spot'),
        Type: 'MANAGED',
        State: 'ENABLED',
        ComputeResources: { Type: 'FARGATE_SPOT', MaxvCpus: config.compute.fargateSpot.maxvCpus, ...network },
      },
    };
    out[ids.jobQueue] = queue('fargate-spot', [{ Ref: ids.computeEnvironment }, { Ref: FIXED.computeEnvironment }]);
  }
  if (used.has('ec2') || used.has('ec2-spot')) {
    out[FIXED.instanceRole] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Batchron ${ctx.deployment}: EC2 instances of the Batch compute environments (ECS agent)`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role' }],
      },
    };
    out[FIXED.instanceProfile] = { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [{ Ref: FIXED.instanceRole }] } };
    const ec2 = platformLogicalIds('ec2');
    out[ec2.computeEnvironment] = {
      Type: 'AWS::Batch::ComputeEnvironment',
      Properties: {
        ComputeEnvironmentName: ceName('ec2'),
        Type: 'MANAGED',
        State: 'ENABLED',
        ComputeResources: {
          Type: 'EC2',
          AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
          InstanceTypes: config.compute.ec2.instanceTypes,
          MinvCpus: config.compute.ec2.minvCpus,
          MaxvCpus: config.compute.ec2.maxvCpus,
          InstanceRole: { 'Fn::GetAtt': [FIXED.instanceProfile, 'Arn'] },
          ...network,
        },
      },
    };
    if (used.has('ec2')) out[ec2.jobQueue] = queue('ec2', [{ Ref: ec2.computeEnvironment }]);
    if (used.has('ec2-spot')) {
      const spot = platformLogicalIds('ec2-spot');
      const c = config.compute.ec2Spot;
      out[spot.computeEnvironment] = {
        Type: 'AWS::Batch::ComputeEnvironment',
        Properties: {
          ComputeEnvironmentName: ceName('ec2-spot'),
          Type: 'MANAGED',
          State: 'ENABLED',
          ComputeResources: {
            Type: 'SPOT',
            AllocationStrategy: c.allocationStrategy,
            InstanceTypes: c.instanceTypes,
            MinvCpus: c.minvCpus,
            MaxvCpus: c.maxvCpus,
            InstanceRole: { 'Fn::GetAtt': [FIXED.instanceProfile, 'Arn'] },
            ...network,
          },
        },
      };
      out[spot.jobQueue] = queue('ec2-spot', [{ Ref: spot.computeEnvironment }, { Ref: ec2.computeEnvironment }]);
    }
  }
  return out;
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

/** The `AWS::Batch::JobDefinition` of one `jobDefinitions` entry, on its platform. */
export function jobDefinitionResource(key: string, spec: JobDefinitionSpec, ctx: CloudFormationContext, keys: readonly string[] = [key]): CfnResource {
  const environment = Object.entries(spec.environment ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, Value]) => ({ Name, Value }));
  const secrets = Object.entries(spec.secrets ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, source]) => ({ Name, ValueFrom: secretValueFrom(source) }));
  const fargate = isFargate(spec.platform);
  const jobRoleArn =
    spec.role === undefined ? ctx.jobRoleArn : typeof spec.role === 'string' ? spec.role : { 'Fn::GetAtt': [jobRoleLogicalId(key, keys), 'Arn'] };
  return {
    Type: 'AWS::Batch::JobDefinition',
    Properties: dropUndefined({
      JobDefinitionName: ctx.jobDefinitionName(key),
      Type: 'container',
      PlatformCapabilities: [fargate ? 'FARGATE' : 'EC2'],
      PropagateTags: true,
      Parameters: spec.parameters,
      // Batch itself makes one attempt: retries are the engine's, with backoff and Slack.
      RetryStrategy: { Attempts: 1 },
      Timeout: spec.timeoutSeconds === undefined ? undefined : { AttemptDurationSeconds: spec.timeoutSeconds },
      ContainerProperties: dropUndefined({
        Image: spec.image,
        Command: spec.command,
        Environment: environment.length > 0 ? environment : undefined,
        Secrets: secrets.length > 0 ? secrets : undefined,
        ResourceRequirements: [
          { Type: 'VCPU', Value: String(spec.vcpus) },
          { Type: 'MEMORY', Value: String(spec.memory) },
          ...(spec.gpus !== undefined ? [{ Type: 'GPU', Value: String(spec.gpus) }] : []),
        ],
        ExecutionRoleArn: ctx.jobExecutionRoleArn,
        JobRoleArn: jobRoleArn,
        FargatePlatformConfiguration: fargate ? { PlatformVersion: 'LATEST' } : undefined,
        NetworkConfiguration: fargate ? { AssignPublicIp: ctx.assignPublicIp } : undefined,
        RuntimePlatform:
          fargate && spec.architecture !== undefined
            ? { OperatingSystemFamily: 'LINUX', CpuArchitecture: spec.architecture === 'arm64' ? 'ARM64' : 'X86_64' }
            : undefined,
        EphemeralStorage: fargate && spec.ephemeralStorageGiB !== undefined ? { SizeInGiB: spec.ephemeralStorageGiB } : undefined,
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
  jobLogGroup?: string;
  slackWebhookParameter?: string;
  /** Comma-separated ids, as serverless.yml's params hold them. */
  subnets?: string;
  securityGroupIds?: string;
}): CloudFormationContext {
  const { deployment } = options;
  return {
    deployment,
    defaultQueue: options.defaultQueue ?? deployment,
    jobDefinitionName: (key) => `${deployment}-${key}`,
    fireFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('fire'), 'Arn'] },
    sweepFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('sweep'), 'Arn'] },
    triggerFunctionArn: { 'Fn::GetAtt': [lambdaLogicalId('trigger'), 'Arn'] },
    schedulerRoleArn: { 'Fn::GetAtt': [FIXED.schedulerRole, 'Arn'] },
    jobExecutionRoleArn: { 'Fn::GetAtt': [FIXED.jobExecutionRole, 'Arn'] },
    jobLogGroupName: { Ref: 'BatchronJobLogGroup' },
    assignPublicIp: options.assignPublicIp === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    jobLogGroup: options.jobLogGroup ?? `/aws/batch/${deployment}`,
    ...(options.slackWebhookParameter ? { slackWebhookParameter: options.slackWebhookParameter } : {}),
    subnets: { 'Fn::Split': [',', options.subnets ?? 'subnet-placeholder'] },
    securityGroupIds: { 'Fn::Split': [',', options.securityGroupIds ?? 'sg-placeholder'] },
  };
}
