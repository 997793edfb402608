/**
 * The local API Gateway HTTP API: payload 2.0 events as API Gateway builds them, its
 * result rules, and the bearer token that stands in for the IAM authorizer. Real HTTP
 * (fetch) against the server, real local Lambda runtime behind it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import { LocalLambda } from '#local/lambda';
import { loadOrCreateApiToken, startHttpApi, type HttpApi, type HttpApiEventV2 } from '#local/http-api';

const NOW = Date.parse('2026-11-23T10:20:30Z');
let dataDir: string;
let api: HttpApi;
const seen: HttpApiEventV2[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'batchron-http-api-'));
  const clock = new Clock(NOW);
  const lambda = new LocalLambda({ clock, faults: new Faults(() => clock.now()) });
  lambda.register('echo', async (event: HttpApiEventV2) => {
    seen.push(event);
    return { statusCode: 202, headers: { 'X-Echo': 'yes' }, cookies: ['a=1', 'b=2'], body: JSON.stringify({ ok: true }) };
  });
  lambda.register('plain', async () => ({ hello: 'world' }));
  lambda.register('broken', async () => {
    throw new Error('secret internal detail');
  });
  api = await startHttpApi({
    port: 0,
    dataDir,
    lambda,
    now: () => clock.now(),
    routes: [
      { method: 'POST', path: '/things/{id}', functionName: 'echo' },
      { method: 'GET', path: '/things/special', functionName: 'plain' },
      { method: 'ANY', path: '/things/{id}', functionName: 'plain' },
      { method: 'GET', path: '/files/{path+}', functionName: 'echo' },
      { method: 'GET', path: '/broken', functionName: 'broken' },
    ],
  });
});

afterAll(async () => {
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${api.token}` });

describe('local HTTP API', () => {
  it('keeps a generated token in <dataDir>/api-token with mode 0600 and reuses it on the next start', () => {
    const file = join(dataDir, 'api-token');
    expect(api.tokenCreated).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(api.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(api.token.length).toBeGreaterThanOrEqual(40);
    expect(loadOrCreateApiToken(dataDir)).toMatchObject({ token: api.token, created: false });
  });

  it('builds the payload 2.0 event API Gateway sends', async () => {
    seen.length = 0;
    const res = await fetch(`${api.url}/things/a%20b?x=1&x=2&y=3`, {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json', 'X-Custom': 'v', cookie: 'c1=v1; c2=v2', 'user-agent': 'test-agent' },
      body: '{"k":"v"}',
    });
    expect(res.status).toBe(202);
    const event = seen[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /things/{id}',
      rawPath: '/things/a%20b',
      rawQueryString: 'x=1&x=2&y=3',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { x: '1,2', y: '3' },
      pathParameters: { id: 'a b' },
      body: '{"k":"v"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        routeKey: 'POST /things/{id}',
        stage: '$default',
        time: '23/Nov/2026:10:20:30 +0000',
        http: { method: 'POST', path: '/things/a b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent' },
        authorizer: { iam: { accountId: '000000000000', userArn: 'arn:aws:iam::000000000000:user/batchron-local' } },
      },
    });
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(NOW);
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['x-custom']).toBe('v');
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it("maps the function's structured result to status, headers, cookies and body", async () => {
    const res = await fetch(`${api.url}/things/1`, { method: 'POST', headers: auth() });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers a result without statusCode as 200 JSON', async () => {
    const res = await fetch(`${api.url}/things/1`, { method: 'DELETE', headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('prefers a static segment over a parameter, and an exact method over ANY', async () => {
    const res = await fetch(`${api.url}/things/special`, { headers: auth() });
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('passes a greedy path parameter whole', async () => {
    seen.length = 0;
    await fetch(`${api.url}/files/a/b/c.txt`, { headers: auth() });
    expect(seen[0]?.pathParameters).toEqual({ path: 'a/b/c.txt' });
    expect(seen[0]?.routeKey).toBe('GET /files/{path+}');
    expect(seen[0]?.queryStringParameters).toBeUndefined();
    expect(seen[0]?.body).toBeUndefined();
  });

  it('base64-encodes a binary body', async () => {
    seen.length = 0;
    await fetch(`${api.url}/things/1`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/octet-stream' }, body: new Uint8Array([0, 1, 2, 255]) });
    expect(seen[0]?.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0]!.body!, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it.each([
    ['no Authorization header', {}, /Missing Authorization header/],
    ['a wrong token', { authorization: 'Bearer not-the-token' }, /not the one this local API issued/],
    ['a token without the Bearer scheme', { authorization: 'token' }, /not the one this local API issued/],
  ])('refuses %s with 401 before any function runs', async (_name, headers, message) => {
    seen.length = 0;
    const res = await fetch(`${api.url}/things/1`, { method: 'POST', headers });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('Unauthorized');
    expect(body.error.message).toMatch(message);
    expect(seen).toHaveLength(0);
  });

  it('answers 404 JSON for a path no route declares', async () => {
    const res = await fetch(`${api.url}/nowhere`, { headers: auth() });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NotFound', message: 'No route for GET /nowhere.' } });
  });

  it('answers 500 without the internal message when the function throws', async () => {
    const res = await fetch(`${api.url}/broken`, { headers: auth() });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text)).toEqual({ error: { code: 'InternalServerError', message: 'Internal Server Error' } });
  });
});
