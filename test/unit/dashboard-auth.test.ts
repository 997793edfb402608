/**
 * Signing in to the dashboard on the local stack, and the roles behind it: the gateway
 * trades a token for an HttpOnly, SameSite=Strict session cookie, serves the data-free shell
 * without one, refuses everything else without one, and passes viewers and browser sessions
 * on as the JWT authorizer would; the api function refuses a viewer every change (403).
 * Real HTTP against the local gateway and the real functions/api handler; no AWS call.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import { Faults } from '#local/faults';
import { LocalLambda } from '#local/lambda';
import { SESSION_COOKIE, startHttpApi, type HttpApi } from '#local/http-api';
import { handler, handlerFor } from '#functions/api';
import { parseGroups, roleOf } from '#shared/api/auth';
import { codeChallenge } from '../../web/oidc.ts';

let dataDir: string;
let api: HttpApi;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'batchron-dashboard-auth-'));
  const clock = new Clock();
  const lambda = new LocalLambda({ clock, faults: new Faults(() => clock.now()) });
  lambda.register('api', handler);
  // The routes as serverless.yml declares them (local/deploy.ts marks "no authorizer" as 'none').
  api = await startHttpApi({
    port: 0,
    dataDir,
    lambda,
    routes: [
      { method: 'GET', path: '/', functionName: 'api', authorizer: 'none' },
      { method: 'GET', path: '/assets/{file}', functionName: 'api', authorizer: 'none' },
      { method: '*', path: '/ui/{proxy+}', functionName: 'api', authorizer: { name: 'dashboardJwt' } },
      { method: 'POST', path: '/schedules/{name}/runs', functionName: 'api', authorizer: { type: 'aws_iam' } },
    ],
  });
}, 60_000);

afterAll(async () => {
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signIn(token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${api.url}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
}

function cookieOf(res: Response): string {
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

describe('dashboard sign-in on the local stack', () => {
  it('keeps a viewer token beside the operator token, mode 0600, and prints a URL that carries the operator token', () => {
    const file = join(dataDir, 'viewer-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(api.viewerToken);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(api.viewerToken).not.toBe(api.token);
    expect(api.dashboardUrl).toBe(`${api.url}/?token=${encodeURIComponent(api.token)}`);
  });

  it('serves the shell and its assets without a token, with a strict CSP and no referrer', async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${api.url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${api.url}/assets/nothing.js`)).status).toBe(404);
  }, 30_000);

  it('trades the operator token for an HttpOnly SameSite=Strict cookie that is not the token', async () => {
    const res = await signIn(api.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ role: 'operator' });
    const setCookie = res.headers.getSetCookie()[0]!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(api.token);

    const me = await fetch(`${api.url}/ui/me`, { headers: { cookie: cookieOf(res) } });
    expect(await me.json()).toEqual({ role: 'operator' });
  });

  it('refuses a wrong token, and every data route without a token or cookie', async () => {
    const res = await signIn('not-the-token');
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await fetch(`${api.url}/ui/me`)).status).toBe(401);
    expect((await fetch(`${api.url}/ui/runs`, { headers: { cookie: `${SESSION_COOKIE}=forged` } })).status).toBe(401);
  });

  it('refuses a viewer every change with 403, by cookie or by bearer token', async () => {
    const viewer = cookieOf(await signIn(api.viewerToken));
    expect(await (await fetch(`${api.url}/ui/me`, { headers: { cookie: viewer } })).json()).toEqual({ role: 'viewer' });
    for (const [path, headers] of [
      ['/ui/schedules/nightly/runs', { cookie: viewer, origin: api.url }],
      ['/ui/schedules/nightly/pause', { cookie: viewer }],
      ['/ui/runs/r1/cancel', { cookie: viewer }],
      ['/ui/schedules/nightly/backfill', { cookie: viewer }],
      ['/schedules/nightly/runs', { authorization: `Bearer ${api.viewerToken}` }],
    ] as const) {
      const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Forbidden');
    }
  });

  it('refuses a change carried by the cookie from another site', async () => {
    const operator = cookieOf(await signIn(api.token));
    const res = await fetch(`${api.url}/ui/schedules/nightly/pause`, { method: 'POST', headers: { cookie: operator, origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
    expect((await signIn(api.token, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('routes /ui/… to the same routes and validation as the CLI', async () => {
    const operator = cookieOf(await signIn(api.token));
    const res = await fetch(`${api.url}/ui/runs?limit=0`, { headers: { cookie: operator } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { issues: { path: string }[] } };
    expect(body.error.issues[0]!.path).toBe('query.limit');
  });
});

describe('roles from the authorizer context', () => {
  const config = { groupsClaim: 'cognito:groups', operatorGroup: 'operators' };
  const event = (authorizer: unknown) => ({ requestContext: { authorizer } }) as never;

  it.each([
    ['[operators viewers]', ['operators', 'viewers']],
    ['["operators"]', ['operators']],
    ['operators,viewers', ['operators', 'viewers']],
    ['viewers', ['viewers']],
    [['a', 'b'], ['a', 'b']],
    [undefined, []],
    [3, []],
  ] as const)('reads the groups claim %j as %j', (claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });

  it('makes IAM callers operators, JWT callers operators only in the operator group', () => {
    expect(roleOf(event({ iam: { userArn: 'x' } }), config)).toBe('operator');
    expect(roleOf(event({ jwt: { claims: { 'cognito:groups': '[operators]' } } }), config)).toBe('operator');
    expect(roleOf(event({ jwt: { claims: { 'cognito:groups': '[viewers]' } } }), config)).toBe('viewer');
    expect(roleOf(event({ jwt: { claims: {} } }), config)).toBe('viewer');
    expect(roleOf(event({ jwt: { claims: { groups: 'ops' } } }), { groupsClaim: 'groups', operatorGroup: 'ops' })).toBe('operator');
    expect(roleOf(event(undefined), config)).toBeUndefined();
  });
});

describe('sign-in on AWS (OIDC with PKCE)', () => {
  const event = (path: string) =>
    ({ version: '2.0', rawPath: path, headers: {}, requestContext: { http: { method: 'GET', path } } }) as never;

  it('tells the browser where to sign in, and lets the page call only the token endpoint besides itself', async () => {
    const fresh = handlerFor({
      env: {
        BATCHRON_DASHBOARD_AUTHORIZE_URL: 'https://team.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
        BATCHRON_DASHBOARD_CLIENT_ID: 'client123',
      },
      now: () => Date.now(),
    });
    const config = (await fresh(event('/auth/session'), {} as never)) as { statusCode: number; body: string };
    expect(config.statusCode).toBe(200);
    expect(JSON.parse(config.body)).toEqual({
      signIn: 'oidc',
      authorizeUrl: 'https://team.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
      tokenUrl: 'https://team.auth.eu-west-1.amazoncognito.com/oauth2/token',
      clientId: 'client123',
    });
    const shell = (await fresh(event('/'), {} as never)) as { headers: Record<string, string> };
    expect(shell.headers['content-security-policy']).toContain("connect-src 'self' https://team.auth.eu-west-1.amazoncognito.com;");
  }, 30_000);

  it('answers with the settings of the runtime each handler is built over, two in one process, whatever was imported first', async () => {
    // Prepare
    const local = handlerFor({ env: {}, now: () => Date.now() });
    const aws = handlerFor({
      env: { BATCHRON_DASHBOARD_AUTHORIZE_URL: 'https://other.auth.eu-west-1.amazoncognito.com/oauth2/authorize', BATCHRON_DASHBOARD_CLIENT_ID: 'other' },
      now: () => Date.now(),
    });
    // Act
    const [first, second] = await Promise.all([local(event('/auth/session'), {} as never), aws(event('/auth/session'), {} as never)]);
    // Assess
    expect(JSON.parse((first as { body: string }).body)).toEqual({ signIn: 'none' });
    expect(JSON.parse((second as { body: string }).body)).toMatchObject({ signIn: 'oidc', clientId: 'other' });
  });

  it('computes the S256 code challenge as RFC 7636 defines it: BASE64URL(SHA256(verifier)), unpadded', async () => {
    for (const verifier of ['dBjftJeZ4CVP-mJ92K9qpaLqJfkpUiPRjSTEgk_fNzMU', 'a'.repeat(43), 'x~y.z_0-9'.repeat(6)]) {
      const expected = createHash('sha256').update(verifier).digest('base64url');
      expect(await codeChallenge(verifier)).toBe(expected);
    }
  });
});
