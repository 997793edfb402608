/**
 * The deployment's IAM, generated from the config so every grant names exactly what the
 * schedules and job definitions use (see docs/deploy.md for the whole picture):
 *
 * - one role per function (`FUNCTION_GRANTS`: what each one calls, and why), each allowed
 *   SubmitJob on exactly the queues and job definitions the config declares or references;
 * - the job execution role's secrets: `ssm:GetParameters` / `secretsmanager:GetSecretValue`
 *   on exactly the parameters and secrets the job definitions inject;
 * - one job role per job definition that declares `role.statements`.
 *
 * Actions whose only valid Resource is "*" (Service Authorization Reference) are listed in
 * STAR_ONLY_ACTIONS, each with the reason; every other statement names its resources.
 */
import type { BatchronConfig, IamStatement, JobDefinitionSpec, SecretSource } from './schema.ts';
import { platformQueueName, resolveJobDefinition, type NormalizeContext } from './validate.ts';
import { routeParameters } from '../notify/routing.ts';

/** A CloudFormation value: a literal or an intrinsic function object. */
export type CfnValue = string | number | boolean | { [fn: string]: unknown };

/** One IAM policy statement as it goes into the template. */
export interface CfnStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: CfnValue | CfnValue[];
  NotResource?: CfnValue | CfnValue[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** The functions serverless.yml declares, each with its own role. */
export const FUNCTIONS = ['fire', 'job-events', 'retry', 'sweep', 'api', 'trigger'] as const;
export type FunctionKey = (typeof FUNCTIONS)[number];

/**
 * Actions that support no resource-level permissions: "*" is their only valid Resource
 * (Service Authorization Reference: AWS Batch, EventBridge Scheduler, Amazon ECR).
 */
export const STAR_ONLY_ACTIONS = [
  'batch:DescribeJobs',
  'batch:ListJobs',
  'batch:DescribeJobDefinitions',
  'batch:DescribeJobQueues',
  'scheduler:ListSchedules',
  'events:ListRules',
  'ecr:GetAuthorizationToken',
] as const;

/** Named groups of permissions, each one thing the code does. */
type Grant =
  | 'table'
  | 'tableIndexes'
  | 'tableConditionCheck'
  | 'submitJobs'
  | 'manageJobs'
  | 'findJobs'
  | 'describeJobs'
  | 'checkBatchRefs'
  | 'retrySchedules'
  | 'manageSchedules'
  | 'readSchedules'
  | 'listSchedules'
  | 'readTriggerRules'
  | 'passSchedulerRole'
  | 'slackWebhook'
  | 'jobLogs';

/**
 * What each function calls. Only `sweep` and `api` read the table's indexes and query the
 * table (listings, deadline records); the others read and write items by key only. Every engine function drives runs (shared/engine/drive.ts):
 * submits (with tags), finds an earlier submission by job name (ListJobs), terminates the
 * jobs of a cancelled run, defers a submission or schedules a retry through a one-time
 * schedule (CreateSchedule + PassRole of the Scheduler role), and notifies Slack. The `api`
 * drives runs too (ad hoc runs, cancel) and also manages dynamic schedules (checking that
 * the job definitions and queues they name exist), describes jobs (a run found by its job id)
 * and reads their logs, and lists the event triggers' rules (trigger-only schedules);
 * `sweep` describes the jobs of runs whose events never came and reads the schedules
 * (ListSchedules, GetSchedule) to find missed fires (shared/engine/registry.ts).
 */
export const FUNCTION_GRANTS: Record<FunctionKey, readonly Grant[]> = {
  fire: ['table', 'submitJobs', 'manageJobs', 'findJobs', 'retrySchedules', 'passSchedulerRole', 'slackWebhook'],
  'job-events': ['table', 'submitJobs', 'manageJobs', 'findJobs', 'retrySchedules', 'passSchedulerRole', 'slackWebhook'],
  retry: ['table', 'submitJobs', 'manageJobs', 'findJobs', 'retrySchedules', 'passSchedulerRole', 'slackWebhook'],
  // Starts runs as fire does; a batch window's close is a one-time schedule like a retry's.
  trigger: ['table', 'tableConditionCheck', 'submitJobs', 'manageJobs', 'findJobs', 'retrySchedules', 'passSchedulerRole', 'slackWebhook'],
  sweep: ['table', 'tableIndexes', 'submitJobs', 'manageJobs', 'findJobs', 'describeJobs', 'retrySchedules', 'readSchedules', 'listSchedules', 'passSchedulerRole', 'slackWebhook'],
  api: [
    'table',
    'tableIndexes',
    'submitJobs',
    'manageJobs',
    'findJobs',
    'describeJobs',
    'checkBatchRefs',
    'retrySchedules',
    'manageSchedules',
    'listSchedules',
    'readTriggerRules',
    'passSchedulerRole',
    'slackWebhook',
    'jobLogs',
  ],
};

/** Logical ID of a function's role (`job-events` -> `BatchronJobEventsRole`). */
export function functionRoleLogicalId(fn: string): string {
  return `Batchron${pascal(fn)}Role`;
}

/** Where the IAM plugs into the rest of the template. */
export interface IamContext extends NormalizeContext {
  /** Name of the job log group (`/aws/batch/<deployment>`). */
  jobLogGroup: string;
  /** Name of the Slack webhook's SSM parameter, when one is configured. */
  slackWebhookParameter?: string;
  /** Logical ID of the Scheduler role the functions pass to one-time schedules. */
  schedulerRoleLogicalId: string;
  /** Logical ID of the DynamoDB table. */
  tableLogicalId: string;
}

const sub = (text: string): CfnValue => ({ 'Fn::Sub': text });
const ARN = 'arn:${AWS::Partition}';
const REGION_ACCOUNT = '${AWS::Region}:${AWS::AccountId}';

/**
 * A job definition as SubmitJob is authorized on it: `name:revision`, every revision (a
 * deploy registers new ones). The request ARN always includes the revision, even when the
 * engine submits by name, so a grant on the bare name matches nothing (AWS Batch User Guide,
 * "Resource: Restrict to job definition prefix on job submission").
 */
function jobDefinitionArns(nameOrArn: string): CfnValue[] {
  const arn = nameOrArn.startsWith('arn:') ? nameOrArn : `${ARN}:batch:${REGION_ACCOUNT}:job-definition/${nameOrArn}`;
  return nameOrArn.startsWith('arn:') ? [`${arn}:*`] : [sub(`${arn}:*`)];
}

function jobQueueArn(queue: string): CfnValue {
  return queue.startsWith('arn:') ? queue : sub(`${ARN}:batch:${REGION_ACCOUNT}:job-queue/${queue}`);
}

/**
 * Every queue and job definition the functions may submit to: the declared job definitions
 * (dynamic schedules may use any of them), the deployment's queues, and the external
 * definitions and queues (by name or ARN) that a declared schedule references.
 */
export function submitJobResources(config: BatchronConfig, ctx: NormalizeContext): CfnValue[] {
  const definitions = new Map<string, CfnValue[]>();
  const queues = new Map<string, CfnValue>();
  const addQueue = (q: string) => queues.set(q, jobQueueArn(q));
  for (const key of Object.keys(config.jobDefinitions).sort()) {
    const name = ctx.jobDefinitionName(key);
    definitions.set(name, jobDefinitionArns(name));
  }
  addQueue(ctx.defaultQueue);
  if (config.defaults?.queue) addQueue(config.defaults.queue);
  for (const def of Object.values(config.jobDefinitions)) addQueue(platformQueueName(ctx, def.platform));
  for (const spec of Object.values(config.schedules)) {
    const tasks = [...(spec.job ? [spec.job] : []), ...Object.values(spec.tasks ?? {}), ...Object.values(spec.onFailure ?? {})];
    for (const task of tasks) {
      const ref = resolveJobDefinition(task.definition, config, ctx);
      if ('problem' in ref || ref.kind === 'declared') {
        // declared ones are listed above
      } else if (ref.kind === 'arn') {
        definitions.set(ref.arn, jobDefinitionArns(ref.arn));
      } else {
        definitions.set(ref.name, jobDefinitionArns(ref.name));
      }
      if (task.queue !== undefined) addQueue(task.queue);
    }
  }
  return [...queues.values(), ...[...definitions.values()].flat()];
}

/** The statements of one grant. */
function grantStatements(grant: Grant, config: BatchronConfig, ctx: IamContext): CfnStatement[] {
  const scheduleArn = sub(`${ARN}:scheduler:${REGION_ACCOUNT}:schedule/${ctx.deployment}/*`);
  switch (grant) {
    case 'table':
      return [
        {
          Sid: 'Table',
          Effect: 'Allow',
          // Items by key: Get/Put/Update, and TransactWriteItems' Put + Update (authorized as PutItem and UpdateItem).
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [ctx.tableLogicalId, 'Arn'] },
        },
      ];
    case 'tableIndexes':
      // Listings: the sweeper's active runs, missed fires and overdue batch windows; the API's runs of a schedule,
      // whose statuses are read from the run items (BatchGetItem: GSI1 copies no status, shared/store/summaries.ts);
      // a schedule's deadline records (Query on the table: the sweeper's deadline check, the API's last deadline).
      return [
        { Sid: 'TableIndexes', Effect: 'Allow', Action: 'dynamodb:Query', Resource: sub(`\${${ctx.tableLogicalId}.Arn}/index/*`) },
        { Sid: 'TableListings', Effect: 'Allow', Action: ['dynamodb:BatchGetItem', 'dynamodb:Query'], Resource: { 'Fn::GetAtt': [ctx.tableLogicalId, 'Arn'] } },
      ];
    case 'tableConditionCheck':
      // A batch window's transaction checks the window is still open (a ConditionCheck item).
      return [{ Sid: 'TableConditionCheck', Effect: 'Allow', Action: 'dynamodb:ConditionCheckItem', Resource: { 'Fn::GetAtt': [ctx.tableLogicalId, 'Arn'] } }];
    case 'submitJobs':
      // SubmitJob is authorized on both the queue and the job definition.
      return [{ Sid: 'SubmitJobs', Effect: 'Allow', Action: 'batch:SubmitJob', Resource: submitJobResources(config, ctx) }];
    case 'manageJobs':
      // Tagging at submission and terminating are authorized on the job; job ids are not known in advance.
      return [{ Sid: 'ManageJobs', Effect: 'Allow', Action: ['batch:TagResource', 'batch:TerminateJob'], Resource: sub(`${ARN}:batch:${REGION_ACCOUNT}:job/*`) }];
    case 'findJobs':
      return [{ Sid: 'FindJobs', Effect: 'Allow', Action: 'batch:ListJobs', Resource: '*' }];
    case 'describeJobs':
      return [{ Sid: 'DescribeJobs', Effect: 'Allow', Action: 'batch:DescribeJobs', Resource: '*' }];
    case 'checkBatchRefs':
      // A dynamic schedule's job definitions and queues must exist (shared/api/batch-refs.ts).
      return [{ Sid: 'CheckBatchRefs', Effect: 'Allow', Action: ['batch:DescribeJobDefinitions', 'batch:DescribeJobQueues'], Resource: '*' }];
    case 'retrySchedules':
      return [{ Sid: 'RetrySchedules', Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: scheduleArn }];
    case 'manageSchedules':
      return [
        {
          Sid: 'ManageSchedules',
          Effect: 'Allow',
          Action: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
          Resource: scheduleArn,
        },
      ];
    case 'readSchedules':
      return [{ Sid: 'ReadSchedules', Effect: 'Allow', Action: 'scheduler:GetSchedule', Resource: scheduleArn }];
    case 'listSchedules':
      return [{ Sid: 'ListSchedules', Effect: 'Allow', Action: 'scheduler:ListSchedules', Resource: '*' }];
    case 'readTriggerRules':
      // A schedule started only by event triggers has no Scheduler schedule: the API lists it from its rules.
      return [
        { Sid: 'ListTriggerRules', Effect: 'Allow', Action: 'events:ListRules', Resource: '*' },
        {
          Sid: 'ReadTriggerRules',
          Effect: 'Allow',
          Action: 'events:ListTargetsByRule',
          Resource: sub(`${ARN}:events:${REGION_ACCOUNT}:rule/${ctx.deployment}-*`),
        },
      ];
    case 'passSchedulerRole':
      return [
        {
          Sid: 'PassSchedulerRole',
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: { 'Fn::GetAtt': [ctx.schedulerRoleLogicalId, 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        },
      ];
    case 'slackWebhook':
    {
      // The deployment's webhook and every one a schedule routes its messages to (notify.slack).
      const deploymentParameter = config.slackWebhookParameter ?? ctx.slackWebhookParameter;
      const parameters = [
        ...new Set([
          ...(deploymentParameter ? [deploymentParameter.replace(/^\//, '')] : []),
          ...routeParameters(Object.values(config.schedules).map((s) => s.notify?.slack)),
        ]),
      ];
      if (parameters.length === 0) return [];
      const resources = parameters.map((p) => ssmParameterArn(p));
      return [{ Sid: 'SlackWebhook', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: resources.length === 1 ? resources[0]! : resources }];
    }
    case 'jobLogs':
      // `GET /runs/{id}/logs` reads one job's log stream (GetLogEvents is authorized on the stream).
      return [
        {
          Sid: 'JobLogs',
          Effect: 'Allow',
          Action: 'logs:GetLogEvents',
          Resource: sub(`${ARN}:logs:${REGION_ACCOUNT}:log-group:${ctx.jobLogGroup}:log-stream:*`),
        },
      ];
  }
}

/** The `AWS::IAM::Role` of one function: its own log group, then its grants. */
export function functionRole(fn: FunctionKey, config: BatchronConfig, ctx: IamContext): { Type: string; Properties: Record<string, unknown> } {
  const logGroup = `/aws/lambda/${ctx.deployment}-${fn}`;
  const statements: CfnStatement[] = [
    {
      Sid: 'OwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: sub(`${ARN}:logs:${REGION_ACCOUNT}:log-group:${logGroup}:log-stream:*`),
    },
    ...FUNCTION_GRANTS[fn].flatMap((g) => grantStatements(g, config, ctx)),
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `Batchron ${ctx.deployment}: the ${fn} function`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: fn, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/** `/a/b` or `a` -> the parameter's ARN (`...:parameter/a/b`). */
export function ssmParameterArn(name: string): CfnValue {
  return sub(`${ARN}:ssm:${REGION_ACCOUNT}:parameter/${name.replace(/^\//, '')}`);
}

/** The Batch `valueFrom` of a secret: the parameter's ARN, or the secret's (partial) ARN with its JSON key. */
export function secretValueFrom(source: SecretSource): CfnValue {
  if ('ssm' in source) return ssmParameterArn(source.ssm);
  const key = source.key !== undefined ? `:${source.key}::` : '';
  return sub(`${ARN}:secretsmanager:${REGION_ACCOUNT}:secret:${source.secretsManager}${key}`);
}

/**
 * What the execution role needs to inject the job definitions' secrets: `ssm:GetParameters`
 * on the parameters, `secretsmanager:GetSecretValue` on the secrets (`-??????` matches the
 * six characters Secrets Manager appends to a secret's ARN). Empty when no job has secrets.
 */
export function jobSecretStatements(definitions: Record<string, JobDefinitionSpec>): CfnStatement[] {
  const parameters = new Set<string>();
  const secrets = new Set<string>();
  for (const def of Object.values(definitions)) {
    for (const source of Object.values(def.secrets ?? {})) {
      if ('ssm' in source) parameters.add(source.ssm.replace(/^\//, ''));
      else secrets.add(source.secretsManager);
    }
  }
  const out: CfnStatement[] = [];
  if (parameters.size > 0) {
    out.push({ Sid: 'SecretParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: [...parameters].sort().map((p) => ssmParameterArn(p)) });
  }
  if (secrets.size > 0) {
    out.push({
      Sid: 'SecretsManagerSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [...secrets].sort().map((s) => sub(`${ARN}:secretsmanager:${REGION_ACCOUNT}:secret:${s}-??????`)),
    });
  }
  return out;
}

/** A job definition's own role (assumed by ECS tasks of this account) with the statements it declares. */
export function jobRole(key: string, statements: IamStatement[], ctx: Pick<NormalizeContext, 'deployment'>): { Type: string; Properties: Record<string, unknown> } {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `Batchron ${ctx.deployment}: the job role of job definition ${key}`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'ecs-tasks.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [{ PolicyName: 'job', PolicyDocument: { Version: '2012-10-17', Statement: statements.map(renderStatement) } }],
    },
  };
}

/** A user's statement with `${AWS::...}` in its resources substituted by CloudFormation. */
function renderStatement(st: IamStatement): CfnStatement {
  const values = (v: string | string[] | undefined) => (v === undefined ? undefined : ([] as string[]).concat(v).map((r) => (r.includes('${') ? sub(r) : r)));
  return Object.fromEntries(
    Object.entries({ ...st, Resource: values(st.Resource), NotResource: values(st.NotResource) }).filter(([, v]) => v !== undefined),
  ) as unknown as CfnStatement;
}

export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
