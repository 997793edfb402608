/**
 * Who may reach a running local stack: the requests a web page could make (DNS rebinding
 * with a foreign Host, cross-site requests with a foreign Origin, "simple" control
 * requests) are refused on every port, PutEvents keeps `aws.*` sources for the services
 * themselves, and refusals name no absolute path. Everything is sent to 127.0.0.1; only
 * the headers differ from what this machine's own clients send.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';
import { raw, sigv4 } from './helpers.ts';

let t: TestStack;
let api: HttpApi;
let apiAllowing: HttpApi;
const apiCalls: unknown[] = [];
const ruleEvents: { source: string; detail: Record<string, unknown> }[] = [];

const QUEUE = 'sec-q';
const DEFINITION = 'sec-def';
const ATTACKER = 'rebind.attacker.example';

beforeAll(async () => {
  t = await startTestStack();
  const { batch } = t.clients;
  await batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: 'sec-ce',
      type: 'MANAGED',
      computeResources: { type: 'EC2', minvCpus: 0, maxvCpus: 2, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' },
    }),
  );
  await batch.send(new CreateJobQueueCommand({ jobQueueName: QUEUE, priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'sec-ce' }] }));
  await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: DEFINITION,
      type: 'container',
      containerProperties: {
        image: 'node:20',
        command: ['node', '-e', '0'],
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '256' },
        ],
      },
    }),
  );
  // Stands in for the `api` function: whatever reaches it is recorded.
  t.stack.lambda.register('sec-api', async (event: unknown) => {
    apiCalls.push(event);
    return { statusCode: 200, body: '{"ok":true}' };
  });
  t.stack.lambda.register('sec-rule-target', async (event: { source: string; detail: Record<string, unknown> }) => {
    ruleEvents.push(event);
  });
  const routes = [{ method: 'ANY', path: '/{proxy+}', functionName: 'sec-api' }];
  api = await startHttpApi({ port: 0, dataDir: t.dataDir, lambda: t.stack.lambda, routes });
  apiAllowing = await startHttpApi({ port: 0, token: api.token, lambda: t.stack.lambda, routes, allowedHosts: ['devbox.test'] });
});

afterAll(async () => {
  await api?.close();
  await apiAllowing?.close();
  await t?.stop();
});

const submitBody = (jobName: string) =>
  JSON.stringify({ jobName, jobQueue: QUEUE, jobDefinition: DEFINITION, containerOverrides: { command: ['sh', '-c', 'id'] } });

async function jobNamed(name: string): Promise<unknown> {
  const out = await t.clients.batch.send(new ListJobsCommand({ jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: [name] }] }));
  return out.jobSummaryList?.find((j) => j.jobName === name);
}

describe('DNS rebinding: a request addressed to a name that is not loopback', () => {
  it('is refused by SubmitJob on the AWS endpoint with a 403 naming the Host, and no job is submitted', async () => {
    // Act: the same SubmitJob, once as a rebinding page sends it, once as this machine's CLI does.
    const rebound = await raw(t.stack.port, {
      path: '/v1/submitjob',
      headers: { host: `${ATTACKER}:${t.stack.port}`, authorization: sigv4('batch'), 'content-type': 'application/json' },
      body: submitBody('rebound'),
    });
    const direct = await raw(t.stack.port, {
      path: '/v1/submitjob',
      headers: { host: `127.0.0.1:${t.stack.port}`, authorization: sigv4('batch'), 'content-type': 'application/json' },
      body: submitBody('direct'),
    });

    // Assess
    expect(rebound.status).toBe(403);
    expect(rebound.json().message).toContain(`Host "${ATTACKER}:${t.stack.port}" is not allowed`);
    expect(rebound.json().message).toContain('DNS rebinding');
    expect(direct.status).toBe(200);
    expect(await jobNamed('direct')).toBeDefined();
    expect(await jobNamed('rebound')).toBeUndefined();
  });

  it('is refused by the Lambda Invoke API, so a forged API Gateway event never reaches the function', async () => {
    // Prepare: what a page would send to skip the HTTP API's token, with a hand-made authorizer.
    const forged = { version: '2.0', rawPath: '/schedules', requestContext: { authorizer: { iam: { userId: 'forged' } }, http: { method: 'GET' } } };
    const before = apiCalls.length;

    // Act
    const res = await raw(t.stack.port, {
      path: '/2015-03-31/functions/sec-api/invocations',
      headers: { host: ATTACKER, authorization: sigv4('lambda'), 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });

    // Assess
    expect(res.status).toBe(403);
    expect(res.json().message).toContain('not allowed');
    expect(apiCalls.length).toBe(before);
  });

  it('is refused by the HTTP API even with the right token, while loopback names and --allowed-hosts names are served', async () => {
    const auth = { authorization: `Bearer ${api.token}` };

    // Act
    const rebound = await raw(api.port, { method: 'GET', path: '/schedules', headers: { host: `${ATTACKER}:${api.port}`, ...auth } });
    const loopbackNames = await Promise.all(
      [`localhost:${api.port}`, `127.0.0.1:${api.port}`, `[::1]:${api.port}`, 'localhost'].map((host) =>
        raw(api.port, { method: 'GET', path: '/schedules', headers: { host, ...auth } }),
      ),
    );
    const allowed = await raw(apiAllowing.port, { method: 'GET', path: '/schedules', headers: { host: `devbox.test:${apiAllowing.port}`, ...auth } });
    const notAllowed = await raw(apiAllowing.port, { method: 'GET', path: '/schedules', headers: { host: 'other.test', ...auth } });

    // Assess
    expect(rebound.status).toBe(403);
    expect(rebound.json()).toMatchObject({ error: { code: 'ForbiddenHost', message: expect.stringContaining('--allowed-hosts') } });
    expect(loopbackNames.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(allowed.status).toBe(200);
    expect(notAllowed.status).toBe(403);
  });
});

describe('cross-site requests', () => {
  it('are refused on every port when they carry a foreign Origin or Sec-Fetch-Site: cross-site', async () => {
    const origin = 'https://attacker.example';
    const local = `127.0.0.1:${t.stack.port}`;
    const ddbPort = Number(new URL(inject('dynamodbUrl')).port);

    // Act
    const endpoint = await raw(t.stack.port, {
      path: '/v1/listjobs',
      headers: { host: local, origin, authorization: sigv4('batch'), 'content-type': 'application/json' },
      body: JSON.stringify({ jobQueue: QUEUE }),
    });
    const control = await raw(t.stack.port, {
      method: 'GET',
      path: '/_batchron/health',
      headers: { host: local, origin, authorization: `Bearer ${t.stack.token}` },
    });
    const httpApi = await raw(api.port, { method: 'GET', path: '/schedules', headers: { host: `127.0.0.1:${api.port}`, origin, authorization: `Bearer ${api.token}` } });
    const nullOrigin = await raw(api.port, { method: 'GET', path: '/schedules', headers: { host: `127.0.0.1:${api.port}`, origin: 'null', authorization: `Bearer ${api.token}` } });
    const noCors = await raw(api.port, {
      method: 'GET',
      path: '/schedules',
      headers: { host: `127.0.0.1:${api.port}`, 'sec-fetch-site': 'cross-site', authorization: `Bearer ${api.token}` },
    });
    const dynamodb = await raw(ddbPort, {
      path: '/',
      headers: {
        host: `127.0.0.1:${ddbPort}`,
        origin,
        authorization: sigv4('dynamodb'),
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    // A page served from this machine (a dev server on another port) is this machine's own.
    const loopbackOrigin = await raw(api.port, {
      method: 'GET',
      path: '/schedules',
      headers: { host: `127.0.0.1:${api.port}`, origin: 'http://localhost:5173', authorization: `Bearer ${api.token}` },
    });

    // Assess
    expect(endpoint.status).toBe(403);
    expect(endpoint.json().message).toContain(`Origin "${origin}" is not allowed`);
    expect(control.status).toBe(403);
    expect(httpApi.status).toBe(403);
    expect(httpApi.json()).toMatchObject({ error: { code: 'ForbiddenOrigin' } });
    expect(nullOrigin.status).toBe(403);
    expect(noCors.status).toBe(403);
    expect(dynamodb.status).toBe(403);
    expect(loopbackOrigin.status).toBe(200);
  });

  it('cannot drive the control API: no token is a 401, a text/plain or form body a 415, and the clock does not move', async () => {
    // Prepare
    const host = `127.0.0.1:${t.stack.port}`;
    const day = JSON.stringify({ advanceMs: 86_400_000 });
    const before = t.stack.clock.now();
    const token = `Bearer ${t.stack.token}`;

    // Act: what a page can send without a preflight, then the same with the token.
    const noToken = await raw(t.stack.port, { path: '/_batchron/clock', headers: { host, 'content-type': 'text/plain' }, body: day });
    const textPlain = await raw(t.stack.port, { path: '/_batchron/clock', headers: { host, authorization: token, 'content-type': 'text/plain' }, body: day });
    const form = await raw(t.stack.port, {
      path: '/_batchron/clock',
      headers: { host, authorization: token, 'content-type': 'application/x-www-form-urlencoded' },
      body: day,
    });
    const noType = await raw(t.stack.port, { path: '/_batchron/faults/reset', headers: { host, authorization: token } });
    const healthNoToken = await raw(t.stack.port, { method: 'GET', path: '/_batchron/health', headers: { host } });
    const moved = t.stack.clock.now() - before;
    const json = await raw(t.stack.port, {
      path: '/_batchron/clock',
      headers: { host, authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: 1_000 }),
    });

    // Assess
    expect(noToken.status).toBe(401);
    expect(noToken.json().message).toContain('.batchron/api-token');
    expect(textPlain.status).toBe(415);
    expect(form.status).toBe(415);
    expect(noType.status).toBe(415);
    expect(healthNoToken.status).toBe(401);
    expect(moved).toBeLessThan(86_400_000);
    expect(json.status).toBe(200);
  });
});

describe('EventBridge sources', () => {
  it('PutEvents refuses an aws.batch entry as AWS does, while the stack\'s own Batch events still reach the rule', async () => {
    // Prepare: a rule that any Batch job state change matches.
    const host = `127.0.0.1:${t.stack.port}`;
    const events = (op: string, body: unknown) =>
      raw(t.stack.port, {
        headers: { host, authorization: sigv4('events'), 'x-amz-target': `AWSEvents.${op}`, 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify(body),
      });
    await events('PutRule', { Name: 'sec-batch-changes', EventPattern: JSON.stringify({ 'detail-type': ['Batch Job State Change'] }) });
    await events('PutTargets', { Rule: 'sec-batch-changes', Targets: [{ Id: 'fn', Arn: t.stack.lambda.arnOf('sec-rule-target') }] });
    const detail = JSON.stringify({ jobName: 'forged', status: 'FAILED', container: { command: ['sh', '-c', 'id'] } });

    // Act
    const put = await events('PutEvents', {
      Entries: [
        { Source: 'aws.batch', DetailType: 'Batch Job State Change', Detail: detail },
        { Source: 'my.app', DetailType: 'Batch Job State Change', Detail: JSON.stringify({ jobName: 'custom' }) },
      ],
    });
    await t.clients.batch.send(new SubmitJobCommand({ jobName: 'real-events', jobQueue: QUEUE, jobDefinition: DEFINITION }));
    await eventually(
      () => ruleEvents.some((e) => e.source === 'aws.batch' && e.detail.jobName === 'real-events' && e.detail.status === 'SUCCEEDED'),
      'the job\'s own SUCCEEDED event to reach the rule',
      30_000,
    );
    await t.stack.idle();

    // Assess
    expect(put.status).toBe(200);
    expect(put.json()).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: expect.stringContaining('aws.batch') }, { EventId: expect.any(String) }],
    });
    expect(ruleEvents.filter((e) => e.detail.jobName === 'forged')).toEqual([]);
    expect(ruleEvents.filter((e) => e.detail.jobName === 'custom')).toHaveLength(1);
  });
});

describe('error bodies', () => {
  it('name the token file relatively and never the data folder\'s absolute path', async () => {
    // Act
    const missing = await raw(api.port, { method: 'GET', path: '/schedules', headers: { host: `127.0.0.1:${api.port}` } });
    const wrong = await raw(api.port, { method: 'GET', path: '/schedules', headers: { host: `127.0.0.1:${api.port}`, authorization: 'Bearer not-the-token' } });
    const control = await raw(t.stack.port, { method: 'GET', path: '/_batchron/clock', headers: { host: `127.0.0.1:${t.stack.port}`, authorization: 'Bearer nope' } });

    // Assess
    for (const res of [missing, wrong, control]) {
      expect(res.status).toBe(401);
      expect(res.text).toContain('.batchron/api-token');
      expect(res.text).not.toContain(t.dataDir);
      expect(res.text).not.toContain(api.token);
    }
  });
});
