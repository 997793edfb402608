import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, FireInputSchema } from '#shared/config/definition';
import { RUN_SUMMARY_ATTRIBUTES, TABLE, tableInput } from '#shared/config/table';
import { SWEEP_SCHEDULE_NAME } from '#shared/config/cloudformation';
import { SCHEDULER_INPUT_LIMIT } from '#shared/config/validate';
import { SERVERLESS_YML } from '../../bench/lib/spike-deploy.ts';
import { copyProject, osls, PROJECT_DIR, readTemplate, type Template } from './package.helpers.ts';

/** serverless.yml as written (variables unresolved): the schedules a user declared. */
const declared = parseYaml(readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
  custom: { batchron: { schedules: Record<string, { expression?: string; timezone?: string; enabled?: boolean; on?: { event: unknown }[] }>; jobDefinitions: Record<string, unknown> } };
};
const allSchedules = declared.custom.batchron.schedules;
/** The schedules with a time expression (event-only ones have no Scheduler schedule). */
const schedules = Object.fromEntries(Object.entries(allSchedules).filter(([, s]) => s.expression !== undefined));

/** Actions whose only valid IAM Resource is "*" (each commented where serverless.yml grants it). */
const STAR_ONLY_ACTIONS = new Set(['batch:DescribeJobs', 'batch:ListJobs', 'batch:DescribeJobDefinitions', 'batch:DescribeJobQueues', 'scheduler:ListSchedules', 'ecr:GetAuthorizationToken']);

let template: Template;
let packaged: string;
let invalid: { code: number; stdout: string; stderr: string };
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  // Prepare: one valid copy and one with a broken schedule, packaged side by side.
  const valid = copyProject();
  const broken = copyProject({
    serverlessYml: (yml) =>
      yml.replace('expression: cron(0 2 * * ? *)', 'expression: cron(0 2 * * *)').replace('timezone: Asia/Tokyo', 'timezone: Asia/Tokio'),
  });
  cleanups.push(valid.remove, broken.remove);
  const [ok, bad] = await Promise.all([osls(valid.dir, ['package']), osls(broken.dir, ['package'])]);
  if (ok.code !== 0) throw new Error(`osls package failed:\n${ok.stdout}\n${ok.stderr}`);
  template = readTemplate(valid.dir);
  packaged = valid.dir;
  invalid = bad;
});

afterAll(() => {
  for (const remove of cleanups) remove();
});

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('osls package', () => {
  it('creates one Scheduler schedule per declared schedule, with its expression and zone, plus the sweep', () => {
    // Act
    const byName = new Map(ofType('AWS::Scheduler::Schedule').map(([, r]) => [r.Properties.Name as string, r.Properties]));
    // Assess
    expect([...byName.keys()].sort()).toEqual([...Object.keys(schedules), SWEEP_SCHEDULE_NAME].sort());
    for (const [name, spec] of Object.entries(schedules)) {
      expect(byName.get(name)).toMatchObject({
        ScheduleExpression: spec.expression,
        ScheduleExpressionTimezone: spec.timezone ?? 'UTC',
        State: spec.enabled === false ? 'DISABLED' : 'ENABLED',
        GroupName: { Ref: 'BatchronScheduleGroup' },
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': ['FireLambdaFunction', 'Arn'] },
          RoleArn: { 'Fn::GetAtt': ['BatchronSchedulerRole', 'Arn'] },
        },
      });
    }
    expect(ofType('AWS::Scheduler::ScheduleGroup').map(([, r]) => r.Properties)).toEqual([{ Name: 'batchron-dev' }]);
  });

  it('puts the schedule name, the scheduled-time placeholder and the normalized definition in each input', () => {
    for (const [, resource] of ofType('AWS::Scheduler::Schedule')) {
      const { Name: name, Target: target } = resource.Properties as { Name: string; Target: { Input: string } };
      if (name === SWEEP_SCHEDULE_NAME) continue;
      // Act
      const input = JSON.parse(target.Input) as { schedule: string; scheduledTime: string };
      const delivered = FireInputSchema.parse({ ...input, scheduledTime: '2026-01-01T00:00:00Z' });
      // Assess
      expect(target.Input.length).toBeLessThanOrEqual(SCHEDULER_INPUT_LIMIT);
      expect(input).toMatchObject({ schedule: name, scheduledTime: '<aws.scheduler.scheduled-time>' });
      expect(delivered.definition).toMatchObject({ name, expression: schedules[name]!.expression, timezone: schedules[name]!.timezone ?? 'UTC' });
    }
    const dag = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties.Name === 'etl-dag')!;
    const definition = (JSON.parse(dag[1].Properties.Target.Input as string) as { definition: { tasks: { name: string; jobDefinition: string; dependsOn: string[] }[] } })
      .definition;
    expect(definition.tasks.map((t) => [t.name, t.jobDefinition, t.dependsOn])).toEqual([
      ['extract', 'batchron-dev-etl', []],
      ['transform-orders', 'batchron-dev-etl', ['extract']],
      ['transform-customers', 'batchron-dev-etl', ['extract']],
      ['load', 'batchron-dev-etl', ['transform-orders', 'transform-customers']],
    ]);
  });

  it('creates one EventBridge rule per event trigger, its pattern as declared, targeting trigger, which only that rule may invoke', () => {
    // Act
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => String(r.Properties.Name ?? '').includes('-on'));
    const permissions = ofType('AWS::Lambda::Permission').filter(([, r]) => r.Properties.Principal === 'events.amazonaws.com');
    // Assess
    const declaredTriggers = Object.entries(allSchedules).flatMap(([name, s]) => (s.on ?? []).map((t, i) => ({ name, i, event: t.event })));
    expect(declaredTriggers.length).toBeGreaterThan(0);
    expect(rules).toHaveLength(declaredTriggers.length);
    for (const t of declaredTriggers) {
      const [id, rule] = rules.find(([, r]) => r.Properties.Name === `batchron-dev-${t.name}-on${t.i}`)!;
      expect(rule.Properties.EventPattern).toEqual(t.event);
      const [target] = rule.Properties.Targets as { Arn: unknown; InputTransformer: { InputTemplate: string } }[];
      expect(target!.Arn).toEqual({ 'Fn::GetAtt': ['TriggerLambdaFunction', 'Arn'] });
      expect(target!.InputTransformer.InputTemplate).toContain('"event":<aws.events.event.json>}');
      expect(permissions.map(([, p]) => p.Properties)).toContainEqual({
        FunctionName: { 'Fn::GetAtt': ['TriggerLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id, 'Arn'] },
      });
    }
    // Batch windows close through a one-time schedule that invokes trigger: the Scheduler role may, and names it.
    const role = template.Resources.BatchronSchedulerRole!.Properties as { Policies: { PolicyDocument: { Statement: { Resource: unknown[] }[] } }[] };
    expect(JSON.stringify(role.Policies[0]!.PolicyDocument.Statement[0]!.Resource)).toContain('-trigger');
    expect(Object.keys(allSchedules).filter((n) => !(n in schedules))).toEqual(['on-upload']);
  });

  it('targets sweep from the sweep schedule', () => {
    const sweep = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties.Name === SWEEP_SCHEDULE_NAME)![1].Properties;
    expect(sweep).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', Target: { Arn: { 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] } } });
  });

  it("routes this deployment's Batch job state changes to job-events", () => {
    // Act
    // (the event triggers' rules are checked above)
    const rules = ofType('AWS::Events::Rule')
      .map(([, r]) => r.Properties)
      .filter((p) => !String(p.Name ?? '').includes('-on'));
    // Assess
    expect(rules).toEqual([
      expect.objectContaining({
        EventPattern: {
          source: ['aws.batch'],
          'detail-type': ['Batch Job State Change'],
          detail: { status: ['RUNNING', 'SUCCEEDED', 'FAILED'], jobName: [{ prefix: 'batchron-dev-' }] },
        },
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': ['JobDasheventsLambdaFunction', 'Arn'] } })],
      }),
    ]);
  });

  it('names the resources of every IAM statement, "*" only where AWS allows nothing narrower', () => {
    // Prepare: every statement of every role and policy in the template
    const statements = [...ofType('AWS::IAM::Role'), ...ofType('AWS::IAM::Policy')].flatMap(([, r]) => {
      const docs = r.Type === 'AWS::IAM::Role' ? ((r.Properties.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument) : [r.Properties.PolicyDocument];
      return docs.flatMap((d) => (d as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    });
    // Act
    const starred = statements.filter((s) => ([] as unknown[]).concat(s.Resource).includes('*'));
    // Assess
    expect(statements.length).toBeGreaterThan(8);
    for (const s of starred) {
      for (const action of ([] as string[]).concat(s.Action)) expect(STAR_ONLY_ACTIONS, `${action} on "*"`).toContain(action);
    }
    const yml = readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8').split('\n');
    yml.forEach((line, i) => {
      if (/Resource: '\*'/.test(line)) {
        expect(yml.slice(Math.max(0, i - 5), i).some((l) => /#.*"\*"/.test(l)), `line ${i + 1} grants "*" without a comment saying why`).toBe(true);
      }
    });
  });

  it('lets functions submit only to the deployment queue and job definitions', () => {
    const role = ofType('AWS::IAM::Role').find(([id]) => id === 'IamRoleLambdaExecution')![1];
    const statements = (role.Properties.Policies as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    const submit = statements.find((s) => ([] as unknown[]).concat(s.Action).includes('batch:SubmitJob'))!;
    expect(JSON.stringify(submit.Resource)).toContain(':job-queue/batchron-dev');
    expect(JSON.stringify(submit.Resource)).toContain(':job-definition/batchron-dev-*');
  });

  it('declares the table with the key and index names the engine imports', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    const p = table.Properties;
    expect(p).toMatchObject({
      TableName: 'batchron-dev',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(p.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: TABLE.byScheduleIndex,
        KeySchema: [
          { AttributeName: TABLE.byScheduleIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.byScheduleIndexSortKey, KeyType: 'RANGE' },
        ],
      }),
      expect.objectContaining({
        IndexName: TABLE.activeIndex,
        KeySchema: [
          { AttributeName: TABLE.activeIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.activeIndexSortKey, KeyType: 'RANGE' },
        ],
      }),
    ]);
  });

  it('projects into the indexes exactly what the engine reads from them, as the tests build the table', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    const projections = (table.Properties.GlobalSecondaryIndexes as { IndexName: string; Projection: unknown }[]).map((i) => [i.IndexName, i.Projection]);
    const tested = tableInput('t').GlobalSecondaryIndexes!.map((i) => [i.IndexName, i.Projection]);
    expect(projections).toEqual(tested);
    expect(Object.fromEntries(projections)).toEqual({
      [TABLE.byScheduleIndex]: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...RUN_SUMMARY_ATTRIBUTES] },
      [TABLE.activeIndex]: { ProjectionType: 'KEYS_ONLY' },
    });
  });

  it('declares a Fargate job definition per jobDefinitions entry, logging to the job log group', () => {
    const defs = ofType('AWS::Batch::JobDefinition').map(([, r]) => r.Properties);
    expect(defs.map((d) => d.JobDefinitionName).sort()).toEqual(Object.keys(declared.custom.batchron.jobDefinitions).map((k) => `batchron-dev-${k}`).sort());
    for (const d of defs) {
      expect(d).toMatchObject({
        Type: 'container',
        PlatformCapabilities: ['FARGATE'],
        ContainerProperties: {
          ExecutionRoleArn: { 'Fn::GetAtt': ['BatchronJobExecutionRole', 'Arn'] },
          LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': { Ref: 'BatchronJobLogGroup' } } },
        },
      });
    }
    expect(ofType('AWS::Batch::ComputeEnvironment')[0]![1].Properties.ComputeResources).toMatchObject({ Type: 'FARGATE' });
    expect(ofType('AWS::Batch::JobQueue')[0]![1].Properties).toMatchObject({ JobQueueName: 'batchron-dev' });
  });

  it('gives every function the environment the engine reads, with log retention', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(['ApiLambdaFunction', 'FireLambdaFunction', 'JobDasheventsLambdaFunction', 'RetryLambdaFunction', 'SweepLambdaFunction', 'TriggerLambdaFunction']);
    for (const [, fn] of functions) {
      const variables = Object.keys(fn.Properties.Environment.Variables as object);
      const expected = Object.values(ENV).filter((name) => name !== ENV.slackWebhookUrl);
      expect(variables).toEqual(expect.arrayContaining(expected));
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x' });
    }
    for (const [, group] of ofType('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it("gives the spike benchmark's mirror of serverless.yml the template's timeouts, memory and sweep rate", () => {
    // The benchmark deploys without `osls print`, so its copy of these values must not drift.
    const byId = Object.fromEntries(ofType('AWS::Lambda::Function'));
    const ids = { fire: 'FireLambdaFunction', 'job-events': 'JobDasheventsLambdaFunction', retry: 'RetryLambdaFunction', sweep: 'SweepLambdaFunction' } as const;
    for (const [fn, id] of Object.entries(ids)) {
      expect(byId[id]!.Properties, fn).toMatchObject({ Timeout: SERVERLESS_YML.timeouts[fn as keyof typeof ids], MemorySize: SERVERLESS_YML.memorySizeMb });
    }
    const sweep = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties.Name === SWEEP_SCHEDULE_NAME)![1].Properties;
    expect(sweep.ScheduleExpression).toBe(SERVERLESS_YML.sweepExpression);
  });

  it("protects the CLI's routes with IAM and the dashboard's with the JWT authorizer; only the data-free shell is public", () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const byKey = Object.fromEntries(routes.map((r) => [r.RouteKey as string, r]));
    const dashboard = new Set(['GET /', 'GET /assets/{file}', 'GET /auth/session', 'ANY /ui/{proxy+}']);
    const cli = routes.filter((r) => !dashboard.has(r.RouteKey));
    expect(cli.length).toBeGreaterThan(10);
    for (const route of cli) expect(route).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    expect(byKey['ANY /ui/{proxy+}']).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: 'HttpApiAuthorizerDashboardJwt' } });
    expect(byKey['GET /']!.AuthorizationType).toBeUndefined();
    expect(byKey['GET /assets/{file}']!.AuthorizationType).toBeUndefined();
    expect(byKey['GET /auth/session']!.AuthorizationType).toBeUndefined();

    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const authorizer = authorizers[0]![1];
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
    // The stack's own user pool unless an issuer is given (params oidcIssuerUrl / oidcClientId).
    expect(authorizer.Properties.JwtConfiguration.Issuer['Fn::If'][0]).toBe('BatchronDashboardCreatesUserPool');
    expect(authorizer.Properties.JwtConfiguration.Audience[0]['Fn::If'][1]).toEqual({ Ref: 'BatchronDashboardUserPoolClient' });
  });

  it('creates the Cognito user pool, its PKCE client and the operators and viewers groups only when no OIDC issuer is given', () => {
    const conditions = (template as unknown as { Conditions: Record<string, unknown> }).Conditions;
    expect(conditions.BatchronDashboardCreatesUserPool).toEqual({ 'Fn::Equals': ['', ''] });
    const cognito = Object.entries(template.Resources).filter(([, r]) => r.Type.startsWith('AWS::Cognito::'));
    expect(cognito.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::Cognito::UserPool',
      'AWS::Cognito::UserPoolClient',
      'AWS::Cognito::UserPoolDomain',
      'AWS::Cognito::UserPoolGroup',
      'AWS::Cognito::UserPoolGroup',
    ]);
    for (const [, r] of cognito) expect((r as { Condition?: string }).Condition).toBe('BatchronDashboardCreatesUserPool');
    const client = cognito.find(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient')![1].Properties;
    expect(client).toMatchObject({ GenerateSecret: false, AllowedOAuthFlows: ['code'] });
    const groups = cognito.filter(([, r]) => r.Type === 'AWS::Cognito::UserPoolGroup').map(([, r]) => r.Properties.GroupName);
    expect(groups.sort()).toEqual(['operators', 'viewers']);
  });

  it("builds the dashboard into the api function's bundle (no bucket, nothing fetched at run time)", () => {
    const bundle = execFileSync('unzip', ['-p', join(packaged, '.serverless', 'api.zip'), 'functions/api.mjs'], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
    expect(bundle).toContain('<title>Batchron</title>');
    expect(bundle).toMatch(/\/assets\/app-[A-Z0-9]+\.js/);
    // esbuild itself stays out: the stub replaced the on-demand builder.
    expect(bundle).toContain('the dashboard is embedded in this bundle');
  });

  it('fails packaging on an invalid schedule with a message naming the schedule and the field', () => {
    const output = `${invalid.stdout}\n${invalid.stderr}`;
    expect(invalid.code).not.toBe(0);
    expect(output).toContain('schedules.nightly-tokyo.expression: cron(0 2 * * *) needs 6 fields');
    expect(output).toContain('schedules.nightly-tokyo.timezone: unknown time zone "Asia/Tokio" (use an IANA name such as "Asia/Tokyo")');
    // A user error, printed without a stack trace.
    expect(output).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });
});
