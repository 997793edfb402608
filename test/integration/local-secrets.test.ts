/**
 * Job definitions' `secrets` on the local stack: values seeded in the local SSM and Secrets
 * Manager through the real SDK clients reach the job's process as environment variables,
 * and never appear in a log, a job description, a state-change event or a state file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeJobsCommand, RegisterJobDefinitionCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateComputeEnvironmentCommand, CreateJobQueueCommand } from '@aws-sdk/client-batch';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';

let test: TestStack;
let ssm: SSMClient;
let sm: SecretsManagerClient;
const events: unknown[] = [];

const DB_PASSWORD = 'pw-7f3a9c-never-print-me';
const API_TOKEN = 'tok-2b81e4-never-print-me';
const sha = (v: string) => createHash('sha256').update(v).digest('hex');

beforeAll(async () => {
  test = await startTestStack();
  const config = { endpoint: test.stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
  ssm = new SSMClient(config);
  sm = new SecretsManagerClient(config);
  // Every event Batch publishes, as the bus receives it.
  const original = test.stack.bus.publish.bind(test.stack.bus);
  test.stack.bus.publish = (event) => {
    events.push(event);
    original(event);
  };
  await test.clients.batch.send(
    new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'ce', type: 'MANAGED', computeResources: { type: 'FARGATE', maxvCpus: 4, subnets: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] } }),
  );
  await test.clients.batch.send(new CreateJobQueueCommand({ jobQueueName: 'q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ce' }] }));
});

afterAll(async () => {
  ssm?.destroy();
  sm?.destroy();
  await test?.stop();
});

/** Every file under `dir`, as text. */
function allFiles(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [{ path, text: readFileSync(path, 'latin1') }];
  });
}

async function runJob(name: string, secrets: { name: string; valueFrom: string }[], script: string) {
  await test.clients.batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: 'container',
      containerProperties: {
        image: 'alpine',
        command: ['sh', '-c', script],
        secrets,
        executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
        resourceRequirements: [
          { type: 'VCPU', value: '0.25' },
          { type: 'MEMORY', value: '512' },
        ],
      },
    }),
  );
  const { jobId } = await test.clients.batch.send(new SubmitJobCommand({ jobName: name, jobQueue: 'q', jobDefinition: name }));
  return eventually(async () => {
    const job = (await test.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs?.[0];
    return job && ['SUCCEEDED', 'FAILED'].includes(job.status!) ? job : undefined;
  }, `job ${name} to end`);
}

describe('job secrets on the local stack', () => {
  it('lets a user seed Secrets Manager with CreateSecret and PutSecretValue and read it back', async () => {
    // Act
    await sm.send(new CreateSecretCommand({ Name: 'batchron/test/seeded', SecretString: 'first' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'batchron/test/seeded', SecretString: 'second' }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'batchron/test/seeded' }));
    // Assess
    expect(got.SecretString).toBe('second');
    expect(got.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:batchron\/test\/seeded-[A-Za-z0-9]{6}$/);
  });

  it('fails a job whose secret does not exist with the reason ECS gives, before its command runs', async () => {
    // Act
    const job = await runJob('missing-secret', [{ name: 'NOPE', valueFrom: 'arn:aws:ssm:us-east-1:000000000000:parameter/batchron/test/absent' }], 'echo ran');
    // Assess
    expect(job.status).toBe('FAILED');
    expect(job.statusReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: .*invalid ssm parameters: .*batchron\/test\/absent$/);
  });

  it('injects SSM and Secrets Manager values (with a JSON key) into the job and writes them nowhere', async () => {
    // Prepare
    await ssm.send(new PutParameterCommand({ Name: '/batchron/test/db-password', Value: DB_PASSWORD, Type: 'SecureString' }));
    await sm.send(new CreateSecretCommand({ Name: 'batchron/test/api', SecretString: JSON.stringify({ token: API_TOKEN, other: 'x' }) }));
    // Act: the job prints only hashes of what it received
    const job = await runJob(
      'with-secrets',
      [
        { name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:us-east-1:000000000000:parameter/batchron/test/db-password' },
        { name: 'API_TOKEN', valueFrom: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:batchron/test/api:token::' },
      ],
      'printf %s "$DB_PASSWORD" | sha256sum; printf %s "$API_TOKEN" | sha256sum',
    );
    await test.stack.idle();
    // Assess: received
    expect(job.status).toBe('SUCCEEDED');
    const log = readFileSync(join(test.stack.batch.logDirectory, `${job.container!.logStreamName!}.log`), 'utf8');
    expect(log).toContain(sha(DB_PASSWORD));
    expect(log).toContain(sha(API_TOKEN));
    // Assess: nowhere else, even once the state is flushed to disk
    await test.stop({ keepData: true });
    const leaks = [JSON.stringify(job), JSON.stringify(events), ...allFiles(test.dataDir).map((f) => `${f.path}\n${f.text}`)].filter(
      (text) => text.includes(DB_PASSWORD) || text.includes(API_TOKEN),
    );
    // The two stores' own state files hold the values (that is where the user put them); nothing else may.
    expect(leaks.map((l) => l.split('\n')[0]).filter((p) => !/state\/(ssm|secretsmanager)\.json$/.test(p!))).toEqual([]);
    expect(JSON.stringify(job.container?.secrets)).toContain('batchron/test/db-password');
  });
});
