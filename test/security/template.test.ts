/**
 * Least privilege in the packaged template (`osls package`, offline): each function runs
 * with a role of its own holding only what that function calls, the Scheduler role can be
 * assumed only for this deployment's schedule group, and the API cannot take the
 * concurrency fire and job-events need.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { packagedOnce } from '../helpers/packaged.ts';
import { allows, functionRoleId, readTemplate, roleStatements, TEST_ACCOUNT, TEST_REGION, type Template } from '../integration/package.helpers.ts';

let template: Template;

beforeAll(async () => {
  // The project's packaging, shared with the other files of the run that read it.
  const out = await packagedOnce();
  if (out.code !== 0) throw new Error(`osls package failed:\n${out.stdout}\n${out.stderr}`);
  template = readTemplate(out.dir);
  // Packaging bundles every function with esbuild; under a full run on the shared 2-core
  // machine it can take longer than the default hook timeout.
}, 300_000);

const FUNCTIONS = { fire: 'FireLambdaFunction', 'job-events': 'JobDasheventsLambdaFunction', retry: 'RetryLambdaFunction', sweep: 'SweepLambdaFunction', api: 'ApiLambdaFunction' } as const;
const ARN = (service: string, rest: string) => `arn:aws:${service}:${TEST_REGION}:${TEST_ACCOUNT}:${rest}`;

describe('least privilege in the packaged template', () => {
  it('gives each function a role of its own', () => {
    // Act
    const roles = Object.values(FUNCTIONS).map((id) => functionRoleId(template, id));
    // Assess
    expect(new Set(roles).size).toBe(Object.keys(FUNCTIONS).length);
    for (const role of roles) expect(template.Resources[role]!.Type).toBe('AWS::IAM::Role');
  });

  it('lets only the api manage dynamic schedules, read job logs and list the trigger rules, and only it and sweep read schedules', () => {
    const stream = ARN('logs', 'log-group:/aws/batch/batchron-dev:log-stream:hello/default/abc');
    const schedule = ARN('scheduler', 'schedule/batchron-dev/nightly');
    for (const [fn, id] of Object.entries(FUNCTIONS)) {
      // Act
      const statements = roleStatements(template, functionRoleId(template, id));
      const isApi = fn === 'api';
      // Assess
      expect(allows(statements, 'scheduler:DeleteSchedule', schedule), `${fn} DeleteSchedule`).toBe(isApi);
      expect(allows(statements, 'scheduler:UpdateSchedule', schedule), `${fn} UpdateSchedule`).toBe(isApi);
      expect(allows(statements, 'scheduler:ListSchedules', '*'), `${fn} ListSchedules`).toBe(isApi || fn === 'sweep');
      expect(allows(statements, 'scheduler:GetSchedule', schedule), `${fn} GetSchedule`).toBe(isApi || fn === 'sweep');
      expect(allows(statements, 'logs:GetLogEvents', stream), `${fn} GetLogEvents`).toBe(isApi);
      expect(allows(statements, 'batch:DescribeJobs', '*'), `${fn} DescribeJobs`).toBe(fn === 'api' || fn === 'sweep');
      // The api lists the event triggers' rules (trigger-only schedules), of this deployment only, and changes none.
      expect(allows(statements, 'events:ListRules', '*'), `${fn} ListRules`).toBe(isApi);
      expect(allows(statements, 'events:ListTargetsByRule', ARN('events', 'rule/batchron-dev-on-upload-on0')), `${fn} ListTargetsByRule`).toBe(isApi);
      expect(allows(statements, 'events:ListTargetsByRule', ARN('events', 'rule/other-app-rule')), `${fn} another app's rule`).toBe(false);
      expect(allows(statements, 'events:PutTargets', ARN('events', 'rule/batchron-dev-on-upload-on0')), `${fn} PutTargets`).toBe(false);
      // what every function does: its run records, and its own logs only
      expect(allows(statements, 'dynamodb:UpdateItem', ARN('dynamodb', 'table/batchron-dev')), `${fn} UpdateItem`).toBe(true);
      expect(allows(statements, 'logs:PutLogEvents', ARN('logs', `log-group:/aws/lambda/batchron-dev-${fn}:log-stream:x`)), `${fn} own logs`).toBe(true);
      const other = fn === 'fire' ? 'api' : 'fire';
      expect(allows(statements, 'logs:PutLogEvents', ARN('logs', `log-group:/aws/lambda/batchron-dev-${other}:log-stream:x`)), `${fn} ${other}'s logs`).toBe(false);
      // Runs and their definitions are read by key; only the listings query (the deadline records on the table).
      expect(allows(statements, 'dynamodb:Query', ARN('dynamodb', 'table/batchron-dev')), `${fn} Query on the table`).toBe(isApi || fn === 'sweep');
      expect(allows(statements, 'dynamodb:DeleteItem', ARN('dynamodb', 'table/batchron-dev')), `${fn} DeleteItem`).toBe(false);
      expect(allows(statements, 'dynamodb:Scan', ARN('dynamodb', 'table/batchron-dev')), `${fn} Scan`).toBe(false);
    }
  });

  it('lets EventBridge Scheduler assume its role only for this deployment\'s schedule group, in this account', () => {
    // Act
    const trust = template.Resources.BatchronSchedulerRole!.Properties.AssumeRolePolicyDocument.Statement as { Principal: unknown; Condition: Record<string, Record<string, unknown>> }[];
    // Assess
    expect(trust).toHaveLength(1);
    expect(trust[0]!.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust[0]!.Condition.StringEquals).toEqual({
      'aws:SourceAccount': { Ref: 'AWS::AccountId' },
      'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/batchron-dev' },
    });
  });

  it('bounds the api (reserved concurrency, HTTP API throttling) and runs one sweep at a time', () => {
    const fn = (id: string) => template.Resources[id]!.Properties;
    const stage = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!.Properties;
    // Assess
    expect(fn(FUNCTIONS.api).ReservedConcurrentExecutions).toBeGreaterThan(0);
    expect(fn(FUNCTIONS.sweep).ReservedConcurrentExecutions).toBe(1);
    expect(fn(FUNCTIONS.fire)).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
    expect(stage.AccessLogSettings).toMatchObject({ DestinationArn: { 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] } });
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Version')).toEqual([]);
  });
});
