/**
 * Compatibility with a client we did not write: the AWS CLI (Debian package `awscli`)
 * against `npx batchron local` started as a user would, for a Batch round trip and a
 * Scheduler round trip with the universal Batch target.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '#test/helpers/stack';

const run = promisify(execFile);

let child: ChildProcess | undefined;
let endpoint = '';
let dataDir = '';
let awsEnv: NodeJS.ProcessEnv = {};

/** Runs `aws <args> --output json` against the stack; resolves with the parsed output. */
async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', [...args, '--endpoint-url', endpoint, '--region', 'us-east-1', '--output', 'json'], {
    env: awsEnv,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  const probe = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error('The AWS CLI is not installed: install the Debian package awscli (apt-get install -y awscli); CI installs it.');
  }
  dataDir = mkdtempSync(join(tmpdir(), 'batchron-awscli-'));
  awsEnv = {
    PATH: process.env.PATH,
    HOME: dataDir,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // The machine's own AWS configuration must not leak into the test.
    AWS_CONFIG_FILE: join(dataDir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-credentials'),
    AWS_PAGER: '',
  };
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  child = spawn('npx', ['batchron', 'local', '--port', String(port), '--data-dir', join(dataDir, 'stack'), '--grace', '500'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    // Its own process group, so Ctrl-C can be sent the way a terminal sends it: to npx and everything under it.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await eventually(
    () => {
      if (child?.exitCode !== null) throw new Error(`batchron local exited early:\n${output}`);
      return output.includes('is up at');
    },
    'batchron local to print its endpoint',
    90_000,
  );
  expect(output).toContain(`export AWS_ENDPOINT_URL=${endpoint}`);
});

afterAll(async () => {
  const proc = child;
  if (proc?.pid !== undefined && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(-proc.pid, 'SIGINT');
    const force = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(force);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the AWS CLI against batchron local', () => {
  it('runs a Batch job: compute environment, queue, definition, submit, describe until SUCCEEDED', async () => {
    // Prepare
    await aws(
      'batch', 'create-compute-environment',
      '--compute-environment-name', 'cli-ce',
      '--type', 'MANAGED',
      '--compute-resources', JSON.stringify({ type: 'EC2', maxvCpus: 2, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' }),
    );
    await aws('batch', 'create-job-queue', '--job-queue-name', 'cli-q', '--priority', '1', '--compute-environment-order', 'order=1,computeEnvironment=cli-ce');
    const definition = await aws(
      'batch', 'register-job-definition',
      '--job-definition-name', 'cli-def',
      '--type', 'container',
      '--container-properties',
      JSON.stringify({ image: 'node:20', command: ['node', '-e', 'console.log("from the CLI")'], resourceRequirements: [{ type: 'VCPU', value: '1' }, { type: 'MEMORY', value: '256' }] }),
    );

    // Act
    const submitted = await aws('batch', 'submit-job', '--job-name', 'cli-job', '--job-queue', 'cli-q', '--job-definition', 'cli-def');
    const job = await eventually(async () => {
      const out = await aws('batch', 'describe-jobs', '--jobs', String(submitted.jobId));
      const [detail] = out.jobs as { status: string }[];
      return detail && (detail.status === 'SUCCEEDED' || detail.status === 'FAILED') ? detail : undefined;
    }, 'the job to finish', 60_000);

    // Assess
    expect(definition).toMatchObject({ jobDefinitionName: 'cli-def', revision: 1 });
    expect(submitted).toMatchObject({ jobName: 'cli-job', jobId: expect.any(String) });
    expect(job).toMatchObject({ status: 'SUCCEEDED', jobName: 'cli-job', container: { exitCode: 0 } });
  });

  it('fires an at() schedule with the universal Batch target, which submits its job and deletes itself', async () => {
    // Prepare: a one-time schedule an hour ahead on the stack's clock.
    // The control API takes the token `batchron local` keeps in its data folder.
    const authorization = `Bearer ${readFileSync(join(dataDir, 'stack', 'api-token'), 'utf8').trim()}`;
    const health = (await (await fetch(`${endpoint}/_batchron/clock`, { headers: { authorization } })).json()) as { epochMs: number };
    const due = new Date(Math.ceil((health.epochMs + 3_600_000) / 1000) * 1000);
    await aws(
      'scheduler', 'create-schedule',
      '--name', 'cli-once',
      '--schedule-expression', `at(${due.toISOString().slice(0, 19)})`,
      '--flexible-time-window', 'Mode=OFF',
      '--action-after-completion', 'DELETE',
      '--target',
      JSON.stringify({
        Arn: 'arn:aws:scheduler:::aws-sdk:batch:submitJob',
        RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
        Input: JSON.stringify({ JobName: 'cli-scheduled', JobQueue: 'cli-q', JobDefinition: 'cli-def' }),
      }),
    );
    const created = await aws('scheduler', 'get-schedule', '--name', 'cli-once');

    // Act: jump the stack's clock past the due time.
    const jumped = await fetch(`${endpoint}/_batchron/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ set: new Date(due.getTime() + 1_000).toISOString() }),
    });

    // Assess
    expect(created).toMatchObject({ Name: 'cli-once', State: 'ENABLED', ActionAfterCompletion: 'DELETE' });
    expect(jumped.status).toBe(200);
    const listed = await eventually(async () => {
      const out = await aws('batch', 'list-jobs', '--job-queue', 'cli-q', '--filters', 'name=JOB_NAME,values=cli-scheduled');
      return (out.jobSummaryList as { jobName: string }[]).find((j) => j.jobName === 'cli-scheduled');
    }, 'the scheduled job to appear in list-jobs', 60_000);
    expect(listed.jobName).toBe('cli-scheduled');
    const gone = await eventually(async () => {
      const error = await awsError('scheduler', 'get-schedule', '--name', 'cli-once');
      return error.includes('ResourceNotFoundException') ? error : undefined;
    }, 'the schedule to delete itself', 30_000);
    expect(gone).toContain('ResourceNotFoundException');
  });
});
