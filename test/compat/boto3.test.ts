/**
 * Compatibility with boto3 (the Python SDK, a client we did not write): a Batch round trip and
 * a Scheduler round trip with the universal Batch target, through `npx batchron local` started
 * as a user would. The Python side is test/compat/boto3_roundtrip.py.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompatStack, type CompatStack } from './local-cli.ts';

const run = promisify(execFile);
const SCRIPT = 'test/compat/boto3_roundtrip.py';

/** The first Python with boto3: the one on PATH, else Debian's (package python3-boto3). */
const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import boto3']).status === 0);
let stack: CompatStack;

async function py(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(python!, [SCRIPT, ...args], {
    env: { ...stack.clientEnv, AWS_ENDPOINT_URL: stack.endpoint, AWS_DEFAULT_REGION: 'us-east-1' },
    timeout: 90_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  if (!python) throw new Error('No Python with boto3: install the Debian package python3-boto3; CI installs it.');
  stack = await startCompatStack('boto3');
});

afterAll(async () => {
  await stack?.stop();
});

describe('boto3 against batchron local', () => {
  it('runs a Fargate job: compute environment, queue, definition, submit with tags, describe until SUCCEEDED, list by name', async () => {
    // Act
    const out = await py('batch');

    // Assess
    expect(out.definition).toEqual({ name: 'py-def', revision: 1 });
    expect(out.job).toEqual({ status: 'SUCCEEDED', exitCode: 0, tags: { team: 'data' } });
    expect(out.listed).toEqual([out.jobId]);
  });

  it('fires an at() schedule in its own group that submits a Batch job and deletes itself', async () => {
    // Prepare
    const due = new Date(Math.ceil(((await stack.clock()) + 3_600_000) / 1000) * 1000);
    const created = await py('schedule', due.toISOString().slice(0, 19));

    // Act
    const jumped = await stack.setClock(new Date(due.getTime() + 1_000));
    const seen = await py('scheduled-job');

    // Assess
    expect(created).toEqual({ state: 'ENABLED', expression: `at(${due.toISOString().slice(0, 19)})`, after: 'DELETE' });
    expect(jumped).toBe(200);
    expect(seen).toEqual({ jobs: 1, deleted: 'ResourceNotFoundException' });
  });
});
