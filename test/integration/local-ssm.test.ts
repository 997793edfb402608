/**
 * The Slack webhook as a SecureString in SSM Parameter Store, read the way it is on AWS:
 * the local stack's Parameter Store through the real `@aws-sdk/client-ssm`, and the
 * engine's Slack notifier resolving its URL from there.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { startTestStack, type TestStack } from '#test/helpers/stack';
import { slackNotifier } from '#shared/notify/slack';
import type { EngineLogger } from '#shared/logger';

let test: TestStack;
let ssm: SSMClient;
let slack: Server;
let slackUrl: string;
const received: string[] = [];

const silent: EngineLogger = { info() {}, warn() {}, error() {}, debug() {} };

function ssmClient(endpoint: string): SSMClient {
  return new SSMClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

beforeAll(async () => {
  test = await startTestStack();
  ssm = ssmClient(test.stack.url);
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
  slackUrl = `http://127.0.0.1:${(slack.address() as { port: number }).port}/services/T000/B000/XXX`;
});

afterAll(async () => {
  await test?.stop();
  await new Promise<void>((r) => slack?.close(() => r()));
});

describe('the local Parameter Store', () => {
  it('returns a SecureString it was given, decrypted', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/batchron/test/webhook', Type: 'SecureString', Value: slackUrl }));

    const out = await ssm.send(new GetParameterCommand({ Name: '/batchron/test/webhook', WithDecryption: true }));

    expect(out.Parameter?.Value).toBe(slackUrl);
    expect(out.Parameter?.Type).toBe('SecureString');
    expect(out.Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:000000000000:parameter/batchron/test/webhook');
  });

  it('answers ParameterNotFound for a name it does not have', async () => {
    const error = await ssm.send(new GetParameterCommand({ Name: '/batchron/none' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ParameterNotFound);
  });

  it('refuses to overwrite without Overwrite, and bumps the version with it', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/batchron/test/v', Type: 'String', Value: 'one' }));

    const refused = await ssm.send(new PutParameterCommand({ Name: '/batchron/test/v', Type: 'String', Value: 'two' })).catch((e: unknown) => e);
    const overwritten = await ssm.send(new PutParameterCommand({ Name: '/batchron/test/v', Type: 'String', Value: 'two', Overwrite: true }));

    expect(refused).toBeInstanceOf(ParameterAlreadyExists);
    expect(overwritten.Version).toBe(2);
    await ssm.send(new DeleteParameterCommand({ Name: '/batchron/test/v' }));
    await expect(ssm.send(new GetParameterCommand({ Name: '/batchron/test/v' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  it('keeps parameters across a restart', async () => {
    const first = await startTestStack();
    await ssmClient(first.stack.url).send(new PutParameterCommand({ Name: '/batchron/kept', Type: 'SecureString', Value: 'https://example.invalid/hook' }));
    await first.stop({ keepData: true });

    const second = await startTestStack({ dataDir: first.dataDir });
    try {
      const out = await ssmClient(second.stack.url).send(new GetParameterCommand({ Name: '/batchron/kept', WithDecryption: true }));
      expect(out.Parameter?.Value).toBe('https://example.invalid/hook');
    } finally {
      await second.stop();
    }
  });
});

describe('the Slack notifier', () => {
  it('posts to the webhook URL it reads from the SSM SecureString', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/batchron/dev/slack-webhook', Type: 'SecureString', Value: slackUrl, Overwrite: true }));
    const notifier = slackNotifier({ parameterName: '/batchron/dev/slack-webhook', ssm: () => ssm, log: silent });

    await notifier.send({ kind: 'failure', schedule: 'nightly', runId: 'nightly.20261123T020000Z', text: 'nightly failed: exit code 3' });

    expect(received.map((b) => JSON.parse(b) as { text: string })).toContainEqual(expect.objectContaining({ text: 'nightly failed: exit code 3' }));
  });

  it('rejects, so the notification stays owed, when the parameter is missing', async () => {
    const notifier = slackNotifier({ parameterName: '/batchron/missing/slack-webhook', ssm: () => ssm, log: silent });

    await expect(
      notifier.send({ kind: 'failure', schedule: 'x', runId: 'x.1', text: 'never sent' }),
    ).rejects.toBeInstanceOf(ParameterNotFound);
  });
});
