/**
 * Compatibility with a client we did not write: every AWS CLI on this machine (the v1 CLI on
 * PATH, Debian's `awscli` package, v2.9.19) against `npx batchron local` started as a user
 * would, for a Batch round trip and a Scheduler round trip with the universal Batch target.
 * Each CLI is driven with what it supports: a CLI older than Scheduler's ActionAfterCompletion
 * creates a schedule that stays after it fires, as it would on AWS.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '#test/helpers/stack';
import { startCompatStack, type CompatStack } from './local-cli.ts';

const run = promisify(execFile);

interface Cli {
  path: string;
  version: string;
}

/** The distinct AWS CLIs here: the one on PATH, then Debian's (`/usr/bin/aws`), each once. */
function installedClis(): Cli[] {
  const found = new Map<string, Cli>();
  const onPath = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
  for (const candidate of [onPath, '/usr/bin/aws', '/usr/local/bin/aws']) {
    if (!candidate || !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    const version = /aws-cli\/(\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1];
    if (!version || [...found.values()].some((c) => c.version === version)) continue;
    found.set(realpathSync(candidate), { path: candidate, version });
  }
  return [...found.values()];
}

const clis = installedClis();
let stack: CompatStack;

beforeAll(async () => {
  if (clis.length === 0) {
    throw new Error('No AWS CLI is installed: install the Debian package awscli (apt-get install -y awscli); CI installs it.');
  }
  stack = await startCompatStack('awscli');
});

afterAll(async () => {
  await stack?.stop();
});

describe.each(clis.map((cli, i) => ({ ...cli, n: i + 1 })))('the AWS CLI $version ($path) against batchron local', ({ path, n }) => {
  /** Runs `aws <args> --output json` against the stack; resolves with the parsed output. */
  async function aws(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(path, [...args, '--endpoint-url', stack.endpoint, '--region', 'us-east-1', '--output', 'json'], {
      env: stack.clientEnv,
      timeout: 60_000,
    });
    return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  }

  /** Like `aws`, but resolves with the CLI's error text instead of throwing. */
  async function awsError(...args: string[]): Promise<string> {
    try {
      await aws(...args);
      return '';
    } catch (error) {
      return String((error as { stderr?: string }).stderr ?? error);
    }
  }

  it('runs a Batch job: compute environment, queue, definition, submit, describe until SUCCEEDED', async () => {
    // Prepare
    await aws(
      'batch', 'create-compute-environment',
      '--compute-environment-name', `cli-ce-${n}`,
      '--type', 'MANAGED',
      '--compute-resources', JSON.stringify({ type: 'EC2', minvCpus: 0, maxvCpus: 2, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole', instanceTypes: ['optimal'] }),
    );
    await aws('batch', 'create-job-queue', '--job-queue-name', `cli-q-${n}`, '--priority', '1', '--compute-environment-order', `order=1,computeEnvironment=cli-ce-${n}`);
    const definition = await aws(
      'batch', 'register-job-definition',
      '--job-definition-name', `cli-def-${n}`,
      '--type', 'container',
      '--container-properties',
      JSON.stringify({ image: 'node:20', command: ['node', '-e', 'console.log("from the CLI")'], resourceRequirements: [{ type: 'VCPU', value: '1' }, { type: 'MEMORY', value: '256' }] }),
    );

    // Act
    const submitted = await aws('batch', 'submit-job', '--job-name', 'cli-job', '--job-queue', `cli-q-${n}`, '--job-definition', `cli-def-${n}`);
    const job = await eventually(async () => {
      const out = await aws('batch', 'describe-jobs', '--jobs', String(submitted.jobId));
      const [detail] = out.jobs as { status: string }[];
      return detail && (detail.status === 'SUCCEEDED' || detail.status === 'FAILED') ? detail : undefined;
    }, 'the job to finish', 60_000);

    // Assess
    expect(definition).toMatchObject({ jobDefinitionName: `cli-def-${n}`, revision: 1 });
    expect(submitted).toMatchObject({ jobName: 'cli-job', jobId: expect.any(String) });
    expect(job).toMatchObject({ status: 'SUCCEEDED', jobName: 'cli-job', container: { exitCode: 0 } });
  });

  it('fires an at() schedule with the universal Batch target, which submits its job (and deletes itself where the CLI can ask for that)', async () => {
    // Prepare: a one-time schedule an hour ahead on the stack's clock.
    const due = new Date(Math.ceil((Number(await stack.clock()) + 3_600_000) / 1000) * 1000);
    const name = `cli-once-${n}`;
    const create = [
      'scheduler', 'create-schedule',
      '--name', name,
      '--schedule-expression', `at(${due.toISOString().slice(0, 19)})`,
      '--flexible-time-window', 'Mode=OFF',
      '--target',
      JSON.stringify({
        Arn: 'arn:aws:scheduler:::aws-sdk:batch:submitJob',
        RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
        Input: JSON.stringify({ JobName: `cli-scheduled-${n}`, JobQueue: `cli-q-${n}`, JobDefinition: `cli-def-${n}` }),
      }),
    ];
    const refused = await awsError(...create, '--action-after-completion', 'DELETE');
    // A CLI that predates ActionAfterCompletion refuses the option before sending anything.
    const deletes = !refused.includes('Unknown options: --action-after-completion');
    if (!deletes) await aws(...create);
    else expect(refused).toBe('');
    const created = await aws('scheduler', 'get-schedule', '--name', name);

    // Act: jump the stack's clock past the due time.
    const jumped = await stack.setClock(new Date(due.getTime() + 1_000));

    // Assess
    expect(created).toMatchObject({ Name: name, State: 'ENABLED', ...(deletes ? { ActionAfterCompletion: 'DELETE' } : {}) });
    expect(jumped).toBe(200);
    const listed = await eventually(async () => {
      const out = await aws('batch', 'list-jobs', '--job-queue', `cli-q-${n}`, '--filters', `name=JOB_NAME,values=cli-scheduled-${n}`);
      return (out.jobSummaryList as { jobName: string }[]).find((j) => j.jobName === `cli-scheduled-${n}`);
    }, 'the scheduled job to appear in list-jobs', 60_000);
    expect(listed.jobName).toBe(`cli-scheduled-${n}`);
    if (deletes) {
      const gone = await eventually(async () => {
        const error = await awsError('scheduler', 'get-schedule', '--name', name);
        return error.includes('ResourceNotFoundException') ? error : undefined;
      }, 'the schedule to delete itself', 30_000);
      expect(gone).toContain('ResourceNotFoundException');
    } else {
      expect(await aws('scheduler', 'get-schedule', '--name', name)).toMatchObject({ Name: name });
    }
  });
  it('seeds job secrets as docs/deploy.md says: ssm put-parameter and secretsmanager create-secret / put-secret-value / get-secret-value', async () => {
    // Act
    await aws('ssm', 'put-parameter', '--name', `/batchron/cli/db-${n}`, '--type', 'SecureString', '--value', 'pw');
    const created = await aws('secretsmanager', 'create-secret', '--name', `batchron/cli/api-${n}`, '--secret-string', '{"token":"t1"}');
    await aws('secretsmanager', 'put-secret-value', '--secret-id', `batchron/cli/api-${n}`, '--secret-string', '{"token":"t2"}');
    const read = await aws('secretsmanager', 'get-secret-value', '--secret-id', String(created.ARN));
    // Assess
    expect(created.ARN).toMatch(new RegExp(`:secret:batchron/cli/api-${n}-[A-Za-z0-9]{6}$`));
    expect(read).toMatchObject({ Name: `batchron/cli/api-${n}`, SecretString: '{"token":"t2"}' });
  });
});
