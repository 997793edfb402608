/**
 * The data folder holds the Slack webhook (state/ssm.json), the API token, the database
 * and every job's output: the stack keeps it private to the user (folders 0700, files
 * 0600), tightening a folder left looser by an older version or a copy, and what it writes
 * afterwards (state, job logs, DynamoDB files) is private from the start.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';

let t: TestStack | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'batchron-modes-'));

afterAll(async () => {
  await t?.stop({ keepData: true });
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (p: string) => {
    const s = statSync(p);
    out.push({ path: p.slice(dataDir.length) || '/', dir: s.isDirectory(), mode: s.mode & 0o777 });
    if (s.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(dir);
  return out;
}

describe('the data folder', () => {
  it('is tightened to 0700/0600 on start and everything the stack writes into it stays private', async () => {
    // Prepare: a folder as an older version left it, group- and world-readable.
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'state'), { mode: 0o755 });
    mkdirSync(join(dataDir, 'logs'), { mode: 0o755 });
    writeFileSync(join(dataDir, 'api-token'), 'an-old-token-of-enough-length\n', { mode: 0o644 });
    writeFileSync(join(dataDir, 'logs', 'old.log'), 'old output\n', { mode: 0o644 });
    chmodSync(join(dataDir, 'state'), 0o755);
    const webhook = 'https://hooks.slack.com/services/T000/B000/secret-part-of-the-webhook';
    const logged: string[] = [];

    // Act: start on it, store the webhook, run a job (its log file), stop (state flushed).
    t = await startTestStack({ dataDir, log: (line) => logged.push(line) });
    const ssm = new SSMClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: '/batchron/dev/slack-webhook', Type: 'SecureString', Value: webhook, Overwrite: true }));
    ssm.destroy();
    const { batch } = t.clients;
    await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'modes-ce',
        type: 'MANAGED',
        computeResources: { type: 'EC2', minvCpus: 0, maxvCpus: 1, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' },
      }),
    );
    await batch.send(new CreateJobQueueCommand({ jobQueueName: 'modes-q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'modes-ce' }] }));
    await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'modes-def',
        type: 'container',
        containerProperties: {
          image: 'node:20',
          command: ['node', '-e', 'console.log("job output")'],
          resourceRequirements: [
            { type: 'VCPU', value: '1' },
            { type: 'MEMORY', value: '256' },
          ],
        },
      }),
    );
    const { jobId } = await batch.send(new SubmitJobCommand({ jobName: 'modes-job', jobQueue: 'modes-q', jobDefinition: 'modes-def' }));
    await eventually(
      async () => (await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs?.[0]?.status === 'SUCCEEDED',
      'the job to succeed',
      30_000,
    );
    await t.stop({ keepData: true });

    // Assess
    const all = modes(dataDir);
    expect(all.find((e) => e.path === '/state/ssm.json')).toBeDefined();
    expect(all.filter((e) => e.path.startsWith('/logs/') && !e.dir && e.path !== '/logs/old.log').length).toBeGreaterThan(0);
    expect(all.filter((e) => e.dir && e.mode !== 0o700)).toEqual([]);
    expect(all.filter((e) => !e.dir && e.mode !== 0o600)).toEqual([]);
    expect(logged.filter((line) => line.includes('secret-part-of-the-webhook'))).toEqual([]);
  });
});
