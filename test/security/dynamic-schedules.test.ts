/**
 * What an API caller can do with dynamic schedules, tried against the real HTTP API on a
 * local stack (issue 16: ReDoS, command override, reserved names). Each test is an attack
 * that succeeded before: the pattern held the API (and the whole stack) for ~30 s, the
 * override was accepted and run, the retry schedule's name was claimed.
 */
import { DescribeJobDefinitionsCommand, DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferralScheduleName, retryScheduleName, runIdFor } from '#shared/engine/naming';
import { startApiStack, type ApiStack } from '#test/helpers/api-stack';

let s: ApiStack;

beforeAll(async () => {
  s = await startApiStack('batchron-api-security');
});

afterAll(async () => {
  await s?.stop();
});

const job = { definition: 'batchron-dev-hello' };
// Far from now, so no schedule created here fires during the test.
const expression = 'cron(0 3 1 1 ? 2099)';
// The documented limits (docs/api.md): patterns up to 512 characters, values up to 4096.
const PATTERN_MAX_LENGTH = 512;
const PARAMETER_VALUE_MAX_LENGTH = 4096;
const HOSTILE = `${'a'.repeat(30)}!`;

/** The wall-clock time of one call: bounded at 5 s, where the backtracking engine took ~30 s for this input (and doubles per character). */
async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

describe('parameter patterns cannot hang the API (ReDoS)', () => {
  it('checks a default against (a+)+$ in milliseconds and refuses it, naming the field', async () => {
    const { result: res, ms } = await timed(() =>
      s.call('POST', '/schedules', { name: 'redos-default', expression, parameters: { x: { pattern: '(a+)+$', default: HOSTILE } }, job }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'body.parameters.x.default', message: expect.stringContaining('does not match its pattern /(a+)+$/') }]);
    expect(ms).toBeLessThan(5000);
  });

  it('checks a run parameter against (a+)+$ in milliseconds and refuses it', async () => {
    const created = await s.call('POST', '/schedules', { name: 'redos-param', expression, parameters: { x: { pattern: '(a+)+$' } }, job });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { result: res, ms } = await timed(() => s.call('POST', '/schedules/redos-param/runs', { parameters: { x: HOSTILE } }));
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'body.parameters.x', message: expect.stringContaining('does not match the pattern') }]);
    expect(ms).toBeLessThan(5000);
    await s.call('DELETE', '/schedules/redos-param');
  });

  it.each([
    ['a lookahead', '(?=a)a', 'not a valid RE2 regular expression'],
    ['a backreference', '(a)\\1', 'not a valid RE2 regular expression'],
    ['a pattern over the length limit', 'a'.repeat(PATTERN_MAX_LENGTH + 1), `must be at most ${PATTERN_MAX_LENGTH} characters`],
  ])('refuses %s with 400 naming the pattern', async (_what, pattern, message) => {
    const res = await s.call('POST', '/schedules', { name: 'bad-pattern', expression, parameters: { x: { pattern } }, job });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'body.parameters.x.pattern', message: expect.stringContaining(message) }]);
  });

  it('refuses a run parameter value over the length limit', async () => {
    const res = await s.call('POST', '/schedules/etl-dag/runs', { parameters: { day: '1'.repeat(PARAMETER_VALUE_MAX_LENGTH + 1) } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'body.parameters.day', message: `must be at most ${PARAMETER_VALUE_MAX_LENGTH} characters (got ${PARAMETER_VALUE_MAX_LENGTH + 1})` }]);
  });
});

describe("API callers cannot replace a job definition's command", () => {
  it.each([
    ['job.command', { job: { ...job, command: ['sh', '-c', 'id > /tmp/batchron-pwned'] } }],
    ['tasks.main.command', { tasks: { main: { ...job, command: ['sh', '-c', 'id'] } } }],
    ['onFailure.cleanup.command', { job, onFailure: { cleanup: { ...job, command: ['sh', '-c', 'id'] } } }],
  ])('refuses %s with 400 and creates nothing', async (field, what) => {
    const res = await s.call('POST', '/schedules', { name: 'override', expression, ...what });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toContainEqual({ path: `body.${field}`, message: expect.stringContaining("a dynamic schedule cannot override the job definition's command") });
    expect((await s.call('GET', '/schedules/override')).status).toBe(404);
  });

  it('refuses environment variables that change what the process runs (LD_PRELOAD, NODE_OPTIONS)', async () => {
    const res = await s.call('POST', '/schedules', {
      name: 'override-env',
      expression,
      job: { ...job, environment: { LD_PRELOAD: '/tmp/x.so', NODE_OPTIONS: '--require /tmp/x.js', DAY: 'ok' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.job.environment.LD_PRELOAD', 'body.job.environment.NODE_OPTIONS']);
  });

  it('refuses the override on PUT too, and keeps the schedule as it was', async () => {
    expect((await s.call('POST', '/schedules', { name: 'override-put', expression, job })).status).toBe(201);
    const res = await s.call('PUT', '/schedules/override-put', { expression, job: { ...job, command: ['sh', '-c', 'id'] } });
    expect(res.status).toBe(400);
    const shown = await s.call('GET', '/schedules/override-put');
    expect(shown.body.tasks[0]).toMatchObject({ command: ['sh', 'jobs/hello.sh'], commandFrom: 'jobDefinition' });
    await s.call('DELETE', '/schedules/override-put');
  });

  it('shows the command every schedule runs, from its job definition', async () => {
    const list = await s.call('GET', '/schedules');
    const everyMinute = list.body.schedules.find((x: { name: string }) => x.name === 'every-minute');
    expect(everyMinute.tasks).toEqual([expect.objectContaining({ name: 'main', command: ['sh', 'jobs/hello.sh'], commandFrom: 'jobDefinition' })]);
    const etl = await s.call('GET', '/schedules/etl-dag');
    for (const task of etl.body.tasks) expect(task).toMatchObject({ command: ['sh', 'jobs/etl.sh'], commandFrom: 'jobDefinition' });
  });
});

describe("API callers cannot claim the names of Batchron's own schedules", () => {
  // The names the engine will give the retry of a predictable run, and a deferred submission.
  const runId = runIdFor({ schedule: 'flaky', scheduledTime: '2026-12-01T00:00:00Z' });
  it.each([
    ['the retry schedule of attempt 2', retryScheduleName('batchron-dev', runId, 'main', 2)],
    ['a deferral schedule', deferralScheduleName('batchron-dev', runId, 'main', 1, 1)],
    ['the sweeper', '_sweep'],
  ])('refuses a dynamic schedule named like %s', async (_what, name) => {
    const res = await s.call('POST', '/schedules', { name, expression, job });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: 'body.name', message: expect.stringContaining("reserved for Batchron's own schedules") }]);
  });
});

describe('dynamic schedules are checked against Batch (issue 10)', () => {
  it.each([
    ['a job definition that does not exist', { job: { definition: 'nope' } }, 'body.job.definition', 'job definition "nope" does not exist'],
    ['one in a task', { tasks: { main: { definition: 'nope' } } }, 'body.tasks.main.definition', 'job definition "nope" does not exist'],
    ['a queue that does not exist', { job: { ...job, queue: 'no-such-queue' } }, 'body.job.queue', 'job queue "no-such-queue" does not exist'],
    ['vcpus Fargate does not take', { job: { ...job, vcpus: 0.3 } }, 'body.job.vcpus', 'Fargate takes vcpus 0.25, 0.5, 1, 2, 4, 8, 16 (got 0.3)'],
    ['memory Fargate does not take with the definition\'s vcpus', { job: { ...job, memory: 4096 } }, 'body.job.memory', 'Fargate with 0.25 vCPU takes 512, 1024, 2048 MiB of memory (got 4096)'],
  ])('refuses %s with 400 naming the field', async (_what, spec, path, message) => {
    const res = await s.call('POST', '/schedules', { name: 'dyn-refs', expression, ...spec });
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path, message: expect.stringContaining(message) }]);
    expect((await s.call('GET', '/schedules/dyn-refs')).status).toBe(404);
  });

  it('accepts a job definition by ARN (no revision) and a queue by ARN when they exist', async () => {
    const out = await s.t.clients.batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'batchron-dev-hello', status: 'ACTIVE' }));
    const arn = out.jobDefinitions![0]!.jobDefinitionArn!.replace(/:\d+$/, '');
    const queues = await s.t.clients.batch.send(new DescribeJobQueuesCommand({}));
    const queue = queues.jobQueues![0]!.jobQueueArn!;
    const res = await s.call('POST', '/schedules', { name: 'dyn-arn', expression, job: { definition: arn, queue, vcpus: 0.5, memory: 1024 } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.tasks[0]).toMatchObject({ jobDefinition: arn, jobQueue: queue, command: ['sh', 'jobs/hello.sh'] });
    await s.call('DELETE', '/schedules/dyn-arn');
  });
});
