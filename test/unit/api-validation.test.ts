/**
 * Bad input to the HTTP API is refused at the edge, before anything reaches the domain or
 * AWS: every case gets a 400 (or 401/404) with a message that names the field, never a
 * 5xx. Requests go through the local HTTP API (real HTTP, bearer token) to the real
 * functions/api handler in the local Lambda runtime; no AWS call is made, so no stack runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import { LocalLambda } from '#local/lambda';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { handler } from '#functions/api';

let dataDir: string;
let api: HttpApi;
let lambda: LocalLambda;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'batchron-api-validation-'));
  const clock = new Clock();
  lambda = new LocalLambda({ clock, faults: new Faults(() => clock.now()) });
  lambda.register('api', handler);
  // One catch-all route, as serverless.yml declares the API: the function's router decides.
  api = await startHttpApi({ port: 0, dataDir, lambda, routes: [{ method: 'ANY', path: '/{proxy+}', functionName: 'api' }] });
});

afterAll(async () => {
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

describe('API input validation', () => {
  it.each([
    // [method, path, body, headers, status, issue path, message fragment]
    ['POST', '/schedules/nightly/runs', '{', {}, 400, 'body', 'is not valid JSON'],
    ['POST', '/schedules/nightly/runs', '[]', {}, 400, 'body', 'must be an object (got a list)'],
    ['POST', '/schedules/nightly/runs', '"text"', {}, 400, 'body', 'must be an object (got string "text")'],
    ['POST', '/schedules/nightly/runs', '{"parameters": {"day": 5}}', {}, 400, 'body.parameters.day', 'must be a string (got number 5)'],
    ['POST', '/schedules/nightly/runs', '{"parameters": ["a"]}', {}, 400, 'body.parameters', 'must be an object (got a list)'],
    ['POST', '/schedules/nightly/runs', '{"params": {}}', {}, 400, 'body', 'unknown field "params"'],
    ['POST', '/schedules/nightly/runs', '{}', { 'idempotency-key': 'x'.repeat(300) }, 400, 'header.idempotency-key', 'at most 255 characters'],
    ['POST', '/schedules/nightly/runs', '{}', { 'idempotency-key': 'tab\there' }, 400, 'header.idempotency-key', 'printable ASCII'],
    ['POST', '/schedules/nightly/backfill', '{}', {}, 400, 'body.from', 'is required'],
    ['POST', '/schedules/nightly/backfill', '{"from": "yesterday", "to": "2026-01-01T00:00:00Z"}', {}, 400, 'body.from', 'ISO-8601'],
    ['POST', '/schedules/nightly/backfill', '{"from": 5, "to": "2026-01-01T00:00:00Z"}', {}, 400, 'body.from', 'must be a string (got number 5)'],
    ['POST', '/schedules/pause', '{}', {}, 400, 'body', 'needs "prefix" or "tag"'],
    ['POST', '/schedules/pause', '{"tag": {"key": "team"}}', {}, 400, 'body.tag.value', 'is required'],
    ['POST', '/schedules/resume', '{"prefix": 3}', {}, 400, 'body.prefix', 'must be a string (got number 3)'],
    ['POST', '/schedules', '{"expression": "rate(1 hour)"}', {}, 400, 'body.name', 'is required'],
    ['POST', '/schedules', '{"name": "bad name!", "expression": "rate(1 hour)"}', {}, 400, 'body.name', 'letters, digits'],
    ['PUT', '/schedules/x', '[1]', {}, 400, 'body', 'must be an object (got a list)'],
    ['GET', '/runs?limit=0', undefined, {}, 400, 'query.limit', 'between 1 and 100'],
    ['GET', '/runs?limit=abc', undefined, {}, 400, 'query.limit', 'whole number between 1 and 100'],
    ['GET', '/runs?limit=1000', undefined, {}, 400, 'query.limit', 'between 1 and 100'],
    ['GET', '/runs?status=DONE', undefined, {}, 400, 'query.status', 'must be one of "QUEUED"'],
    ['GET', '/runs?state=FAILED', undefined, {}, 400, 'query', 'unknown field "state"'],
    ['GET', '/runs/r1/logs?attempt=0', undefined, {}, 400, 'query.attempt', 'between 1 and 10'],
    ['GET', '/runs/r1/logs?limit=x', undefined, {}, 400, 'query.limit', 'whole number'],
    ['GET', '/schedules?verbose=1', undefined, {}, 400, 'query', 'unknown field "verbose"'],
    ['POST', '/schedules/nightly/backfill', '{"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}', {}, 400, 'body.from', 'with a zone'],
  ] as const)('%s %s %s → %s naming %s', async (method, path, body, headers, status, issuePath, message) => {
    const res = await call(method, path, body, headers);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('Validation');
    const issue = res.body.error.issues?.find((i) => i.path === issuePath);
    expect(issue, JSON.stringify(res.body)).toBeDefined();
    expect(issue!.message).toContain(message);
    // The message alone also names the field, for clients that show only it.
    expect(res.body.error.message).toContain(issuePath);
  });

  it('lists every problem of a request in one 400', async () => {
    const res = await call('POST', '/schedules/nightly/backfill', '{"from": "nope", "extra": 1}');
    expect(res.status).toBe(400);
    expect(res.body.error.issues?.map((i) => i.path).sort()).toEqual(['body', 'body.from', 'body.to']);
  });

  it.each([
    ['DELETE', '/runs/r1'],
    ['GET', '/nothing/here'],
    ['PATCH', '/schedules/x'],
  ])('answers %s %s with 404 naming the route', async (method, path) => {
    const res = await call(method, path);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'NotFound', message: `No route for ${method} ${path}.` });
  });

  it('refuses an event without an authorizer context with 401 (defense in depth behind the IAM authorizer)', async () => {
    const result = (await lambda.invoke('api', {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/runs',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/runs', protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'x' }, routeKey: '$default', stage: '$default', requestId: 'r', time: '', timeEpoch: 0, accountId: '1', apiId: 'a', domainName: 'd', domainPrefix: 'd' },
    })) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body).error.code).toBe('Unauthorized');
  });

  it('answers a failure on our side with a 500 that says nothing internal', async () => {
    // No BATCHRON_* environment in this process: the first route that needs it fails its cold start.
    const res = await call('GET', '/schedules');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('Internal');
    expect(JSON.stringify(res.body)).not.toMatch(/BATCHRON_|Error:|at /);
  });
});
