import { describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/errors';
import {
  deploymentContext,
  normalizeConfig,
  normalizeSchedule,
  parseConfig,
  schedulerTargetInput,
  SCHEDULER_INPUT_LIMIT,
} from '#shared/config/validate';
import { FireInputSchema, ScheduleDefinitionSchema } from '#shared/config/definition';
import { configWarnings } from '#shared/config/warnings';

const ctx = deploymentContext('batchron-dev');

/** A valid config with one declared job definition; `schedules` replaces the schedules. */
function config(schedules: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jobDefinitions: {
      extract: { image: 'alpine', command: ['sh', 'jobs/etl.sh'] },
      load: { image: 'alpine', command: ['sh', 'jobs/etl.sh'], vcpus: 1, memory: 2048 },
    },
    schedules,
    ...extra,
  };
}

const job = { definition: 'extract' };

/** The ConfigError's problem lines for `raw`. */
function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected parseConfig to throw');
}

/** A config whose only job definition is `spec` (on top of a minimal valid one), used by a schedule. */
function withDefinition(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { jobDefinitions: { d: { image: 'alpine', command: ['true'], ...spec } }, schedules: { x: { expression: 'rate(1 hour)', job: { definition: 'd' } } }, ...extra };
}

/** Bad job-definition fields (role, secrets, platform, gpus, architecture, ephemeral storage), each named in its message. */
function jobDefinitionCases(): [string, Record<string, unknown>, string][] {
  return [
    ['an unknown platform', withDefinition({ platform: 'lambda' }), 'jobDefinitions.d.platform: must be one of "fargate", "fargate-spot", "ec2", "ec2-spot" (got "lambda")'],
    ['GPUs on Fargate', withDefinition({ gpus: 1 }), 'jobDefinitions.d.gpus: Fargate has no GPUs; use platform ec2 or ec2-spot (got platform fargate)'],
    [
      'GPUs on instance types without GPUs',
      withDefinition({ platform: 'ec2-spot', gpus: 1, vcpus: 4, memory: 8192 }),
      'compute.ec2Spot.instanceTypes: jobDefinitions.d needs GPUs, but optimal has no GPU instances; list GPU types such as "g5.xlarge" or "g4dn"',
    ],
    ['zero GPUs', withDefinition({ platform: 'ec2', gpus: 0, vcpus: 1, memory: 2048 }), 'jobDefinitions.d.gpus: must be between 1 and 16 (got 0)'],
    ['fractional vCPUs on EC2', withDefinition({ platform: 'ec2', vcpus: 0.5, memory: 1024 }), 'jobDefinitions.d.vcpus: EC2 jobs take whole vCPUs (got 0.5)'],
    ['an unknown architecture', withDefinition({ architecture: 'arm' }), 'jobDefinitions.d.architecture: must be one of "x86_64", "arm64" (got "arm")'],
    ['arm64 on Fargate Spot', withDefinition({ platform: 'fargate-spot', architecture: 'arm64' }), 'jobDefinitions.d.architecture: Fargate Spot runs x86_64 only; use platform fargate for arm64'],
    [
      'an architecture on EC2',
      withDefinition({ platform: 'ec2', architecture: 'arm64', vcpus: 1, memory: 2048 }),
      'jobDefinitions.d.architecture: applies to Fargate only; on EC2 the instance types (compute.ec2.instanceTypes) decide',
    ],
    ['too little ephemeral storage', withDefinition({ ephemeralStorageGiB: 20 }), 'jobDefinitions.d.ephemeralStorageGiB: must be between 21 and 200 (got 20)'],
    [
      'ephemeral storage on EC2',
      withDefinition({ platform: 'ec2', ephemeralStorageGiB: 50, vcpus: 1, memory: 2048 }),
      'jobDefinitions.d.ephemeralStorageGiB: applies to Fargate only; EC2 jobs use the instance\'s storage',
    ],
    [
      'a secret with neither source',
      withDefinition({ secrets: { TOKEN: { vault: 'x' } } }),
      'jobDefinitions.d.secrets.TOKEN: must be { ssm: <parameter name> } or { secretsManager: <secret name>, key: <optional JSON key> } (got {"vault":"x"})',
    ],
    ['a secret with a bad variable name', withDefinition({ secrets: { 'MY-TOKEN': { ssm: '/a/b' } } }), 'jobDefinitions.d.secrets.MY-TOKEN: environment variable names use letters, digits and "_", starting with a letter or "_"'],
    [
      'a secret that is also a plain variable',
      withDefinition({ environment: { TOKEN: 'x' }, secrets: { TOKEN: { ssm: '/a/b' } } }),
      'jobDefinitions.d.secrets.TOKEN: is also in environment; a variable comes from one or the other',
    ],
    [
      'a role that is neither an ARN nor statements',
      withDefinition({ role: 'my-role' }),
      'jobDefinitions.d.role: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) (got "my-role")',
    ],
    [
      'a role statement without resources',
      withDefinition({ role: { statements: [{ Effect: 'Allow', Action: 's3:GetObject' }] } }),
      'jobDefinitions.d.role.statements[0]: needs exactly one of Resource or NotResource (name the resources the job uses)',
    ],
    [
      'a role statement with a bad Effect',
      withDefinition({ role: { statements: [{ Effect: 'Permit', Action: 's3:GetObject', Resource: '*' }] } }),
      'jobDefinitions.d.role.statements[0].Effect: must be one of "Allow", "Deny" (got "Permit")',
    ],
    [
      'an unknown Spot allocation strategy',
      withDefinition({}, { compute: { ec2Spot: { allocationStrategy: 'LOWEST_PRICE' } } }),
      'compute.ec2Spot.allocationStrategy: must be one of "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED" (got "LOWEST_PRICE")',
    ],
  ];
}

describe('parseConfig rejects bad schedules, each with its own message', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a five-field cron',
      config({ 'nightly-etl': { expression: 'cron(0 2 * * *)', job } }),
      'schedules.nightly-etl.expression: cron(0 2 * * *) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5',
    ],
    [
      'a rate with a singular unit',
      config({ x: { expression: 'rate(5 minute)', job } }),
      'schedules.x.expression: rate(5 minute): a value above 1 takes the plural unit (rate(5 minutes))',
    ],
    [
      'an unknown time zone',
      config({ 'nightly-etl': { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Tokio', job } }),
      'schedules.nightly-etl.timezone: unknown time zone "Asia/Tokio" (use an IANA name such as "Asia/Tokyo")',
    ],
    [
      'an unknown default time zone',
      config({ x: { expression: 'rate(1 hour)', job } }, { defaults: { timezone: 'Europe/Berln' } }),
      'defaults.timezone: unknown time zone "Europe/Berln" (use an IANA name such as "Europe/Berlin")',
    ],
    [
      'a dependsOn cycle',
      config({
        etl: {
          expression: 'rate(1 hour)',
          tasks: { a: { definition: 'extract', dependsOn: ['b'] }, b: { definition: 'extract', dependsOn: ['a'] } },
        },
      }),
      'schedules.etl.tasks: dependsOn forms a cycle: a -> b -> a',
    ],
    [
      'a task depending on itself',
      config({ etl: { expression: 'rate(1 hour)', tasks: { a: { definition: 'extract', dependsOn: ['a'] } } } }),
      'schedules.etl.tasks: dependsOn forms a cycle: a -> a',
    ],
    [
      'an unknown task in dependsOn',
      config({
        etl: {
          expression: 'rate(1 hour)',
          tasks: {
            extract: { definition: 'extract' },
            transform: { definition: 'extract', dependsOn: ['extract'] },
            load: { definition: 'load', dependsOn: ['extrct'] },
          },
        },
      }),
      'schedules.etl.tasks.load.dependsOn: unknown task "extrct" (tasks: extract, transform, load); did you mean "extract"?',
    ],
    [
      'negative attempts',
      config({ x: { expression: 'rate(1 hour)', retry: { attempts: -1 }, job } }),
      'schedules.x.retry.attempts: must be between 1 and 10 (got -1)',
    ],
    [
      'too many attempts on a task',
      config({ x: { expression: 'rate(1 hour)', job: { ...job, retry: { attempts: 11 } } } }),
      'schedules.x.job.retry.attempts: must be between 1 and 10 (got 11)',
    ],
    [
      'both job and tasks',
      config({ x: { expression: 'rate(1 hour)', job, tasks: { a: job } } }),
      'schedules.x: declare either job (a single task) or tasks (several), not both',
    ],
    ['neither job nor tasks', config({ x: { expression: 'rate(1 hour)' } }), 'schedules.x: needs job (a single task) or tasks (several with dependsOn)'],
    [
      'a single job with dependsOn',
      config({ x: { expression: 'rate(1 hour)', job: { ...job, dependsOn: ['other'] } } }),
      'schedules.x.job.dependsOn: a single job has nothing to depend on; declare tasks to have several',
    ],
    [
      'an on-failure task with dependsOn',
      config({ x: { expression: 'rate(1 hour)', job, onFailure: { cleanup: { definition: 'extract', dependsOn: ['main'] } } } }),
      'schedules.x.onFailure.cleanup.dependsOn: on-failure tasks all start when the run fails and cannot depend on other tasks; remove dependsOn',
    ],
    [
      'startDate after endDate',
      config({ x: { expression: 'rate(1 hour)', startDate: '2026-03-01T00:00:00Z', endDate: '2026-02-01T00:00:00Z', job } }),
      'schedules.x.endDate: must be after startDate (startDate 2026-03-01T00:00:00Z, got 2026-02-01T00:00:00Z)',
    ],
    [
      'a date without a zone',
      config({ x: { expression: 'rate(1 hour)', startDate: '2026-03-01 00:00', job } }),
      'schedules.x.startDate: must be an ISO-8601 date-time with a zone, e.g. "2026-01-31T02:00:00Z" or "2026-01-31T02:00:00+09:00" (got "2026-03-01 00:00")',
    ],
    [
      'a typo of a declared job definition',
      config({ x: { expression: 'rate(1 hour)', job: { definition: 'extrac' } } }),
      'schedules.x.job.definition: unknown job definition "extrac" (declared: extract, load); did you mean "extract"?',
    ],
    [
      'a job definition pinned to a revision',
      config({ x: { expression: 'rate(1 hour)', job: { definition: 'shared-etl:3' } } }),
      'schedules.x.job.definition: "shared-etl:3" pins revision 3; use "shared-etl" so the revision a deploy registers is used',
    ],
    [
      'a parameter with a bad regular expression',
      config({ x: { expression: 'rate(1 hour)', parameters: { day: { pattern: '([0-9' } }, job } }),
      'schedules.x.parameters.day.pattern: not a valid RE2 regular expression: missing closing ]: `[0-9` (RE2 syntax: no backreferences or lookaround; repeat counts up to 1000) (got "([0-9")',
    ],
    [
      'a parameter default that does not match its pattern',
      config({ x: { expression: 'rate(1 hour)', parameters: { day: { pattern: '\\d{4}', default: 'today' } }, job } }),
      'schedules.x.parameters.day.default: "today" does not match its pattern /\\d{4}/',
    ],
    [
      'a task using an undeclared run parameter',
      config({ x: { expression: 'rate(1 hour)', parameters: { day: {} }, job: { ...job, environment: { DAY: '${param.dya}' } } } }),
      'schedules.x.job.environment.DAY: uses ${param.dya}, which is not declared (parameters: day)',
    ],
    [
      'an unknown overlap policy',
      config({ x: { expression: 'rate(1 hour)', overlap: 'never', job } }),
      'schedules.x.overlap: must be one of "allow", "skip", "queue-one", "cancel-previous" (got "never")',
    ],
    [
      'an unknown catch-up mode',
      config({ x: { expression: 'rate(1 hour)', catchUp: { mode: 'later', window: 30 }, job } }),
      'schedules.x.catchUp.mode: must be one of "run", "alert", "skip" (got "later")',
    ],
    [
      'a catch-up window beyond a day',
      config({ x: { expression: 'rate(1 hour)', catchUp: { mode: 'run', window: 2000 }, job } }),
      'schedules.x.catchUp.window: must be between 1 and 1440 (got 2000)',
    ],
    [
      'a misspelt field',
      config({ x: { expresion: 'rate(1 hour)', job } }),
      'schedules.x: unknown field "expresion" (did you mean "expression"? allowed: description, expression, on, timezone, startDate, endDate, enabled, flexibleWindowMinutes, overlap, parameters, job, tasks, onFailure, retry, notify, tags, catchUp, after, logicalDate, wait, deadline)',
    ],
    [
      'after naming an unknown schedule (a typo)',
      config({ a: { expression: 'rate(1 hour)', job }, 'etl-orders': { expression: 'rate(1 hour)', job }, x: { after: [{ schedule: 'etl-order' }], job } }),
      'schedules.x.after[0].schedule: no schedule named "etl-order"; did you mean "etl-orders"?',
    ],
    [
      'after naming an unknown schedule',
      config({ a: { expression: 'rate(1 hour)', job }, x: { after: [{ schedule: 'reports' }], job } }),
      'schedules.x.after[0].schedule: no schedule named "reports" (schedules: a, x)',
    ],
    [
      'after with a status runs never end in',
      config({ a: { expression: 'rate(1 hour)', job }, x: { after: [{ schedule: 'a', status: 'DONE' }], job } }),
      'schedules.x.after[0].status: must be one of "SUCCEEDED", "FAILED", "COMPLETED" (got "DONE")',
    ],
    [
      'a schedule waiting for itself',
      config({ x: { expression: 'rate(1 hour)', after: [{ schedule: 'x' }], job } }),
      'schedules.x.after[0].schedule: a schedule cannot wait for itself ("x")',
    ],
    [
      'a dependency cycle across schedules',
      config({ a: { after: [{ schedule: 'c' }], job }, b: { after: [{ schedule: 'a' }], job }, c: { after: [{ schedule: 'b' }], job } }),
      'schedules: after forms a cycle (a → b → c → a, each waiting for the one before it); a schedule cannot wait, directly or through others, for itself',
    ],
    [
      'a wait limit that is not a duration',
      config({ a: { expression: 'rate(1 hour)', job }, x: { after: [{ schedule: 'a' }], wait: { within: '3 hours' }, job } }),
      'schedules.x.wait.within: must be a duration such as "90m", "3h" or "1h30m" (got "3 hours")',
    ],
    [
      'a wait limit beyond a week',
      config({ a: { expression: 'rate(1 hour)', job }, x: { after: [{ schedule: 'a' }], wait: { within: '170h' }, job } }),
      'schedules.x.wait.within: must be between 1m and 168h, a week (got "170h")',
    ],
    [
      'wait without after',
      config({ x: { expression: 'rate(1 hour)', wait: { within: '3h' }, job } }),
      'schedules.x.wait: applies only with after (the upstream schedules a run waits for); declare after or remove wait',
    ],
    [
      'after together with event triggers',
      config({ a: { expression: 'rate(1 hour)', job }, x: { on: [{ event: { source: ['my.app'] } }], after: [{ schedule: 'a' }], job } }),
      'schedules.x.after: a schedule with event triggers (on) cannot also wait for other schedules; use a separate schedule for each',
    ],
    ['a missing expression (and no event triggers)', config({ x: { job } }), 'schedules.x: needs expression (cron, rate or at), event triggers (on), upstream schedules (after), or a combination'],
    [
      'a schedule name Scheduler refuses',
      config({ 'nightly etl': { expression: 'rate(1 hour)', job } }),
      'schedules.nightly etl: invalid name "nightly etl" (use 1-64 letters, digits, "-", "_" or "." (starting with a letter or digit))',
    ],
    [
      'a memory size Fargate does not offer',
      config({ x: { expression: 'rate(1 hour)', job: { definition: 'load', memory: 1024 } } }),
      'schedules.x.job.memory: Fargate with 1 vCPU takes 2048-8192 in steps of 1024 MiB of memory (got 1024)',
    ],
    [
      'names that make Batch job names too long',
      config({ ['s'.repeat(60)]: { expression: 'rate(1 hour)', tasks: { ['t'.repeat(40)]: job } } }),
      `schedules.${'s'.repeat(60)}.tasks.${'t'.repeat(40)}: Batch job names "batchron-dev-${'s'.repeat(60)}-${'t'.repeat(40)}-<run>-<attempt>" would exceed Batch's 128 characters; deployment, schedule and task names together must stay within 88 (got 114); shorten the schedule or task name`,
    ],
    [
      'a backoff cap below its first delay',
      config({ x: { expression: 'rate(1 hour)', retry: { attempts: 3, backoff: { initialSeconds: 600, maxSeconds: 60 } }, job } }),
      'schedules.x.retry.backoff.maxSeconds: must be at least initialSeconds (600) (got 60)',
    ],
    [
      'a flexible window beyond a day',
      config({ x: { expression: 'rate(1 hour)', flexibleWindowMinutes: 2000, job } }),
      'schedules.x.flexibleWindowMinutes: must be between 1 and 1440 (got 2000)',
    ],
    [
      'a SubmitJob rate of zero',
      { ...config({ x: { expression: 'rate(1 hour)', job } }), submitRate: 0 },
      'submitRate: must be more than 0 (got 0)',
    ],
    ...jobDefinitionCases(),
  ];

  it.each(cases)('rejects %s', (_, raw, message) => {
    // Act
    const problems = problemsOf(raw);
    // Assess
    expect(problems).toContain(message);
  });

  it('lists every problem of a file in one error, one per line', () => {
    // Prepare
    const raw = config({
      a: { expression: 'cron(0 2 * * *)', job },
      b: { expression: 'rate(1 hour)', timezone: 'Mars/Olympus', job },
    });
    // Act
    let message = '';
    try {
      parseConfig(raw, ctx);
    } catch (error) {
      message = (error as Error).message;
    }
    // Assess
    expect(message.split('\n')).toEqual([
      'Invalid custom.batchron (2 problems):',
      '  - schedules.a.expression: cron(0 2 * * *) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5',
      expect.stringMatching(/^ {2}- schedules\.b\.timezone: unknown time zone "Mars\/Olympus" \(use an IANA name such as "/),
    ]);
  });

  it('refuses a schedule whose Scheduler input would exceed the 8192-character limit', () => {
    // Prepare: 40 tasks, each carrying its full retry policy in the input
    const tasks = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`task-${i}`, { definition: 'extract' }]));
    // Act
    const problems = problemsOf(config({ big: { expression: 'rate(1 hour)', tasks } }));
    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(`^schedules\\.big: its Scheduler target input would be \\d+ characters, over EventBridge Scheduler's ${SCHEDULER_INPUT_LIMIT};`),
      ),
    ]);
  });

  it('reports a missing custom.batchron block', () => {
    expect(() => parseConfig(undefined)).toThrow(/custom\.batchron: is missing/);
  });
});

describe('normalizeSchedule', () => {
  it('orders a fan-out / fan-in DAG topologically, keeping declaration order among independent tasks', () => {
    // Prepare: declared out of order on purpose
    const parsed = parseConfig(
      config({
        etl: {
          expression: 'cron(0 2 * * ? *)',
          tasks: {
            load: { definition: 'load', dependsOn: ['orders', 'customers'] },
            orders: { definition: 'extract', dependsOn: ['extract'] },
            customers: { definition: 'extract', dependsOn: ['extract'] },
            extract: { definition: 'extract' },
          },
        },
      }),
      ctx,
    );
    // Act
    const def = normalizeSchedule('etl', parsed.schedules.etl!, parsed, ctx);
    // Assess
    expect(def.tasks.map((t) => [t.name, t.dependsOn])).toEqual([
      ['extract', []],
      ['orders', ['extract']],
      ['customers', ['extract']],
      ['load', ['orders', 'customers']],
    ]);
  });

  it('applies config defaults, then built-ins, and lets a task override its schedule', () => {
    // Prepare
    const parsed = parseConfig(
      config(
        {
          nightly: {
            expression: 'cron(0 2 * * ? *)',
            retry: { backoff: { initialSeconds: 5 } },
            job: { definition: 'extract', retry: { attempts: 5, retryOn: { exitCodes: [3] } }, timeoutSeconds: 120 },
            onFailure: { cleanup: { definition: 'load', queue: 'other-queue' } },
          },
        },
        {
          defaults: { timezone: 'Asia/Tokyo', overlap: 'skip', queue: 'shared-queue', retry: { attempts: 3, backoff: { maxSeconds: 600 } } },
          sweep: { stuckAfterMinutes: { queued: 10, submitted: 20, running: 30 } },
        },
      ),
      ctx,
    );
    // Act
    const def = normalizeSchedule('nightly', parsed.schedules.nightly!, parsed, ctx);
    // Assess
    expect(def).toMatchObject({
      name: 'nightly',
      timezone: 'Asia/Tokyo',
      overlap: 'skip',
      parameters: {},
      tags: {},
      notify: { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 10, submitted: 20, running: 30 } },
    });
    expect(def.tasks).toEqual([
      {
        name: 'main',
        jobDefinition: 'batchron-dev-extract',
        jobQueue: 'shared-queue',
        timeoutSeconds: 120,
        dependsOn: [],
        retry: {
          attempts: 5,
          backoff: { initialSeconds: 5, multiplier: 2, maxSeconds: 600, jitter: 'full' },
          retryOn: { exitCodes: [3], statusReasons: expect.arrayContaining(['Host EC2*']), timeouts: false },
        },
      },
    ]);
    expect(def.onFailure).toEqual([
      expect.objectContaining({ name: 'cleanup', jobDefinition: 'batchron-dev-load', jobQueue: 'other-queue', dependsOn: [] }),
    ]);
    expect(def.onFailure[0]!.retry.attempts).toBe(3);
  });

  it('uses UTC, allow and the deployment queue when nothing is declared', () => {
    // Prepare
    const parsed = parseConfig(config({ x: { expression: 'rate(5 minutes)', job } }), ctx);
    // Act
    const defs = normalizeConfig(parsed, ctx);
    // Assess
    expect(defs.x).toMatchObject({ timezone: 'UTC', overlap: 'allow', tasks: [{ jobQueue: 'batchron-dev', retry: { attempts: 1 } }] });
    expect(ScheduleDefinitionSchema.safeParse(defs.x).success).toBe(true);
  });

  it('runs a declared definition off Fargate on its platform queue unless the task names one', () => {
    // Prepare
    const raw = withDefinition({ platform: 'ec2-spot', gpus: 1, vcpus: 4, memory: 8192 }, { compute: { ec2Spot: { instanceTypes: ['g5.xlarge'] } } });
    (raw.schedules as Record<string, unknown>).y = { expression: 'rate(1 hour)', job: { definition: 'd', queue: 'mine' } };
    const parsed = parseConfig(raw, ctx);
    // Act
    const defs = normalizeConfig(parsed, ctx);
    // Assess
    expect(defs.x!.tasks[0]!.jobQueue).toBe('batchron-dev_ec2-spot');
    expect(defs.y!.tasks[0]!.jobQueue).toBe('mine');
  });

  it('refuses a deployment name with "_" (generated names use it as the separator)', () => {
    expect(() => parseConfig(config({ x: { expression: 'rate(1 hour)', job } }), deploymentContext('batchron_dev'))).toThrow(
      'custom.deployment: must use letters, digits and "-" only, as osls service and stage names do (got "batchron_dev")',
    );
  });

  it('keeps a job definition ARN and an existing definition name as they are', () => {
    // Prepare
    const arn = 'arn:aws:batch:eu-west-1:123456789012:job-definition/shared-report';
    const parsed = parseConfig(config({ x: { expression: 'rate(1 hour)', tasks: { a: { definition: arn }, b: { definition: 'team-exporter' } } } }), ctx);
    // Act
    const def = normalizeSchedule('x', parsed.schedules.x!, parsed, ctx);
    // Assess
    expect(def.tasks.map((t) => t.jobDefinition)).toEqual([arn, 'team-exporter']);
  });

  it('builds a Scheduler input that fire parses once Scheduler substitutes its placeholders', () => {
    // Prepare
    const parsed = parseConfig(config({ x: { expression: 'rate(1 hour)', job } }), ctx);
    const def = normalizeSchedule('x', parsed.schedules.x!, parsed, ctx);
    // Act
    const input = schedulerTargetInput(def);
    const delivered = JSON.parse(
      input.replace('<aws.scheduler.scheduled-time>', '2026-01-01T02:00:00Z').replace('<aws.scheduler.execution-id>', 'exec-1'),
    ) as unknown;
    // Assess
    expect(JSON.parse(input)).toMatchObject({ schedule: 'x', scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(FireInputSchema.parse(delivered)).toMatchObject({ schedule: 'x', scheduledTime: '2026-01-01T02:00:00Z', definition: def, trigger: 'schedule' });
  });

  it('links each upstream to what waits for it: dependents by status, and every downstream definition once (a diamond)', () => {
    // Prepare: a → b, a → c (on failure), b and c → d.
    const parsed = parseConfig(
      config({
        a: { expression: 'rate(1 hour)', job },
        b: { after: [{ schedule: 'a' }], job },
        c: { after: [{ schedule: 'a', status: 'FAILED' }], job },
        d: { expression: 'cron(0 5 * * ? *)', after: [{ schedule: 'b' }, { schedule: 'c', status: 'COMPLETED' }], wait: { within: '26h30m', onExpiry: 'skip' }, logicalDate: { offsetDays: -1 }, job },
      }),
      ctx,
    );
    // Act
    const defs = normalizeConfig(parsed, ctx);
    // Assess
    expect(defs.a!.dependents).toEqual([
      { schedule: 'b', status: 'SUCCEEDED' },
      { schedule: 'c', status: 'FAILED' },
    ]);
    expect(Object.keys(defs.a!.downstream!)).toEqual(['b', 'c', 'd']);
    expect(defs.a!.downstream!.b!.dependents).toEqual([{ schedule: 'd', status: 'SUCCEEDED' }]);
    expect(Object.keys(defs.b!.downstream!)).toEqual(['d']);
    expect(defs.d).toMatchObject({ logicalDateOffsetDays: -1, wait: { withinMinutes: 1590, onExpiry: 'skip', onUpstreamRerun: 'ignore' } });
    expect(defs.d!.dependents).toBeUndefined();
    expect(ScheduleDefinitionSchema.parse(JSON.parse(JSON.stringify(defs.a)))).toEqual(defs.a);
  });
});

describe('parseConfig names the field at fault and lists every problem at once', () => {
  it.each([
    {
      what: "a job definition's vCPU value Fargate does not offer names vcpus, not memory",
      raw: config({ x: { expression: 'rate(1 hour)', job } }, { jobDefinitions: { extract: { image: 'alpine', command: ['x'], vcpus: 0.3, memory: 1024 } } }),
      problems: ['jobDefinitions.extract.vcpus: Fargate takes vcpus 0.25, 0.5, 1, 2, 4, 8, 16 (got 0.3)'],
    },
    {
      what: "a task's vCPU override Fargate does not offer names vcpus, even when it also sets memory",
      raw: config({ x: { expression: 'rate(1 hour)', job: { definition: 'load', vcpus: 0.3, memory: 1024 } } }),
      problems: ['schedules.x.job.vcpus: Fargate takes vcpus 0.25, 0.5, 1, 2, 4, 8, 16 (got 0.3)'],
    },
    {
      what: 'a bad field elsewhere does not hide the Fargate sizes, nor the other problems of the same schedule',
      raw: config(
        {
          x: { expression: 'rate(1 hour)', overlap: 'sometimes', job: { definition: 'extract', vcpus: 0.3 } },
          y: { expression: 'rate(1 hour)', timezone: 'Mars/Olympus', job },
        },
        { jobDefinitions: { extract: { image: 'alpine', command: ['x'], vcpus: 0.25, memory: 9999 } } },
      ),
      problems: [
        'schedules.x.overlap: must be one of "allow", "skip", "queue-one", "cancel-previous" (got "sometimes")',
        'jobDefinitions.extract.memory: Fargate with 0.25 vCPU takes 512, 1024, 2048 MiB of memory (got 9999)',
        'schedules.x.job.vcpus: Fargate takes vcpus 0.25, 0.5, 1, 2, 4, 8, 16 (got 0.3)',
        'schedules.y.timezone: unknown time zone "Mars/Olympus" (use an IANA name such as "Asia/Tokyo")',
      ],
    },
  ])('$what', ({ raw, problems }) => {
    expect(new Set(problemsOf(raw))).toEqual(new Set(problems));
  });
});

describe('configWarnings', () => {
  it.each([
    { expression: 'cron(0 9 ? * 1-5 *)', warns: 'on AWS it means SUN-THU; in Unix cron (0 = Sunday, 1 = Monday) it would mean MON-FRI' },
    { expression: 'cron(0 9 ? * 7 *)', warns: 'on AWS it means SAT; in Unix cron (0 = Sunday, 1 = Monday) it would mean SUN' },
    { expression: 'cron(0 9 ? * 2#1 *)', warns: 'on AWS it means MON#1; in Unix cron (0 = Sunday, 1 = Monday) it would mean TUE#1' },
    { expression: 'cron(0 9 ? * MON-FRI *)', warns: undefined },
    { expression: 'cron(0 9 ? * MON#1 *)', warns: undefined },
    { expression: 'cron(0 9 1 * ? *)', warns: undefined },
    { expression: 'rate(5 minutes)', warns: undefined },
  ])('$expression → $warns', ({ expression, warns }) => {
    const warnings = configWarnings(parseConfig(config({ x: { expression, job } }), ctx));
    if (warns === undefined) expect(warnings).toEqual([]);
    else expect(warnings).toEqual([expect.stringMatching(new RegExp(`^schedules\\.x\\.expression: day-of-week ".*" uses AWS numbering, 1 = Sunday .. 7 = Saturday: ${warns.replace(/[()#]/g, '\\$&')}`))]);
  });

  it('explains day 0 in the error AWS numbering gives it', () => {
    expect(problemsOf(config({ x: { expression: 'cron(0 9 ? * 0 *)', job } }))[0]).toMatch(/^schedules\.x\.expression: .*AWS has no day 0; in Unix cron .* it would mean SUN/);
  });
});
