/**
 * Every port the local stack opens is bound to loopback, read from the kernel's table of
 * listening sockets (/proc/net/tcp{,6}) instead of probed from another address; DynamoDB
 * Local, which binds every interface on its own, is bound to 127.0.0.1, answers only the
 * stack's proxy, and its port is not disclosed by health. A non-loopback listen address is
 * refused at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from '#local/stack';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { isLoopback, listeningAddresses, raw, sigv4 } from './helpers.ts';

let stack: LocalStack;
let api: HttpApi;

beforeAll(async () => {
  // The stack's own DynamoDB Local (spawned, in memory), as `npm start` runs it.
  stack = await startLocalStack({ port: 0, dynamodb: 'spawn', log: () => undefined, killGraceMs: 200 });
  api = await startHttpApi({ port: 0, token: 'a-token-for-the-listener-test', lambda: stack.lambda, routes: [] });
}, 180_000);

afterAll(async () => {
  await api?.close();
  await stack?.stop({ graceMs: 200 });
});

describe('listeners', () => {
  it('binds the AWS endpoint, the HTTP API and DynamoDB Local to loopback only', () => {
    // Prepare: the ports, from the objects in this process (nothing discloses DynamoDB Local's over HTTP).
    const ports = { endpoint: stack.port, httpApi: api.port, dynamodbLocal: Number(new URL(stack.dynamodb!.url).port) };

    // Act
    const bound = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, listeningAddresses(port)]));

    // Assess: each listens, and on no address but loopback (not 0.0.0.0, not ::).
    for (const [name, addresses] of Object.entries(bound)) {
      expect(addresses.length, `${name} listens`).toBeGreaterThan(0);
      expect(addresses.filter((a) => !isLoopback(a)), `${name} bound to ${addresses.join(', ')}`).toEqual([]);
    }
  });

  it('lets only the stack reach its DynamoDB Local, and health does not disclose its port', async () => {
    // Prepare
    const ddbPort = Number(new URL(stack.dynamodb!.url).port);
    const client = new DynamoDBClient({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });

    // Act: a client of this machine straight at the JVM's port, then the same through the stack.
    const direct = await raw(ddbPort, {
      headers: {
        host: `127.0.0.1:${ddbPort}`,
        authorization: sigv4('dynamodb'),
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    await client.send(
      new CreateTableCommand({
        TableName: 'listener-test',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const throughStack = await client.send(new ListTablesCommand({}));
    const health = await raw(stack.port, {
      method: 'GET',
      path: '/_batchron/health',
      headers: { host: `127.0.0.1:${stack.port}`, authorization: `Bearer ${stack.token}` },
    });
    client.destroy();

    // Assess
    expect(direct.status).toBe(403);
    expect(throughStack.TableNames).toContain('listener-test');
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ ok: true, dynamodb: true });
    expect(health.text).not.toContain(String(ddbPort));
  });

  it('refuses to start on an address other machines can reach', async () => {
    // Act + Assess: nothing is bound, so no traffic from elsewhere is ever possible.
    await expect(startHttpApi({ host: '0.0.0.0', port: 0, token: 'a-token-for-the-listener-test', lambda: stack.lambda, routes: [] })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0.*loopback only/,
    );
    await expect(startLocalStack({ host: '0.0.0.0', port: 0, dynamodb: false, log: () => undefined })).rejects.toThrow(/loopback only/);
  });
});
