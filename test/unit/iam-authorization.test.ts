/**
 * The local IAM's authorization table (what each emulated operation is authorized on, per the
 * Service Authorization Reference), the execution-role steps of a task start, and the grant
 * coverage the template mutation test is built on.
 */
import { describe, expect, it } from 'vitest';
import type { AwsRequest } from '#local/contracts';
import { authorizationFor } from '#local/iam/authorization';
import { grantCoverage } from '#local/iam/coverage';
import { parsePolicy } from '#local/iam/policy';
import { taskStartSteps } from '#local/iam/task';

const c = { region: 'us-east-1', account: '000000000000' };
const request = (service: string, method: string, path: string, body: unknown = undefined, headers: Record<string, string> = {}, query = ''): AwsRequest => ({
  service,
  region: c.region,
  method,
  path,
  query: new URLSearchParams(query),
  headers,
  body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
});
const json = (service: string, target: string, body: unknown) => request(service, 'POST', '/', body, { 'x-amz-target': target });

describe('authorization table', () => {
  it.each([
    [
      'SubmitJob on the queue and the job definition, and TagResource for tags given at submission',
      request('batch', 'POST', '/v1/submitjob', { jobName: 'j', jobQueue: 'q', jobDefinition: 'd:3', tags: { a: 'b' } }),
      [
        { action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:000000000000:job-queue/q' },
        { action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:000000000000:job-definition/d:3' },
        { action: 'batch:TagResource', resource: 'arn:aws:batch:us-east-1:000000000000:job/*' },
      ],
    ],
    [
      'SubmitJob by name on the latest revision of the job definition, as AWS authorizes it',
      request('batch', 'POST', '/v1/submitjob', { jobName: 'j', jobQueue: 'q', jobDefinition: 'd' }),
      [
        { action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:000000000000:job-queue/q' },
        { action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:000000000000:job-definition/d:7' },
      ],
      { jobDefinitionArn: (ref: string) => (ref === 'd' ? 'arn:aws:batch:us-east-1:000000000000:job-definition/d:7' : undefined) },
    ],
    ['TerminateJob on the job', request('batch', 'POST', '/v1/terminatejob', { jobId: 'abc', reason: 'r' }), [{ action: 'batch:TerminateJob', resource: 'arn:aws:batch:us-east-1:000000000000:job/abc' }]],
    ['DescribeJobs on "*" (no resource types)', request('batch', 'POST', '/v1/describejobs', { jobs: ['a'] }), [{ action: 'batch:DescribeJobs', resource: '*' }]],
    [
      'CreateSchedule on the schedule in its group, and PassRole of the target role to Scheduler',
      request('scheduler', 'POST', '/schedules/s1', { GroupName: 'g', Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f', RoleArn: 'arn:aws:iam::000000000000:role/r' } }),
      [
        { action: 'scheduler:CreateSchedule', resource: 'arn:aws:scheduler:us-east-1:000000000000:schedule/g/s1' },
        { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/r', context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      ],
    ],
    ['GetSchedule in the default group when none is given', request('scheduler', 'GET', '/schedules/s1'), [{ action: 'scheduler:GetSchedule', resource: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/s1' }]],
    ['DeleteSchedule in the group of the query string', request('scheduler', 'DELETE', '/schedules/s1', undefined, {}, 'groupName=g'), [{ action: 'scheduler:DeleteSchedule', resource: 'arn:aws:scheduler:us-east-1:000000000000:schedule/g/s1' }]],
    ['Query on an index is authorized on the index', json('dynamodb', 'DynamoDB_20120810.Query', { TableName: 't', IndexName: 'gsi1' }), [{ action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/index/gsi1' }]],
    [
      'TransactWriteItems as the single-item action of each item',
      json('dynamodb', 'DynamoDB_20120810.TransactWriteItems', { TransactItems: [{ Put: { TableName: 't' } }, { ConditionCheck: { TableName: 't' } }] }),
      [
        { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t' },
        { action: 'dynamodb:ConditionCheckItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t' },
      ],
    ],
    ['Invoke is lambda:InvokeFunction on the function', request('lambda', 'POST', '/2015-03-31/functions/f/invocations'), [{ action: 'lambda:InvokeFunction', resource: 'arn:aws:lambda:us-east-1:000000000000:function:f' }]],
    ['GetParameter on the parameter ARN', json('ssm', 'AmazonSSM.GetParameter', { Name: '/a/b' }), [{ action: 'ssm:GetParameter', resource: 'arn:aws:ssm:us-east-1:000000000000:parameter/a/b' }]],
    ['GetLogEvents on the log stream', json('logs', 'Logs_20140328.GetLogEvents', { logGroupName: '/g', logStreamName: 's/1' }), [{ action: 'logs:GetLogEvents', resource: 'arn:aws:logs:us-east-1:000000000000:log-group:/g:log-stream:s/1' }]],
    ['PutEvents on the bus', json('events', 'AWSEvents.PutEvents', { Entries: [{ Source: 'x' }] }), [{ action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }]],
    ['an operation without a row: its own action on "*"', json('dynamodb', 'DynamoDB_20120810.ExecuteStatement', {}), [{ action: 'dynamodb:ExecuteStatement', resource: '*' }]],
  ] as [string, AwsRequest, unknown[], Partial<Parameters<typeof authorizationFor>[1]>?][])('%s', (_name, req, checks, resolvers) => {
    expect(authorizationFor(req, { ...c, ...resolvers }).checks).toEqual(checks);
  });
});

describe('execution-role steps of a task start', () => {
  it('pulls a private ECR image, reads SSM and Secrets Manager secrets, then creates the log stream', () => {
    const steps = taskStartSteps({
      ...c,
      image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/jobs:1',
      secrets: [{ name: 'A', valueFrom: '/p/a' }, { name: 'B', valueFrom: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:password::' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/aws/batch/x' } },
      logStreamName: 'hello/default/1',
    });
    expect(steps.map((s) => s.requests.map((r) => `${r.action} ${r.resource}`))).toEqual([
      ['ecr:GetAuthorizationToken *'],
      ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((a) => `${a} arn:aws:ecr:us-east-1:000000000000:repository/jobs`),
      ['ssm:GetParameters arn:aws:ssm:us-east-1:000000000000:parameter/p/a'],
      ['secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf'],
      ['logs:CreateLogStream', 'logs:PutLogEvents'].map((a) => `${a} arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/x:log-stream:hello/default/1`),
    ]);
    expect(steps[4]!.reason('DENIED')).toBe(
      'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: DENIED : exit status 1',
    );
  });

  it('needs nothing for a public image without secrets or awslogs', () => {
    expect(taskStartSteps({ ...c, image: 'public.ecr.aws/docker/library/alpine:3.20', logStreamName: 's' })).toEqual([]);
  });
});

describe('grant coverage', () => {
  const role = 'arn:aws:iam::000000000000:role/fn';
  const group = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/batchron-dev:*';
  const stream = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/batch/batchron-dev:log-stream:hello/default/1';

  it("reports the JobLogs resource built as `${LogGroup.Arn}:log-stream:*` as dead: removing it denies nothing", () => {
    // Prepare: the Lambda role's JobLogs statement as the template first had it.
    const policies = [parsePolicy({ Statement: [{ Sid: 'JobLogs', Effect: 'Allow', Action: ['logs:GetLogEvents'], Resource: [group, `${group}:log-stream:*`] }] })];
    // Act
    const { dead, missing } = grantCoverage(new Map([[role, policies]]), [{ roleArn: role, action: 'logs:GetLogEvents', resource: stream }]);
    // Assess
    expect(missing).toEqual([]);
    expect(dead).toEqual([{ roleArn: role, policy: 0, statement: 0, sid: 'JobLogs', resource: `${group}:log-stream:*` }]);
  });

  it('reports a statement no recorded request needs, and a recorded request nothing allows', () => {
    const policies = [parsePolicy({ Statement: [{ Effect: 'Allow', Action: 'logs:GetLogEvents', Resource: group }, { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }] })];
    const refused = { roleArn: role, action: 'batch:SubmitJob', resource: 'arn:aws:batch:us-east-1:000000000000:job-queue/q' };
    const { dead, missing } = grantCoverage(new Map([[role, policies]]), [{ roleArn: role, action: 'logs:GetLogEvents', resource: stream }, refused]);
    expect(dead).toEqual([{ roleArn: role, policy: 0, statement: 1 }]);
    expect(missing).toEqual([refused]);
  });
});
