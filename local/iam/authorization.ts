/**
 * What each operation the local stack emulates is authorized on: the IAM action and the
 * resource ARNs (plus condition keys), per AWS's Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/), one table per service:
 *   AWS Batch                  list_awsbatch.html
 *   Amazon EventBridge Scheduler list_amazoneventbridgescheduler.html
 *   Amazon DynamoDB            list_amazondynamodb.html
 *   AWS Lambda                 list_awslambda.html
 *   Amazon EventBridge         list_amazoneventbridge.html
 *   Amazon CloudWatch Logs     list_amazoncloudwatchlogs.html
 *   AWS Systems Manager        list_awssystemsmanager.html
 *   AWS Secrets Manager        list_awssecretsmanager.html
 *   AWS Identity and Access Management (iam:PassRole)  list_awsidentityandaccessmanagementiam.html
 * An operation without a row is authorized as `<service>:<Operation>` on `*` (the action is
 * named after the operation for every service here), so a deployed principal can never reach
 * an operation that no policy names.
 */
import type { AwsRequest } from '../contracts.ts';
import type { AuthRequest } from './policy.ts';

/** One request as IAM sees it: the operation and everything it must be allowed. */
export interface Authorization {
  /** `batch:SubmitJob` style name of the operation itself (what a denial names first). */
  operation: string;
  checks: AuthRequest[];
}

interface Ctx {
  region: string;
  account: string;
  /**
   * A secret's full ARN (with the 6-character suffix Secrets Manager appends) from its name,
   * as the local Secrets Manager knows it; a name it does not know is authorized as
   * `secret:<name>`, which a `secret:<name>-??????` grant does not match.
   */
  secretArn?: (name: string) => string | undefined;
  /**
   * A job definition's ARN with its revision (`job-definition/NAME:REV`) from a name, a
   * `name:revision` or an ARN, as the local Batch resolves it (the latest ACTIVE revision
   * when none is given); undefined when there is no such definition.
   */
  jobDefinitionArn?: (ref: string) => string | undefined;
}

type Body = Record<string, any>;
type Rule = (body: Body, c: Ctx, req: AwsRequest) => AuthRequest[];

const arn = (service: string, c: Ctx, resource: string, opts: { global?: boolean } = {}) =>
  `arn:aws:${service}:${opts.global ? '' : c.region}:${c.account}:${resource}`;
const lastSegment = (v: unknown) => String(v ?? '').split('/').pop() ?? '';

// ── AWS Batch ───────────────────────────────────────────────────────────────────────────────
const batchArn = (kind: string, c: Ctx, nameOrArn: unknown) =>
  String(nameOrArn ?? '').startsWith('arn:') ? String(nameOrArn) : arn('batch', c, `${kind}/${String(nameOrArn ?? '')}`);

const BATCH: Record<string, Rule> = {
  // SubmitJob: job-definition* and job-queue*; tags at submission also need TagResource on the new job.
  // The job definition is authorized with its revision, whatever the request names: "a policy
  // that references only the job definition name without a revision number or wildcard does
  // not match SubmitJob requests, because the request ARN includes the revision" (AWS Batch
  // User Guide, "Resource: Restrict to job definition prefix on job submission").
  SubmitJob: (b, c) => [
    { action: 'batch:SubmitJob', resource: batchArn('job-queue', c, b.jobQueue) },
    { action: 'batch:SubmitJob', resource: c.jobDefinitionArn?.(String(b.jobDefinition ?? '')) ?? batchArn('job-definition', c, b.jobDefinition) },
    ...(b.tags && Object.keys(b.tags).length > 0 ? [{ action: 'batch:TagResource', resource: arn('batch', c, 'job/*') }] : []),
  ],
  CancelJob: (b, c) => [{ action: 'batch:CancelJob', resource: arn('batch', c, `job/${String(b.jobId ?? '')}`) }],
  TerminateJob: (b, c) => [{ action: 'batch:TerminateJob', resource: arn('batch', c, `job/${String(b.jobId ?? '')}`) }],
  // DescribeJobs, ListJobs and the Describe* of definitions, queues and environments: no resource types.
  DescribeJobs: () => [{ action: 'batch:DescribeJobs', resource: '*' }],
  ListJobs: () => [{ action: 'batch:ListJobs', resource: '*' }],
  DescribeJobDefinitions: () => [{ action: 'batch:DescribeJobDefinitions', resource: '*' }],
  DescribeJobQueues: () => [{ action: 'batch:DescribeJobQueues', resource: '*' }],
  DescribeComputeEnvironments: () => [{ action: 'batch:DescribeComputeEnvironments', resource: '*' }],
  RegisterJobDefinition: (b, c) => [{ action: 'batch:RegisterJobDefinition', resource: batchArn('job-definition', c, b.jobDefinitionName) }],
  DeregisterJobDefinition: (b, c) => [{ action: 'batch:DeregisterJobDefinition', resource: batchArn('job-definition', c, b.jobDefinition) }],
  CreateComputeEnvironment: (b, c) => [{ action: 'batch:CreateComputeEnvironment', resource: batchArn('compute-environment', c, b.computeEnvironmentName) }],
  UpdateComputeEnvironment: (b, c) => [{ action: 'batch:UpdateComputeEnvironment', resource: batchArn('compute-environment', c, b.computeEnvironment) }],
  DeleteComputeEnvironment: (b, c) => [{ action: 'batch:DeleteComputeEnvironment', resource: batchArn('compute-environment', c, b.computeEnvironment) }],
  CreateJobQueue: (b, c) => [
    { action: 'batch:CreateJobQueue', resource: batchArn('job-queue', c, b.jobQueueName) },
    ...((b.computeEnvironmentOrder ?? []) as Body[]).map((o) => ({ action: 'batch:CreateJobQueue', resource: batchArn('compute-environment', c, o.computeEnvironment) })),
  ],
  UpdateJobQueue: (b, c) => [
    { action: 'batch:UpdateJobQueue', resource: batchArn('job-queue', c, b.jobQueue) },
    ...((b.computeEnvironmentOrder ?? []) as Body[]).map((o) => ({ action: 'batch:UpdateJobQueue', resource: batchArn('compute-environment', c, o.computeEnvironment) })),
  ],
  DeleteJobQueue: (b, c) => [{ action: 'batch:DeleteJobQueue', resource: batchArn('job-queue', c, b.jobQueue) }],
  TagResource: (b) => [{ action: 'batch:TagResource', resource: String(b.resourceArn ?? '') }],
  UntagResource: (b) => [{ action: 'batch:UntagResource', resource: String(b.resourceArn ?? '') }],
  ListTagsForResource: (b) => [{ action: 'batch:ListTagsForResource', resource: String(b.resourceArn ?? '') }],
};

const BATCH_PATHS = new Map(Object.keys(BATCH).map((op) => [`/v1/${op.toLowerCase()}`, op]));

function batchOperation(req: AwsRequest): { op: string; body: Body } {
  const path = req.path.replace(/\/+$/, '');
  if (path.startsWith('/v1/tags/')) {
    const op = { POST: 'TagResource', GET: 'ListTagsForResource', DELETE: 'UntagResource' }[req.method] ?? 'Unknown';
    return { op, body: { resourceArn: path.slice('/v1/tags/'.length) } };
  }
  return { op: BATCH_PATHS.get(path.toLowerCase()) ?? 'Unknown', body: json(req) };
}

// ── EventBridge Scheduler ───────────────────────────────────────────────────────────────────
const scheduleArn = (c: Ctx, group: unknown, name: string) => arn('scheduler', c, `schedule/${String(group || 'default')}/${name}`);
/** Creating or updating a schedule passes its target's role to Scheduler. */
const passTargetRole = (b: Body): AuthRequest[] =>
  typeof b.Target?.RoleArn === 'string' ? [{ action: 'iam:PassRole', resource: b.Target.RoleArn, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }] : [];

function schedulerOperation(req: AwsRequest, c: Ctx): { op: string; checks: AuthRequest[] } {
  const [resource, ...rest] = req.path.split('/').filter(Boolean);
  const name = rest.join('/');
  const m = req.method.toUpperCase();
  const group = req.query.get('groupName');
  if (resource === 'schedules' && rest.length === 0) return { op: 'ListSchedules', checks: [{ action: 'scheduler:ListSchedules', resource: '*' }] };
  if (resource === 'schedules') {
    const op = { POST: 'CreateSchedule', GET: 'GetSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule' }[m] ?? 'Unknown';
    const body = m === 'POST' || m === 'PUT' ? json(req) : {};
    const g = m === 'POST' || m === 'PUT' ? body.GroupName : group;
    return { op, checks: [{ action: `scheduler:${op}`, resource: scheduleArn(c, g, name) }, ...passTargetRole(body)] };
  }
  if (resource === 'schedule-groups' && rest.length === 0) return { op: 'ListScheduleGroups', checks: [{ action: 'scheduler:ListScheduleGroups', resource: '*' }] };
  if (resource === 'schedule-groups') {
    const op = { POST: 'CreateScheduleGroup', GET: 'GetScheduleGroup', DELETE: 'DeleteScheduleGroup' }[m] ?? 'Unknown';
    return { op, checks: [{ action: `scheduler:${op}`, resource: arn('scheduler', c, `schedule-group/${name}`) }] };
  }
  if (resource === 'tags') {
    const op = { GET: 'ListTagsForResource', POST: 'TagResource', DELETE: 'UntagResource' }[m] ?? 'Unknown';
    return { op, checks: [{ action: `scheduler:${op}`, resource: name }] };
  }
  return { op: 'Unknown', checks: [] };
}

// ── DynamoDB ────────────────────────────────────────────────────────────────────────────────
const tableArn = (c: Ctx, table: unknown) => arn('dynamodb', c, `table/${lastSegment(table)}`);
const onTable = (action: string): Rule => (b, c) => [
  { action: `dynamodb:${action}`, resource: b.IndexName ? `${tableArn(c, b.TableName)}/index/${String(b.IndexName)}` : tableArn(c, b.TableName) },
];
const TRANSACT_WRITE: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };

const DYNAMODB: Record<string, Rule> = {
  GetItem: onTable('GetItem'),
  PutItem: onTable('PutItem'),
  UpdateItem: onTable('UpdateItem'),
  DeleteItem: onTable('DeleteItem'),
  Query: onTable('Query'),
  Scan: onTable('Scan'),
  DescribeTable: onTable('DescribeTable'),
  CreateTable: onTable('CreateTable'),
  DeleteTable: onTable('DeleteTable'),
  UpdateTable: onTable('UpdateTable'),
  UpdateTimeToLive: onTable('UpdateTimeToLive'),
  DescribeTimeToLive: onTable('DescribeTimeToLive'),
  ListTables: () => [{ action: 'dynamodb:ListTables', resource: '*' }],
  BatchGetItem: (b, c) => Object.keys(b.RequestItems ?? {}).map((t) => ({ action: 'dynamodb:BatchGetItem', resource: tableArn(c, t) })),
  BatchWriteItem: (b, c) => Object.keys(b.RequestItems ?? {}).map((t) => ({ action: 'dynamodb:BatchWriteItem', resource: tableArn(c, t) })),
  // The transactions have no action of their own: each item is authorized as its single-item action.
  TransactWriteItems: (b, c) =>
    ((b.TransactItems ?? []) as Body[]).flatMap((item) =>
      Object.entries(item)
        .filter(([kind]) => kind in TRANSACT_WRITE)
        .map(([kind, v]) => ({ action: `dynamodb:${TRANSACT_WRITE[kind]}`, resource: tableArn(c, (v as Body).TableName) })),
    ),
  TransactGetItems: (b, c) => ((b.TransactItems ?? []) as Body[]).map((item) => ({ action: 'dynamodb:GetItem', resource: tableArn(c, item.Get?.TableName) })),
};

// ── Lambda ──────────────────────────────────────────────────────────────────────────────────
function lambdaOperation(req: AwsRequest, c: Ctx): { op: string; checks: AuthRequest[] } {
  const m = /^\/2015-03-31\/functions\/([^/]+)(\/invocations|\/configuration)?\/?$/.exec(req.path);
  const fnArn = (nameOrArn: string) => {
    const name = decodeURIComponent(nameOrArn);
    const qualifier = req.query.get('Qualifier');
    const base = name.startsWith('arn:') ? name : arn('lambda', c, `function:${name}`);
    return qualifier ? `${base}:${qualifier}` : base;
  };
  if (req.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(req.path)) return { op: 'ListFunctions', checks: [{ action: 'lambda:ListFunctions', resource: '*' }] };
  if (m && m[2] === '/invocations') return { op: 'Invoke', checks: [{ action: 'lambda:InvokeFunction', resource: fnArn(m[1]!) }] };
  if (m && m[2] === '/configuration') return { op: 'GetFunctionConfiguration', checks: [{ action: 'lambda:GetFunctionConfiguration', resource: fnArn(m[1]!) }] };
  if (m) return { op: 'GetFunction', checks: [{ action: 'lambda:GetFunction', resource: fnArn(m[1]!) }] };
  return { op: 'Unknown', checks: [] };
}

// ── EventBridge ─────────────────────────────────────────────────────────────────────────────
const ruleArn = (c: Ctx, b: Body) => {
  const bus = lastSegment(b.EventBusName ?? 'default');
  return arn('events', c, bus === 'default' ? `rule/${String(b.Name ?? b.Rule ?? '')}` : `rule/${bus}/${String(b.Name ?? b.Rule ?? '')}`);
};
const EVENTS: Record<string, Rule> = {
  PutEvents: (b, c) => {
    const buses = new Set(((b.Entries ?? []) as Body[]).map((e) => lastSegment(e.EventBusName ?? 'default')));
    return [...buses].map((bus) => ({ action: 'events:PutEvents', resource: arn('events', c, `event-bus/${bus}`) }));
  },
  PutRule: (b, c) => [{ action: 'events:PutRule', resource: ruleArn(c, b) }],
  DeleteRule: (b, c) => [{ action: 'events:DeleteRule', resource: ruleArn(c, b) }],
  PutTargets: (b, c) => [{ action: 'events:PutTargets', resource: ruleArn(c, b) }],
  RemoveTargets: (b, c) => [{ action: 'events:RemoveTargets', resource: ruleArn(c, b) }],
  ListTargetsByRule: (b, c) => [{ action: 'events:ListTargetsByRule', resource: ruleArn(c, b) }],
  ListRules: () => [{ action: 'events:ListRules', resource: '*' }],
  TestEventPattern: () => [{ action: 'events:TestEventPattern', resource: '*' }],
};

// ── CloudWatch Logs ─────────────────────────────────────────────────────────────────────────
const logGroupArn = (c: Ctx, group: unknown) => arn('logs', c, `log-group:${String(group ?? '')}`);
/** The log-stream ARN IAM authorizes stream reads and writes on. */
export const logStreamArn = (c: Ctx, group: string, stream: string) => `${logGroupArn(c, group)}:log-stream:${stream}`;
const LOGS: Record<string, Rule> = {
  GetLogEvents: (b, c) => [{ action: 'logs:GetLogEvents', resource: logStreamArn(c, String(b.logGroupName ?? ''), String(b.logStreamName ?? '')) }],
  FilterLogEvents: (b, c) => [{ action: 'logs:FilterLogEvents', resource: logGroupArn(c, b.logGroupName) }],
  DescribeLogStreams: (b, c) => [{ action: 'logs:DescribeLogStreams', resource: logGroupArn(c, b.logGroupName) }],
  CreateLogStream: (b, c) => [{ action: 'logs:CreateLogStream', resource: logStreamArn(c, String(b.logGroupName ?? ''), String(b.logStreamName ?? '')) }],
  PutLogEvents: (b, c) => [{ action: 'logs:PutLogEvents', resource: logStreamArn(c, String(b.logGroupName ?? ''), String(b.logStreamName ?? '')) }],
};

// ── Systems Manager Parameter Store ─────────────────────────────────────────────────────────
/** `/a/b` -> `parameter/a/b`; a name without a leading slash gets one, as SSM's ARNs do. */
export const parameterArn = (c: Ctx, name: unknown) => {
  const n = String(name ?? '');
  return n.startsWith('arn:') ? n : arn('ssm', c, `parameter${n.startsWith('/') ? n : `/${n}`}`);
};
const SSM: Record<string, Rule> = {
  GetParameter: (b, c) => [{ action: 'ssm:GetParameter', resource: parameterArn(c, b.Name) }],
  GetParameters: (b, c) => ((b.Names ?? []) as unknown[]).map((n) => ({ action: 'ssm:GetParameters', resource: parameterArn(c, n) })),
  PutParameter: (b, c) => [{ action: 'ssm:PutParameter', resource: parameterArn(c, b.Name) }],
  DeleteParameter: (b, c) => [{ action: 'ssm:DeleteParameter', resource: parameterArn(c, b.Name) }],
};

// ── Secrets Manager ─────────────────────────────────────────────────────────────────────────
const secretArn = (c: Ctx, id: unknown) => {
  const v = String(id ?? '');
  return v.startsWith('arn:') ? v : (c.secretArn?.(v) ?? arn('secretsmanager', c, `secret:${v}`));
};
const SECRETS_MANAGER: Record<string, Rule> = {
  GetSecretValue: (b, c) => [{ action: 'secretsmanager:GetSecretValue', resource: secretArn(c, b.SecretId) }],
  DescribeSecret: (b, c) => [{ action: 'secretsmanager:DescribeSecret', resource: secretArn(c, b.SecretId) }],
  CreateSecret: (b, c) => [{ action: 'secretsmanager:CreateSecret', resource: secretArn(c, b.Name) }],
  PutSecretValue: (b, c) => [{ action: 'secretsmanager:PutSecretValue', resource: secretArn(c, b.SecretId) }],
  DeleteSecret: (b, c) => [{ action: 'secretsmanager:DeleteSecret', resource: secretArn(c, b.SecretId) }],
  BatchGetSecretValue: (b, c) => ((b.SecretIdList ?? []) as unknown[]).map((id) => ({ action: 'secretsmanager:GetSecretValue', resource: secretArn(c, id) })),
};

const JSON_SERVICES: Record<string, { prefix: string; service: string; rules: Record<string, Rule> }> = {
  dynamodb: { prefix: 'DynamoDB_20120810.', service: 'dynamodb', rules: DYNAMODB },
  events: { prefix: 'AWSEvents.', service: 'events', rules: EVENTS },
  logs: { prefix: 'Logs_20140328.', service: 'logs', rules: LOGS },
  ssm: { prefix: 'AmazonSSM.', service: 'ssm', rules: SSM },
  secretsmanager: { prefix: 'secretsmanager.', service: 'secretsmanager', rules: SECRETS_MANAGER },
};

/** Works out what a request to the local endpoint must be allowed, per the table above. */
export function authorizationFor(req: AwsRequest, c: Ctx): Authorization {
  if (req.service === 'batch') {
    const { op, body } = batchOperation(req);
    const rule = BATCH[op];
    return { operation: `batch:${op}`, checks: rule ? rule(body, c, req) : [{ action: `batch:${op}`, resource: '*' }] };
  }
  if (req.service === 'scheduler') {
    const { op, checks } = schedulerOperation(req, c);
    return { operation: `scheduler:${op}`, checks: checks.length > 0 ? checks : [{ action: `scheduler:${op}`, resource: '*' }] };
  }
  if (req.service === 'lambda') {
    const { op, checks } = lambdaOperation(req, c);
    return { operation: checks[0]?.action ?? `lambda:${op}`, checks: checks.length > 0 ? checks : [{ action: `lambda:${op}`, resource: '*' }] };
  }
  const svc = JSON_SERVICES[req.service];
  if (svc) {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(svc.prefix) ? target.slice(svc.prefix.length) : 'Unknown';
    const rule = svc.rules[op];
    const checks = rule ? rule(json(req), c, req) : [{ action: `${svc.service}:${op}`, resource: '*' }];
    return { operation: `${svc.service}:${op}`, checks: checks.length > 0 ? checks : [{ action: `${svc.service}:${op}`, resource: '*' }] };
  }
  return { operation: `${req.service || 'unknown'}:Unknown`, checks: [{ action: `${req.service || 'unknown'}:Unknown`, resource: '*' }] };
}

function json(req: AwsRequest): Body {
  if (req.body.length === 0) return {};
  try {
    const v = JSON.parse(req.body.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : {};
  } catch {
    // The service itself answers the bad body; IAM sees an operation without parameters.
    return {};
  }
}
