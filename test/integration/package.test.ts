import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, FireInputSchema } from '#shared/config/definition';
import { RUN_INDEX_ATTRIBUTES, TABLE, tableInput } from '#shared/config/table';
import { SWEEP_SCHEDULE_NAME } from '#shared/config/cloudformation';
import { SCHEDULER_INPUT_LIMIT } from '#shared/config/validate';
import { SERVERLESS_YML } from '../../bench/lib/spike-deploy.ts';
import { packagedOnce } from '../helpers/packaged.ts';
import { allows, functionRoleId, PROJECT_DIR, readTemplate, resolveCfn, roleStatements, TEST_ACCOUNT, TEST_REGION, withBatchron, EVERY_FIELD, type Template } from './package.helpers.ts';

/** serverless.yml as written (variables unresolved): the schedules a user declared. */
const declared = parseYaml(readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
  custom: { batchron: { schedules: Record<string, { expression?: string; timezone?: string; enabled?: boolean; on?: { event: unknown }[] }>; jobDefinitions: Record<string, unknown> } };
};
const allSchedules = declared.custom.batchron.schedules;
/** The schedules with a time expression (event-only ones have no Scheduler schedule). */
const schedules = Object.fromEntries(Object.entries(allSchedules).filter(([, s]) => s.expression !== undefined));

/** Actions whose only valid IAM Resource is "*" (each commented where serverless.yml grants it). */
const STAR_ONLY_ACTIONS = new Set(['batch:DescribeJobs', 'batch:ListJobs', 'batch:DescribeJobDefinitions', 'batch:DescribeJobQueues', 'scheduler:ListSchedules', 'events:ListRules', 'ecr:GetAuthorizationToken']);

let template: Template;
/** The project's serverless.yml plus job definitions with every field and external references (EVERY_FIELD). */
let extended: Template;
let packaged: string;
let invalid: { code: number; stdout: string; stderr: string };

/** The functions and their logical IDs; every one of them may submit jobs (they all drive runs). */
const FUNCTION_IDS = { fire: 'FireLambdaFunction', 'job-events': 'JobDasheventsLambdaFunction', retry: 'RetryLambdaFunction', sweep: 'SweepLambdaFunction', api: 'ApiLambdaFunction' };

/** Every (queue, job definition) pair the schedules of a template submit to, as SubmitJob is authorized on them (revision 1). */
function submittedPairs(t: Template): { task: string; queue: string; definition: string }[] {
  return Object.values(t.Resources)
    .filter((r) => r.Type === 'AWS::Scheduler::Schedule' && r.Properties.Name !== SWEEP_SCHEDULE_NAME)
    .flatMap((r) => {
      const { definition } = JSON.parse(r.Properties.Target.Input as string) as { definition: { name: string; tasks: { name: string; jobQueue: string; jobDefinition: string }[]; onFailure: { name: string; jobQueue: string; jobDefinition: string }[] } };
      return [...definition.tasks, ...definition.onFailure].map((task) => ({
        task: `${definition.name}.${task.name}`,
        queue: task.jobQueue.startsWith('arn:') ? task.jobQueue : `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/${task.jobQueue}`,
        definition: `${task.jobDefinition.startsWith('arn:') ? task.jobDefinition : `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/${task.jobDefinition}`}:1`,
      }));
    });
}
beforeAll(async () => {
  // Prepare: the project as it is (shared with the other files that read its packaging), one
  // copy with a broken schedule and one with every field, packaged side by side.
  const [ok, bad, ext] = await Promise.all([
    packagedOnce(),
    packagedOnce({
      serverlessYml: (yml) =>
        yml.replace('expression: cron(0 2 * * ? *)', 'expression: cron(0 2 * * *)').replace('timezone: Asia/Tokyo', 'timezone: Asia/Tokio'),
    }),
    packagedOnce({ serverlessYml: withBatchron(EVERY_FIELD) }),
  ]);
  if (ok.code !== 0) throw new Error(`osls package failed:\n${ok.stdout}\n${ok.stderr}`);
  if (ext.code !== 0) throw new Error(`osls package (extended) failed:\n${ext.stdout}\n${ext.stderr}`);
  template = readTemplate(ok.dir);
  extended = readTemplate(ext.dir);
  packaged = ok.dir;
  invalid = bad;
  // Packaging bundles every function with esbuild (three copies here, in parallel): on the
  // shared 2-core machine under a full run it can take longer than the default hook timeout.
}, 300_000);

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
    const definition = (
      JSON.parse(dag[1].Properties.Target.Input as string) as {
        definition: { tasks: { name: string; jobDefinition: string; dependsOn: string[] }[]; dependents?: unknown; downstream?: Record<string, { after?: unknown }> };
      }
    ).definition;
    // daily-report waits for etl-dag: etl-dag's runs carry what they release.
    expect(definition.dependents).toEqual([{ schedule: 'daily-report', status: 'SUCCEEDED' }]);
    expect(definition.downstream?.['daily-report']?.after).toEqual([{ schedule: 'etl-dag', status: 'SUCCEEDED' }]);
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
    expect(Object.keys(allSchedules).filter((n) => !(n in schedules))).toEqual(['daily-report', 'on-upload']);
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
          detail: { status: ['RUNNING', 'SUCCEEDED', 'FAILED'], jobName: [{ prefix: 'batchron-dev_' }] },
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

  it('lets every function submit each task of every schedule to its queue and job definition, external ones included', () => {
    for (const t of [template, extended]) {
      const pairs = submittedPairs(t);
      expect(pairs.length).toBeGreaterThan(5);
      for (const [fn, id] of Object.entries(FUNCTION_IDS)) {
        const statements = roleStatements(t, functionRoleId(t, id));
        for (const { task, queue, definition } of pairs) {
          expect(allows(statements, 'batch:SubmitJob', queue), `${fn} submits ${task} to ${queue}`).toBe(true);
          expect(allows(statements, 'batch:SubmitJob', definition), `${fn} submits ${task} with ${definition}`).toBe(true);
        }
      }
    }
    // the extended config's external references are among them
    expect(submittedPairs(extended).map((p) => [p.task, p.queue, p.definition])).toEqual(
      expect.arrayContaining([
        ['external.a', `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/shared-queue`, `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/shared-etl:1`],
        ['external.b', `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/other-queue`, `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/other-team:1`],
        ['external.c', `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/big-queue`, `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/batchron-dev-spot-report:1`],
      ]),
    );
  });

  it('grants no function anything of a stage whose name extends this one (dev vs dev-2)', () => {
    for (const [fn, id] of Object.entries(FUNCTION_IDS)) {
      const statements = roleStatements(template, functionRoleId(template, id));
      expect(allows(statements, 'batch:SubmitJob', `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/batchron-dev-2`), fn).toBe(false);
      expect(allows(statements, 'batch:SubmitJob', `arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-definition/batchron-dev-2-hello:1`), fn).toBe(false);
      expect(allows(statements, 'scheduler:CreateSchedule', `arn:aws:scheduler:${TEST_REGION}:${TEST_ACCOUNT}:schedule/batchron-dev-2/x`), fn).toBe(false);
    }
  });

  it("lets jobs write their log streams and the api read them (the log group's Arn already ends in :*)", () => {
    // Prepare: a stream as Batch names it in the deployment's job log group
    const stream = `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:/aws/batch/batchron-dev:log-stream:hello/default/0123456789abcdef`;
    // Act
    const execution = roleStatements(template, 'BatchronJobExecutionRole');
    const api = roleStatements(template, functionRoleId(template, 'ApiLambdaFunction'));
    // Assess
    expect(allows(execution, 'logs:CreateLogStream', stream)).toBe(true);
    expect(allows(execution, 'logs:PutLogEvents', stream)).toBe(true);
    expect(allows(api, 'logs:GetLogEvents', stream)).toBe(true);
    expect(allows(execution, 'logs:PutLogEvents', stream.replace('/aws/batch/batchron-dev', '/aws/batch/batchron-dev-2'))).toBe(false);
  });

  it('renders an ec2-spot job definition with GPUs on a Spot queue that falls back to on-demand EC2', () => {
    const byName = (type: string, name: string, field: string) => Object.entries(extended.Resources).find(([, r]) => r.Type === type && r.Properties[field] === name)!;
    // Act
    const [, def] = byName('AWS::Batch::JobDefinition', 'batchron-dev-gpu-train', 'JobDefinitionName');
    const [, queue] = byName('AWS::Batch::JobQueue', 'batchron-dev_ec2-spot', 'JobQueueName');
    const order = (queue.Properties.ComputeEnvironmentOrder as { Order: number; ComputeEnvironment: { Ref: string } }[]).map((o) => extended.Resources[o.ComputeEnvironment.Ref]!.Properties);
    const train = submittedPairs(extended).find((p) => p.task === 'train.main')!;
    // Assess
    expect(def.Properties.PlatformCapabilities).toEqual(['EC2']);
    expect(def.Properties.ContainerProperties.ResourceRequirements).toEqual([
      { Type: 'VCPU', Value: '4' },
      { Type: 'MEMORY', Value: '16384' },
      { Type: 'GPU', Value: '1' },
    ]);
    expect(def.Properties.ContainerProperties).not.toHaveProperty('FargatePlatformConfiguration');
    expect(def.Properties.ContainerProperties).not.toHaveProperty('NetworkConfiguration');
    expect(order.map((ce) => [ce.ComputeEnvironmentName, ce.ComputeResources.Type])).toEqual([
      ['batchron-dev_ec2-spot', 'SPOT'],
      ['batchron-dev_ec2', 'EC2'],
    ]);
    expect(order[0]!.ComputeResources).toMatchObject({
      AllocationStrategy: 'SPOT_CAPACITY_OPTIMIZED',
      InstanceTypes: ['g5.xlarge', 'g4dn.xlarge'],
      MinvCpus: 0,
      MaxvCpus: 32,
      InstanceRole: { 'Fn::GetAtt': ['BatchronInstanceProfile', 'Arn'] },
    });
    expect(extended.Resources.BatchronInstanceProfile!.Properties.Roles).toEqual([{ Ref: 'BatchronInstanceRole' }]);
    expect(JSON.stringify(extended.Resources.BatchronInstanceRole!.Properties.ManagedPolicyArns)).toContain('service-role/AmazonEC2ContainerServiceforEC2Role');
    expect(train.queue).toBe(`arn:aws:batch:${TEST_REGION}:${TEST_ACCOUNT}:job-queue/batchron-dev_ec2-spot`);
    // only the platforms in use get resources: the project's own serverless.yml has only Fargate
    expect(ofType('AWS::Batch::JobQueue').map(([, r]) => r.Properties.JobQueueName)).toEqual(['batchron-dev']);
  });

  it('renders fargate-spot, ec2, arm64 and ephemeral storage job definitions on their queues', () => {
    const def = (name: string) => Object.values(extended.Resources).find((r) => r.Properties.JobDefinitionName === name)!.Properties;
    const queue = (name: string) => Object.values(extended.Resources).find((r) => r.Type === 'AWS::Batch::JobQueue' && r.Properties.JobQueueName === name)!.Properties;
    const ce = (ref: { Ref: string }) => extended.Resources[ref.Ref]!.Properties;
    // Assess
    expect(def('batchron-dev-spot-report').PlatformCapabilities).toEqual(['FARGATE']);
    const spot = queue('batchron-dev_fargate-spot').ComputeEnvironmentOrder as { ComputeEnvironment: { Ref: string } }[];
    expect(spot.map((o) => ce(o.ComputeEnvironment).ComputeResources.Type)).toEqual(['FARGATE_SPOT', 'FARGATE']);
    expect(def('batchron-dev-ec2-batch').PlatformCapabilities).toEqual(['EC2']);
    expect(queue('batchron-dev_ec2').ComputeEnvironmentOrder).toEqual([{ Order: 1, ComputeEnvironment: { Ref: 'BatchronComputeEnvironmentEc2' } }]);
    expect(def('batchron-dev-arm').ContainerProperties).toMatchObject({
      RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'ARM64' },
      EphemeralStorage: { SizeInGiB: 50 },
    });
  });

  it("injects secrets from SSM and Secrets Manager, and lets the execution role read exactly those", () => {
    // Act
    const container = Object.values(extended.Resources).find((r) => r.Properties.JobDefinitionName === 'batchron-dev-with-secrets')!.Properties.ContainerProperties;
    const execution = roleStatements(extended, 'BatchronJobExecutionRole');
    const arn = (rest: string) => `arn:aws:${rest.replace('{}', `${TEST_REGION}:${TEST_ACCOUNT}`)}`;
    // Assess
    expect(resolveCfn(extended, container.Secrets)).toEqual([
      { Name: 'API_TOKEN', ValueFrom: arn('secretsmanager:{}:secret:batchron/dev/api:token::') },
      { Name: 'DB_PASSWORD', ValueFrom: arn('ssm:{}:parameter/batchron/dev/db-password') },
    ]);
    expect(allows(execution, 'ssm:GetParameters', arn('ssm:{}:parameter/batchron/dev/db-password'))).toBe(true);
    expect(allows(execution, 'secretsmanager:GetSecretValue', arn('secretsmanager:{}:secret:batchron/dev/api-AbC123'))).toBe(true);
    expect(allows(execution, 'ssm:GetParameters', arn('ssm:{}:parameter/batchron/dev/slack-webhook'))).toBe(false);
    expect(allows(execution, 'secretsmanager:GetSecretValue', arn('secretsmanager:{}:secret:batchron/dev/api-other-AbC123'))).toBe(false);
    // the project's own template: only the partner-sync example's secret, and no parameter
    const own = roleStatements(template, 'BatchronJobExecutionRole');
    expect(allows(own, 'secretsmanager:GetSecretValue', arn('secretsmanager:{}:secret:batchron/dev/partner-api-AbC123'))).toBe(true);
    expect(allows(own, 'secretsmanager:GetSecretValue', arn('secretsmanager:{}:secret:batchron/dev/api-AbC123'))).toBe(false);
    expect(own.some((s) => JSON.stringify(s).includes('ssm:GetParameters'))).toBe(false);
  });

  it('lets the functions that send Slack messages read exactly the webhook parameters the config names', () => {
    const arn = (name: string) => `arn:aws:ssm:${TEST_REGION}:${TEST_ACCOUNT}:parameter/${name}`;
    for (const [fn, id] of Object.entries(FUNCTION_IDS)) {
      const own = roleStatements(template, functionRoleId(template, id));
      const routed = roleStatements(extended, functionRoleId(extended, id));
      // The project's own: the deployment's webhook only.
      expect(allows(own, 'ssm:GetParameter', arn('batchron/dev/slack-webhook')), fn).toBe(true);
      expect(allows(own, 'ssm:GetParameter', arn('batchron/dev/team-slack')), fn).toBe(false);
      // With routes: the deployment's and every parameter a route names, nothing else.
      for (const name of ['batchron/dev/slack-webhook', 'batchron/dev/team-slack', 'batchron/dev/oncall-slack']) {
        expect(allows(routed, 'ssm:GetParameter', arn(name)), `${fn} reads ${name}`).toBe(true);
      }
      expect(allows(routed, 'ssm:GetParameter', arn('batchron/dev/db-password')), fn).toBe(false);
      expect(allows(routed, 'ssm:GetParameter', arn('batchron/dev/team-slack-2')), fn).toBe(false);
    }
    // The route travels in the schedule's definition, for the functions that send.
    const input = Object.values(extended.Resources).find((r) => r.Type === 'AWS::Scheduler::Schedule' && r.Properties.Name === 'routed')!.Properties.Target.Input as string;
    expect(JSON.parse(input).definition).toMatchObject({
      deadline: { at: '06:00', timezone: 'UTC', forLogicalDate: 'same' },
      notify: { slack: { webhook: { ssm: '/batchron/dev/team-slack' }, deadline: { ssm: 'batchron/dev/oncall-slack' }, failure: { env: 'TEAM_FAILURES' } } },
    });
  });

  it("gives a job definition the role its statements declare, or the existing role it names", () => {
    const container = (name: string) => Object.values(extended.Resources).find((r) => r.Properties.JobDefinitionName === name)!.Properties.ContainerProperties;
    // Act
    const declared = container('batchron-dev-with-role').JobRoleArn as { 'Fn::GetAtt': [string, string] };
    const role = extended.Resources[declared['Fn::GetAtt'][0]]!;
    const statements = roleStatements(extended, declared['Fn::GetAtt'][0]);
    // Assess
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
    expect(allows(statements, 's3:GetObject', 'arn:aws:s3:::reports-bucket/2026/01/report.csv')).toBe(true);
    expect(allows(statements, 's3:PutObject', 'arn:aws:s3:::reports-bucket/x')).toBe(false);
    expect(container('batchron-dev-existing-role').JobRoleArn).toBe(`arn:aws:iam::${TEST_ACCOUNT}:role/existing-job-role`);
    expect(container('batchron-dev-hello')).not.toHaveProperty('JobRoleArn');
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
      [TABLE.byScheduleIndex]: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...RUN_INDEX_ATTRIBUTES] },
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
      // The Slack URL comes from SSM on AWS, and the stack-stopped failure reason is the local deploy's only.
      const localOnly: string[] = [ENV.slackWebhookUrl, ENV.quietFailureReasons];
      const expected = Object.values(ENV).filter((name) => !localOnly.includes(name));
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
