/**
 * IAM on the local stack, from the real serverless.yml: every engine path runs once with
 * the deployment's principals (the functions' role, the Scheduler role, the jobs' execution
 * role), each signing with its own keys; every authorization request they make is recorded.
 *
 * The template mutation test is then a pure check over that record (local/iam/coverage.ts):
 * the full policies allow every recorded request (none is missing), and removing any one
 * statement, or one resource of a statement, denies at least one recorded request (none is
 * dead). Any function that submits may submit any declared job definition, so this file adds
 * schedules with one task per definition and sends them through every submitting path
 * (fire, job-events, trigger, api, retry after a deferral, the sweep after a lost one). What
 * a crash or a refusal reaches is driven too, as the table and Batch would have it: deliveries
 * repeated after a lost deferral (a lookup by job name in fire, trigger, api and job-events),
 * submissions Batch refuses for good (Slack from fire, trigger, api and retry), retries past a
 * booked pacer (deferred by retry, and by the sweep for a lost one), a deadline falling due (the
 * sweep reads the runs of its span). No grant of any role may be dead.
 * One run of the paths instead of one per mutation.
 *
 * The stage is `iam` (table, queue and schedules `batchron-iam-*`), so this file shares the
 * run's DynamoDB Local with the others without touching their tables. The job image is an ECR
 * image, as a deployment using the stack's own repository has, so image pulls are authorized.
 */
import { readFileSync } from 'node:fs';
import { startSlackCapture, type SlackCapture } from '#test/helpers/engine';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  BatchClient,
  DescribeJobsCommand,
  SubmitJobCommand,
  UpdateComputeEnvironmentCommand,
  UpdateJobQueueCommand,
} from '@aws-sdk/client-batch';
import { DeleteTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, type GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { reserveSubmitSlot } from '#shared/store/pacer';
import { SWEEP_SCHEDULE_NAME } from '#shared/config/cloudformation';
import type { EventBridgeEvent } from '#local/contracts';
import { deployLocal, templateResources, type LocalDeployment, type ResolvedService } from '#local/deploy';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { grantCoverage, type RecordedRequest } from '#local/iam/coverage';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';
import { PROJECT_DIR, readTemplate, type Template } from './package.helpers.ts';
import { packagedOnce, resolvedOnce } from '#test/helpers/packaged';

const STAGE = 'iam';
const DEPLOYMENT = `batchron-${STAGE}`;
// The stack's own job repository (BatchronJobRepository), the one the execution role may pull from.
const ECR_IMAGE = `000000000000.dkr.ecr.us-east-1.amazonaws.com/${DEPLOYMENT}-jobs:latest`;
/** Roles this file adds to show a bug or a job role; kept out of the template's coverage. */
const FIXTURE_ROLES = ['FixtureOldExecutionRole', 'FixtureJobRole', 'FixtureSchedulerRoleWithoutFire'];
/** Schedules this file adds (they reference only declared job definitions: the roles stay the template's). */
const EVERY = 'iam-every-definition';
const GATED = 'iam-gated';
const ON_EVENT = 'iam-on-event';
/** One task, started ad hoc (api) and by an event (trigger); both deliveries are repeated after their deferral is lost. */
const REDELIVERED = 'iam-redelivered';

let t: TestStack;
let api: HttpApi;
let slack: SlackCapture;
let deployment: LocalDeployment;
let resolved: ResolvedService;
let packaging: Promise<Template>;
const stackLog: string[] = [];
/** The Slack messages received, each as the JSON it was posted as. */
const slackMessages = (): string[] => slack.messages.map((m) => JSON.stringify(m));
const recorded = new Map<string, RecordedRequest>();

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** serverless.yml as deployed with `--stage iam --param jobImage=<ECR image>`, plus this file's fixtures. */
function withFixtures(service: ResolvedService): ResolvedService {
  const s = structuredClone(service);
  const batchron = s.custom!.batchron as { jobDefinitions: Record<string, { image: string }>; schedules: Record<string, unknown> };
  const defs = batchron.jobDefinitions;
  for (const def of Object.values(defs)) def.image = ECR_IMAGE;
  // One task per declared job definition (any function that submits may submit any of them):
  // quick (`slow` sleeps 1 s), and `ingest` gets the KEYS it needs.
  const everyDefinition = (dependsOn?: string[]) =>
    Object.fromEntries(
      Object.keys(defs).map((key) => [`d-${key}`, { definition: key, environment: { KEYS: '["a"]', SLEEP_SECONDS: '1' }, ...(dependsOn ? { dependsOn } : {}) }]),
    );
  Object.assign(batchron.schedules, {
    // Fired as the deploy creates it (fire), run ad hoc (api), and deferred past the pacer's budget (retry).
    // Due a minute after each fire: the sweep reads the runs of the deadline's span (BatchGetItem).
    [EVERY]: { expression: 'rate(1 day)', deadline: { after: '1m' }, tasks: everyDefinition() },
    // The definitions as next tasks, after `gate` succeeds (job-events); run ad hoc only.
    // Alerts when SUBMITTED over a minute (the sweep tells Slack).
    [GATED]: { expression: 'cron(0 3 1 1 ? 2099)', notify: { stuckAfterMinutes: { submitted: 1 } }, tasks: { gate: { definition: 'slow', environment: { SLEEP_SECONDS: '3' } }, ...everyDefinition(['gate']) } },
    // Started by an event (trigger).
    [ON_EVENT]: { on: [{ event: { source: ['batchron.iam-test'] } }], tasks: everyDefinition() },
    [REDELIVERED]: { expression: 'cron(0 3 1 1 ? 2099)', on: [{ event: { source: ['batchron.iam-redelivered'] } }], tasks: { only: { definition: 'hello' } } },
  });
  const logs = { LogDriver: 'awslogs', Options: { 'awslogs-group': { Ref: 'BatchronJobLogGroup' }, 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'old' } };
  Object.assign(s.resources!.Resources!, {
    // The execution role's log statement as the template first had it (issue 11).
    FixtureOldExecutionRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyName: 'pull-and-log',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::Sub': '${BatchronJobLogGroup.Arn}:log-stream:*' } }],
            },
          },
        ],
      },
    },
    FixtureOldJobDefinition: {
      Type: 'AWS::Batch::JobDefinition',
      Properties: {
        JobDefinitionName: `${DEPLOYMENT}-fixture-old-execution-role`,
        Type: 'container',
        PlatformCapabilities: ['FARGATE'],
        ContainerProperties: { Command: ['sh', '-c', 'echo started'], ExecutionRoleArn: { 'Fn::GetAtt': ['FixtureOldExecutionRole', 'Arn'] }, LogConfiguration: logs },
      },
    },
    // A Scheduler role that may invoke only the sweep.
    FixtureSchedulerRoleWithoutFire: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyName: 'invoke-sweep',
            PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:batchron-iam-sweep' } }] },
          },
        ],
      },
    },
    // A job role allowed to read one parameter, and a job definition running with it.
    FixtureJobRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyName: 'read-one-parameter',
            PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/iam-test/allowed' } }] },
          },
        ],
      },
    },
    FixtureJobRoleDefinition: {
      Type: 'AWS::Batch::JobDefinition',
      Properties: {
        JobDefinitionName: `${DEPLOYMENT}-fixture-job-role`,
        Type: 'container',
        PlatformCapabilities: ['FARGATE'],
        ContainerProperties: {
          Command: ['node', 'test/fixtures/jobs/read-parameters.mjs', '/iam-test/allowed', '/iam-test/forbidden'],
          JobRoleArn: { 'Fn::GetAtt': ['FixtureJobRole', 'Arn'] },
        },
      },
    },
  });
  return s;
}

beforeAll(async () => {
  t = await startTestStack({ projectDir: PROJECT_DIR, log: (line) => stackLog.push(line) });
  slack = await startSlackCapture();
  const ssm = new SSMClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const webhook = slack.url;
  await ssm.send(new PutParameterCommand({ Name: `/batchron/${STAGE}/slack-webhook`, Value: webhook, Type: 'SecureString', Overwrite: true }));
  await ssm.send(new PutParameterCommand({ Name: '/iam-test/allowed', Value: 'allowed-value', Type: 'String', Overwrite: true }));
  await ssm.send(new PutParameterCommand({ Name: '/iam-test/forbidden', Value: 'forbidden-value', Type: 'String', Overwrite: true }));
  ssm.destroy();
  // A table left by an earlier run of this file on the shared DynamoDB Local would hold its runs.
  await t.clients.dynamodb.send(new DeleteTableCommand({ TableName: DEPLOYMENT })).catch(() => undefined);

  t.stack.iam.onDecision((d) => {
    const { decision: _d, ...request } = d;
    recorded.set(JSON.stringify(request), request);
  });
  // `osls package` of the project as it is, shared with the other files that read it
  // (test/helpers/packaged.ts), beside the deploy: its roles are compared below.
  packaging = packagedOnce().then((out) => {
    if (out.code !== 0) throw new Error(`osls package failed: ${out.stderr}`);
    return readTemplate(out.dir);
  });
  resolved = await resolvedOnce({ stage: STAGE });
  const service = withFixtures(resolved);
  deployment = await deployLocal(t.stack, { projectDir: PROJECT_DIR, stage: STAGE, service });
  api = await startHttpApi({ port: 0, dataDir: t.dataDir, lambda: t.stack.lambda, now: () => t.stack.clock.now(), routes: deployment.routes });
  packaging.catch(() => undefined); // awaited (and reported) by the test that compares
}, 120_000);

afterAll(async () => {
  await api?.close();
  await t?.stop();
  await slack?.close();
});

/** The full Scheduler schedules of the deployment's group that `pick` selects. */
async function schedulesWhere(pick: (full: GetScheduleCommandOutput) => boolean): Promise<GetScheduleCommandOutput[]> {
  const out: GetScheduleCommandOutput[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.clients.scheduler.send(new ListSchedulesCommand({ GroupName: DEPLOYMENT, NextToken: nextToken }));
    for (const sc of page.Schedules ?? []) {
      const full = await t.clients.scheduler.send(new GetScheduleCommand({ GroupName: DEPLOYMENT, Name: sc.Name! }));
      if (pick(full)) out.push(full);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

/** `POST /schedules/{name}/runs` with an Idempotency-Key. */
async function startWithKey(schedule: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}/schedules/${schedule}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: '{}',
  });
  return { status: res.status, body: await res.json() };
}

const resolvedDefinitions = () => (resolved.custom!.batchron as { jobDefinitions: Record<string, unknown> }).jobDefinitions;
const runsOf = async (schedule: string) => ((await call('GET', `/runs?schedule=${schedule}&limit=100`)).body?.runs ?? []) as { runId: string; status: string }[];

describe('the engine with the template IAM enforced', () => {

  it('runs every engine path as the deployment roles, each request signed with its own keys', async () => {
    // Scheduler fires (fire, sweep) at creation; always-fails retries through a one-time
    // schedule (retry), then fails, runs its cleanup and tells Slack.
    const failed = await eventually(
      async () => {
        t.stack.clock.advance(2_000);
        await t.stack.idle();
        return (await runsOf('always-fails')).find((r) => r.status === 'FAILED');
      },
      'always-fails to fail after its retry',
      90_000,
    );
    await eventually(() => slackMessages().some((m) => m.includes('always-fails')), 'the Slack message');
    const logs = await call('GET', `/runs/${encodeURIComponent(failed.runId)}/logs?task=main`);
    expect(logs.status, JSON.stringify(logs.body)).toBe(200);
    // The API: listing, a dynamic schedule's life, pause/resume, an ad hoc run cancelled, a backfill.
    expect((await call('GET', '/schedules')).status).toBe(200);
    const spec = { expression: 'cron(0 3 * * ? *)', timezone: 'UTC', job: { definition: `${DEPLOYMENT}-hello` } };
    const created = await call('POST', '/schedules', { name: 'iam-dynamic', ...spec });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call('POST', '/schedules/iam-dynamic/pause')).status).toBe(200);
    expect((await call('POST', '/schedules/iam-dynamic/resume')).status).toBe(200);
    expect((await call('DELETE', '/schedules/iam-dynamic')).status).toBe(200);
    // nightly-tokyo's report job runs for 3 s: long enough to be cancelled while it runs.
    const started = await call('POST', '/schedules/nightly-tokyo/runs', {});
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = encodeURIComponent(started.body.runId);
    await eventually(async () => (await call('GET', `/runs/${id}`)).body?.tasks?.[0]?.attempts?.[0]?.jobId, 'the ad hoc job');
    expect((await call('POST', `/runs/${id}/cancel`)).status).toBe(200);
    expect((await call('POST', '/schedules/nightly-tokyo/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' })).status).toBe(201);
    // An S3 upload as AWS publishes it (not through PutEvents): on-upload's rule invokes
    // `trigger`, and its batch window is closed by a one-time schedule that invokes `trigger`
    // with the Scheduler role.
    const upload = JSON.parse(readFileSync(new URL('../../events/s3/object-created.json', import.meta.url), 'utf8')) as EventBridgeEvent;
    t.stack.bus.publish({ ...upload, id: 'iam-upload-1', time: new Date(t.stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    await eventually(
      async () => {
        t.stack.clock.advance(2_000);
        await t.stack.idle();
        return (await runsOf('on-upload')).length > 0;
      },
      'the on-upload run its batch window starts',
      60_000,
    );
    await t.stack.idle();

    const roles = new Set([...recorded.values()].map((r) => r.roleArn.split('/').pop()));
    // One role per function (shared/config/iam.ts), the Scheduler role, the job execution role and the checkpoint example's job role.
    expect(roles).toEqual(
      new Set([...['Fire', 'JobEvents', 'Retry', 'Sweep', 'Api', 'Trigger', 'Scheduler', 'JobExecution'].map((r) => `${DEPLOYMENT}-Batchron${r}Role`), `${DEPLOYMENT}-BatchronJobRoleCheckpoint`]),
    );
  }, 120_000);

  it('drives every path a function role holds a grant for: each definition through each submitter, deferrals past the pacer, lost deferrals and retries, repeated deliveries, refusals for good, a due deadline', async () => {
    const fnArn = (key: string) => deployment.functions.find((f) => f.key === key)!.arn;
    type TaskView = { name: string; status: string; attempts: { jobId?: string }[] };
    const runOf = async (id: string) => {
      const run = (await call('GET', `/runs/${encodeURIComponent(id)}`)).body as { status: string; tasks: TaskView[] };
      return { ...run, task: (name: string) => run.tasks.find((x) => x.name === name) };
    };
    const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);
    const advanceUntil = <T>(check: () => Promise<T | undefined | false>, what: string, stepMs = 2_000) =>
      eventually(
        async () => {
          t.stack.clock.advance(stepMs);
          await t.stack.idle();
          return check();
        },
        what,
        90_000,
      );
    const ended = (schedule: string, count: number) =>
      advanceUntil(async () => {
        const runs = await runsOf(schedule);
        return runs.length >= count && runs.every((r) => TERMINAL.has(r.status)) ? runs : undefined;
      }, `${count} ended run(s) of ${schedule}`);
    const event = (id: string, source = 'batchron.iam-test'): EventBridgeEvent => ({
      version: '0',
      id,
      'detail-type': 'Test',
      source,
      account: t.stack.account,
      time: new Date(t.stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: t.stack.region,
      resources: [],
      detail: {},
    });

    // Every declared definition submitted by fire (at deploy), job-events (after the gate),
    // trigger (an event) and api (an ad hoc run).
    await ended(EVERY, 1);
    expect((await call('POST', `/schedules/${GATED}/runs`, {})).status).toBe(201);
    await ended(GATED, 1);
    t.stack.bus.publish(event('iam-event-1'));
    await ended(ON_EVENT, 1);
    expect((await call('POST', `/schedules/${EVERY}/runs`, {})).status).toBe(201);
    await ended(EVERY, 2);

    // A job waiting for capacity: the API reads its log stream from Batch (DescribeJobs), the
    // sweep describes it, and alerts once it has waited SUBMITTED for over a minute.
    await t.clients.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: DEPLOYMENT, state: 'DISABLED' }));
    onTestFinished(() => t.clients.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: DEPLOYMENT, state: 'ENABLED' })).then(() => undefined));
    const gated = await call('POST', `/schedules/${GATED}/runs`, {});
    expect(gated.status, JSON.stringify(gated.body)).toBe(201);
    const gatedId = gated.body.runId as string;
    // A second one, whose successors' deferrals are lost below and its gate's event delivered again.
    const gatedAgain = await call('POST', `/schedules/${GATED}/runs`, {});
    expect(gatedAgain.status, JSON.stringify(gatedAgain.body)).toBe(201);
    const gatedAgainId = gatedAgain.body.runId as string;
    await eventually(async () => (await runOf(gatedId)).task('gate')?.attempts[0]?.jobId, 'the gate job');
    await eventually(async () => (await runOf(gatedAgainId)).task('gate')?.attempts[0]?.jobId, 'the second gate job');
    const logs = await call('GET', `/runs/${encodeURIComponent(gatedId)}/logs?task=gate`);
    expect(logs.status, JSON.stringify(logs.body)).toBe(200);
    t.stack.clock.advance(90_000);
    await t.stack.lambda.invokeAsync(fnArn('sweep'), {});
    await eventually(() => slackMessages().some((m) => m.includes(`${GATED}* run`) && m.includes('has been SUBMITTED for more than 1 minutes')), 'the stuck alert');

    // The pacer booked ten minutes ahead: every submission now goes to a one-time schedule
    // at its slot, from api (an ad hoc run), trigger (an event), fire (a new dynamic
    // schedule) and job-events (the gate's successors).
    // The sweep runs only when this test invokes it from here on, so that what it repairs is its alone.
    await t.clients.scheduler.send(new DeleteScheduleCommand({ GroupName: DEPLOYMENT, Name: SWEEP_SCHEDULE_NAME }));
    await reserveSubmitSlot({ doc: t.clients.doc, table: DEPLOYMENT }, 1 / 600, t.stack.clock.now());
    await t.clients.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: DEPLOYMENT, state: 'ENABLED' }));
    const deferredAdHoc = await call('POST', `/schedules/${EVERY}/runs`, {});
    expect(deferredAdHoc.status).toBe(201);
    t.stack.bus.publish(event('iam-event-2'));
    const later = await call('POST', '/schedules', { name: 'iam-later', expression: 'rate(1 day)', timezone: 'UTC', job: { definition: `${DEPLOYMENT}-hello` } });
    expect(later.status, JSON.stringify(later.body)).toBe(201);
    await advanceUntil(
      async () => (await Promise.all([gatedId, gatedAgainId].map(async (id) => (await runOf(id)).task('gate')?.status === 'SUCCEEDED'))).every(Boolean),
      'the gates to succeed',
      500,
    );
    const lost = await eventually(async () => (await runsOf(ON_EVENT)).find((r) => !TERMINAL.has(r.status)), 'the second event run');
    await t.stack.idle();

    // A run started ad hoc with an Idempotency-Key (api) and one started by an event
    // (trigger), both deferred too.
    const startAdHoc = () => startWithKey(REDELIVERED, 'iam-redelivered-1');
    const adHocFirst = await startAdHoc();
    expect(adHocFirst.status, JSON.stringify(adHocFirst.body)).toBe(201);
    const adHocId = adHocFirst.body.runId as string;
    t.stack.bus.publish(event('iam-redelivered-event', 'batchron.iam-redelivered'));
    const byEvent = await eventually(async () => (await runsOf(REDELIVERED)).find((r) => r.runId !== adHocId), 'the redelivered schedule\'s event run');
    await t.stack.idle();

    // One-time schedules lost: the trigger run's (only the sweep can submit its tasks), and
    // those of the runs whose deliveries are repeated below (the gate's successors, the
    // ad hoc and event runs above), as a crash after the deferral would leave them.
    const laterRun = await eventually(async () => (await runsOf('iam-later'))[0], 'the iam-later run');
    const deferralsOf = async (runIds: string[]) =>
      (await schedulesWhere((full) => runIds.some((id) => full.Description?.includes(id)))).map((full) => full.Name!);
    const deferrals = await deferralsOf([lost.runId]);
    expect(deferrals.length).toBe(Object.keys(resolvedDefinitions()).length);
    const redelivered = [gatedAgainId, adHocId, byEvent.runId, laterRun.runId];
    const lostToo = await deferralsOf(redelivered);
    expect(lostToo.length).toBe(Object.keys(resolvedDefinitions()).length + 3);
    for (const name of [...deferrals, ...lostToo]) await t.clients.scheduler.send(new DeleteScheduleCommand({ GroupName: DEPLOYMENT, Name: name }));

    // Past the slots: retry submits the deferred tasks, the sweep the lost ones (after a
    // ListJobs lookup, since their lease ran out).
    // No capacity meanwhile, so no quick failure ends a run (and cancels its other tasks)
    // before every task is submitted.
    await t.clients.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: DEPLOYMENT, state: 'DISABLED' }));
    const allSubmitted = async (runId: string) => (await runOf(runId)).tasks.every((x) => x.attempts[0]?.jobId !== undefined);
    const deferredRuns = [deferredAdHoc.body.runId as string, gatedId];
    t.stack.clock.advance(11 * 60_000);
    await advanceUntil(async () => (await Promise.all(deferredRuns.map(allSubmitted))).every(Boolean), 'retry to submit the deferred tasks');
    expect(await allSubmitted(lost.runId)).toBe(false);
    // The deliveries repeated, as Lambda, EventBridge or a client retry them after a crash:
    // the same ad hoc call (api), the same event (trigger), the gate's SUCCEEDED event
    // again (job-events) and iam-later's fire (fire, with the input its Scheduler schedule delivers). Each finds its run's attempts unsubmitted with their lease run out,
    // looks for a job of that name (ListJobs), finds none and submits.
    for (const id of redelivered) expect(await allSubmitted(id)).toBe(false);
    const again = await startAdHoc();
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.runId).toBe(adHocId);
    t.stack.bus.publish(event('iam-redelivered-event', 'batchron.iam-redelivered'));
    const gateJob = (await t.clients.batch.send(new DescribeJobsCommand({ jobs: [(await runOf(gatedAgainId)).task('gate')!.attempts[0]!.jobId!] }))).jobs![0]!;
    const gateEvent = JSON.parse(readFileSync(new URL('../../events/batch/SUCCEEDED.json', import.meta.url), 'utf8')) as EventBridgeEvent;
    t.stack.bus.publish({ ...gateEvent, id: 'iam-gate-again', time: new Date(t.stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), resources: [gateJob.jobArn!], detail: gateJob });
    const [laterSchedule] = await schedulesWhere((full) => full.Target?.Arn === fnArn('fire') && (JSON.parse(full.Target.Input ?? '{}') as { schedule?: string }).schedule === 'iam-later');
    const laterTime = ((await call('GET', `/runs/${encodeURIComponent(laterRun.runId)}`)).body as { scheduledTime: string }).scheduledTime;
    const laterInput = laterSchedule!.Target!.Input!.replaceAll('<aws.scheduler.scheduled-time>', laterTime).replaceAll('<aws.scheduler.execution-id>', 'iam-redelivery');
    await t.stack.lambda.invokeAsync(fnArn('fire'), JSON.parse(laterInput));
    await advanceUntil(async () => (await Promise.all(redelivered.map(allSubmitted))).every(Boolean), 'the repeated deliveries to submit their runs\' tasks');
    await t.stack.lambda.invokeAsync(fnArn('sweep'), {});
    await advanceUntil(() => allSubmitted(lost.runId), 'the sweep to submit the lost run\'s tasks');
    await t.clients.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: DEPLOYMENT, state: 'ENABLED' }));
    await ended(EVERY, 3);
    await ended(GATED, 3);
    await ended('iam-later', 1);
    await ended(ON_EVENT, 2);
    await ended(REDELIVERED, 2);

    // Batch refuses for good (ClientException: the job queue was disabled after the deploy):
    // the task and its run fail, and the function that submitted tells Slack. First
    // retry, at the slot of an ad hoc run deferred past the pacer; then a first submission by
    // api (an ad hoc run), trigger (an event) and fire (the input REDELIVERED's Scheduler
    // schedule delivers, at a fire time of now).
    const slackBefore = slackMessages().length;
    await reserveSubmitSlot({ doc: t.clients.doc, table: DEPLOYMENT }, 1 / 600, t.stack.clock.now());
    const toRetry = await call('POST', `/schedules/${REDELIVERED}/runs`, {});
    expect(toRetry.status, JSON.stringify(toRetry.body)).toBe(201);
    await t.stack.idle();
    expect((await runOf(toRetry.body.runId)).task('only')?.attempts[0]?.jobId).toBeUndefined();
    await t.clients.batch.send(new UpdateJobQueueCommand({ jobQueue: DEPLOYMENT, state: 'DISABLED' }));
    onTestFinished(() => t.clients.batch.send(new UpdateJobQueueCommand({ jobQueue: DEPLOYMENT, state: 'ENABLED' })).then(() => undefined));
    t.stack.clock.advance(11 * 60_000);
    await advanceUntil(async () => (await runOf(toRetry.body.runId)).status === 'FAILED', 'the deferred run to fail at its slot');
    expect((await call('POST', `/schedules/${REDELIVERED}/runs`, {})).status).toBe(201);
    t.stack.bus.publish(event('iam-refused-event', 'batchron.iam-redelivered'));
    const [redeliveredSchedule] = await schedulesWhere((full) => full.Target?.Arn === fnArn('fire') && (JSON.parse(full.Target.Input ?? '{}') as { schedule?: string }).schedule === REDELIVERED);
    const fireTime = new Date(t.stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await t.stack.lambda.invokeAsync(fnArn('fire'), JSON.parse(redeliveredSchedule!.Target!.Input!.replaceAll('<aws.scheduler.scheduled-time>', fireTime).replaceAll('<aws.scheduler.execution-id>', 'iam-refused')));
    const refused = await advanceUntil(async () => {
      const runs = (await runsOf(REDELIVERED)).filter((r) => r.status === 'FAILED');
      return runs.length >= 4 ? runs.length : undefined;
    }, 'four refused runs');
    await eventually(() => slackMessages().slice(slackBefore).filter((m) => m.includes(REDELIVERED)).length >= 4 || undefined, 'a Slack message for each refused run');
    expect(refused).toBe(4);
    await t.clients.batch.send(new UpdateJobQueueCommand({ jobQueue: DEPLOYMENT, state: 'ENABLED' }));

    // Retries past a booked pacer: two always-fails runs fail their first attempt. One
    // retry schedule fires as planned, the other is deleted and, past the grace, the sweep
    // starts that retry itself; each finds its slot beyond its budget and hands the
    // submission to a deferral schedule (passing the Scheduler role): retry, then the sweep.
    const failing = await Promise.all([0, 1].map(() => call('POST', '/schedules/always-fails/runs', {})));
    for (const f of failing) expect(f.status, JSON.stringify(f.body)).toBe(201);
    const [byRetry, bySweep] = failing.map((f) => f.body.runId as string) as [string, string];
    const waitingRetry = async (id: string) => (await runOf(id)).task('main')?.status === 'RETRY_WAIT';
    await advanceUntil(async () => (await waitingRetry(byRetry)) && (await waitingRetry(bySweep)), 'the first attempts to fail', 250);
    const retrySchedules = await schedulesWhere((full) => full.Target?.Arn === fnArn('retry') && (full.Target.Input ?? '').includes(bySweep));
    expect(retrySchedules.length).toBe(1);
    await t.clients.scheduler.send(new DeleteScheduleCommand({ GroupName: DEPLOYMENT, Name: retrySchedules[0]!.Name! }));
    await reserveSubmitSlot({ doc: t.clients.doc, table: DEPLOYMENT }, 1 / 600, t.stack.clock.now());
    const deferralOf = async (runId: string) =>
      (await schedulesWhere((full) => full.Target?.Arn === fnArn('retry') && (full.Description ?? '').includes(`${runId} main attempt 2`))).length > 0 || undefined;
    await advanceUntil(() => deferralOf(byRetry), 'retry to defer its retry', 1_000);
    t.stack.clock.advance(5 * 60_000 + 10_000);
    await t.stack.idle();
    expect(await waitingRetry(bySweep)).toBe(true);
    await t.stack.lambda.invokeAsync(fnArn('sweep'), {});
    await t.stack.idle();
    expect(await eventually(() => deferralOf(bySweep), 'the sweep to defer the overdue retry')).toBe(true);
  }, 240_000);

  it('misses no grant; every statement and resource of every role is needed (template mutation test)', () => {
    // Prepare: the deployment's roles, without this file's fixtures.
    const fixtureArns = new Set(FIXTURE_ROLES.map((id) => `arn:aws:iam::${t.stack.account}:role/${DEPLOYMENT}-${id}`));
    const roles = new Map([...t.stack.iam.rolePolicies()].filter(([arn]) => !fixtureArns.has(arn)));
    // The checkpoint example's read of the Slack webhook is refused by design (its job role's least privilege).
    const intended = (r: RecordedRequest) => r.roleArn.endsWith('-BatchronJobRoleCheckpoint') && r.resource.endsWith(`:parameter/batchron/${STAGE}/slack-webhook`);
    expect([...recorded.values()].some(intended)).toBe(true);
    const requests = [...recorded.values()].filter((r) => !fixtureArns.has(r.roleArn) && !intended(r));
    // Act
    const { missing, dead } = grantCoverage(roles, requests);
    // Assess
    // one role per function (fire, job-events, retry, sweep, api, trigger), the Scheduler role, the job execution role and one job role
    expect(roles.size).toBe(9);
    expect(missing).toEqual([]);
    // No grant is dead, in any role: each is the only reason some recorded request is allowed.
    expect(dead).toEqual([]);
  });
});

describe('requests signed with a deployed role', () => {
  const fireCredentials = () => t.stack.iam.assumeRole(`arn:aws:iam::${t.stack.account}:role/${DEPLOYMENT}-BatchronFireRole`, `${DEPLOYMENT}-fire`);

  it('refuses what the role is not granted, with AWS AccessDeniedException and message', async () => {
    // Prepare: the fire function's own keys.
    const batch = new BatchClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: fireCredentials(), maxAttempts: 1 });
    // Act
    const error = await batch.send(new SubmitJobCommand({ jobName: 'x', jobQueue: 'someone-elses-queue', jobDefinition: `${DEPLOYMENT}-hello` })).catch((e: unknown) => e);
    batch.destroy();
    // Assess
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
      message:
        `User: arn:aws:sts::${t.stack.account}:assumed-role/${DEPLOYMENT}-BatchronFireRole/${DEPLOYMENT}-fire is not authorized to perform: batch:SubmitJob ` +
        `on resource: arn:aws:batch:us-east-1:${t.stack.account}:job-queue/someone-elses-queue because no identity-based policy allows the batch:SubmitJob action`,
    });
  });

  it("answers DynamoDB's AccessDeniedException shape for an operation the role lacks", async () => {
    const dynamodb = new DynamoDBClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: fireCredentials(), maxAttempts: 1 });
    const error = await dynamodb.send(new DeleteTableCommand({ TableName: DEPLOYMENT })).catch((e: unknown) => e);
    dynamodb.destroy();
    expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toMatch(/is not authorized to perform: dynamodb:DeleteTable on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/batchron-iam because/);
  });

  it('refuses a deployed access key signed with any other secret, so no one acts as a role without its secret', async () => {
    const { accessKeyId, sessionToken } = fireCredentials();
    const dynamodb = new DynamoDBClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: { accessKeyId, sessionToken, secretAccessKey: 'guessed' }, maxAttempts: 1 });
    const error = await dynamodb.send(new GetItemCommand({ TableName: DEPLOYMENT, Key: { pk: { S: 'x' }, sk: { S: 'y' } } })).catch((e: unknown) => e);
    dynamodb.destroy();
    expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
  });

  it('allows what the role is granted when the signature is valid', async () => {
    const dynamodb = new DynamoDBClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: fireCredentials(), maxAttempts: 1 });
    const out = await dynamodb.send(new GetItemCommand({ TableName: DEPLOYMENT, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }));
    dynamodb.destroy();
    expect(out.Item).toBeUndefined();
  });
});

describe('Scheduler and its target role', () => {
  it("drops a delivery its role may not make, with the AccessDenied AWS gives, without retrying it", async () => {
    // Prepare
    const fire = t.stack.lambda.arnOf(`${DEPLOYMENT}-fire`);
    // Act: a schedule that fires at creation, with a role that may invoke only the sweep.
    await t.clients.scheduler.send(
      new CreateScheduleCommand({
        Name: 'iam-no-fire',
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: fire, RoleArn: `arn:aws:iam::000000000000:role/${DEPLOYMENT}-FixtureSchedulerRoleWithoutFire`, Input: '{}', RetryPolicy: { MaximumRetryAttempts: 3 } },
      }),
    );
    const line = await eventually(() => stackLog.find((l) => l.includes('iam-no-fire')), 'the dropped delivery');
    // Assess
    expect(line).toContain(
      `dropped after 1 attempt(s): AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role/${DEPLOYMENT}-FixtureSchedulerRoleWithoutFire/iam-no-fire is not authorized to perform: lambda:InvokeFunction on resource: ${fire} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });
});

describe('jobs and their roles', () => {
  it("fails a job whose execution role's log statement is `${LogGroup.Arn}:log-stream:*` with ECS's ResourceInitializationError, before it runs", async () => {
    // Act
    const { jobId } = await t.clients.batch.send(new SubmitJobCommand({ jobName: 'old-role', jobQueue: DEPLOYMENT, jobDefinition: `${DEPLOYMENT}-fixture-old-execution-role` }));
    const job = await eventually(async () => {
      const j = (await t.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs?.[0];
      return j?.status === 'FAILED' ? j : undefined;
    }, 'the job to fail');
    // Assess
    expect(job.statusReason).toMatch(
      /^ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/batchron-iam-FixtureOldExecutionRole\/[0-9a-f]+ is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:000000000000:log-group:\/aws\/batch\/batchron-iam:log-stream:/,
    );
    expect(job.attempts?.[0]?.startedAt).toBeUndefined();
  });

  it("gives a job its job role's credentials and the stack's endpoint, so its own AWS calls are authorized as that role", async () => {
    const { jobId } = await t.clients.batch.send(new SubmitJobCommand({ jobName: 'job-role', jobQueue: DEPLOYMENT, jobDefinition: `${DEPLOYMENT}-fixture-job-role` }));
    const job = await eventually(async () => {
      const j = (await t.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs?.[0];
      return j?.status === 'SUCCEEDED' || j?.status === 'FAILED' ? j : undefined;
    }, 'the job to end');
    const out = t.stack.batch.readLog(jobId!);
    expect(job.status, out).toBe('SUCCEEDED');
    expect(out).toContain('/iam-test/allowed: allowed-value');
    expect(out).toMatch(/\/iam-test\/forbidden: AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/batchron-iam-FixtureJobRole\/[0-9a-f]+ is not authorized to perform: ssm:GetParameter/);
  });
});

describe('the roles enforced', () => {
  it("enforces the packaged template's roles: the same roles with the same policy documents as `osls package` writes", async () => {
    const packaged = await packaging;
    // The functions' role is generated by osls at package time; the local deploy rebuilds it (local/iam/template.ts).
    const roles = (resources: Record<string, { Type: string; Properties: Record<string, any> }>) =>
      Object.fromEntries(
        Object.entries(resources)
          .filter(([, r]) => r.Type === 'AWS::IAM::Role')
          .map(([id, r]) => [id, ((r.Properties.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument)]),
      );
    const policies = (resources: Record<string, { Type: string; Properties: Record<string, any> }>) =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        .map(([id, r]) => [id, r.Properties.PolicyDocument, r.Properties.Roles]);
    // The packaging is of the default stage (shared with the package tests), so the local
    // template is built for that stage too: the same generator (local/iam/template.ts) makes
    // the roles this file's deployment enforces for its own stage.
    const packagedStage = 'dev';
    const local = templateResources(await resolvedOnce({ stage: packagedStage }), { stage: packagedStage, region: t.stack.region }).resources as Record<
      string,
      { Type: string; Properties: Record<string, any> }
    >;
    expect(Object.keys(roles(packaged.Resources)).length).toBeGreaterThan(0);
    expect(roles(local)).toEqual(roles(packaged.Resources));
    expect(policies(local)).toEqual(policies(packaged.Resources));
  }, 180_000);
});
