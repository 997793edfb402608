/**
 * Generated malformed requests against the real functions/api handler, in process: each
 * request is the API Gateway payload 2.0 event the local HTTP API builds for it (its own
 * `buildEventV2`, the operator's bearer token passed on as the IAM authorizer), the answer
 * read as the gateway reads it (`interpretResult`). The handler runs over the in-memory
 * stores and in-process Batch, Scheduler, Logs and EventBridge (test/helpers/api-world.ts)
 * with serverless.yml's schedules in the Scheduler as the local deploy creates them, so
 * requests that pass validation reach the store and the Scheduler as on AWS. Whatever comes
 * in: no 5xx, no throw or unhandled rejection, every 4xx body `{ error: { code, message } }`,
 * every 400 naming its fields, and 401 for every request without the authorizer but the
 * routes serverless.yml declares public (the dashboard's files and sign-in answer).
 *
 * The HTTP layer in front of it (local/http-api.ts: the token check, body limits, the
 * guard) is proven over real HTTP by test/integration/api.test.ts ("malformed requests over
 * real HTTP").
 *
 * Generated names never match the project's schedules (they carry a marker no declared name
 * has), so no generated request can trigger, pause or delete a real schedule's runs.
 */
import { METHODS } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '#shared/api/routes';
import { compileRoutes, matchRoute } from '#local/http-api';
import { apiWorld, invoke, loadProject, type MemoryScheduler, type RawRequest } from '#test/helpers/api-world';
import type { CrashWorld } from '#test/helpers/crash-world';
import { problemWith, type ErrorBody } from '#test/helpers/api-answers';

let world: CrashWorld;
let scheduler: MemoryScheduler;
let isPublic: (method: string, path: string) => boolean;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const project = await loadProject();
  ({ world, scheduler } = await apiWorld(project));
  const publicRoutes = compileRoutes(project.publicRoutes.map((r) => ({ ...r, functionName: 'api', authorizer: 'none' })));
  // The gateway matches a HEAD against nothing but its GET twin's files here: the handler serves both.
  isPublic = (method, path) => matchRoute(publicRoutes, method === 'HEAD' ? 'GET' : method, path.split('?')[0]!) !== undefined;
}, 60_000);

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

type Req = RawRequest;

interface Res {
  status: number;
  text: string;
}

/** The handler's answer; a throw is what API Gateway answers 500. */
async function send(req: Req, authorized: boolean): Promise<Res> {
  try {
    return await invoke(world, req, authorized);
  } catch (error) {
    return { status: 500, text: `the handler threw: ${(error as Error)?.stack ?? String(error)}` };
  }
}

/* ------------------------------------------------------------------ generators */

// A marker no declared schedule has, so generated names exist nowhere.
const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).map((s) => `zz-fuzz-${s}`),
  fc.string({ maxLength: 80 }).map((s) => `zz${s}`),
  fc.constantFrom('zz', 'zz-' + 'x'.repeat(70), 'zz%20a', 'zz%2Fa', 'zz%ZZ', 'zz%', 'zz..', 'zz%00', 'zz#a', 'zz.20260101T000000Z'),
);
/** A path segment: URL-encoded, or raw with characters HTTP allows in a request target. */
const segment = fc.oneof(
  name.map(encodeURIComponent),
  name.map((s) => s.replace(/[^\x21-\x7e]/g, '').replace(/[?#]/g, '') || 'zz'),
);
const apiPath = fc.oneof(
  fc.constantFrom('/schedules', '/schedules/pause', '/schedules/resume', '/runs', '/', '', '/schedules/', '/runs/', '//runs', '/schedules//runs'),
  segment.map((n) => `/schedules/${n}`),
  fc.tuple(segment, fc.constantFrom('pause', 'resume', 'runs', 'backfill', 'logs', 'cancel', 'x')).map(([n, s]) => `/schedules/${n}/${s}`),
  segment.map((n) => `/runs/${n}`),
  fc.tuple(segment, fc.constantFrom('cancel', 'logs', 'x')).map(([n, s]) => `/runs/${n}/${s}`),
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`),
);
/** The API's paths, the same under the dashboard's `/ui` prefix, and the dashboard's own (files, sign-in answer, `/ui/me`). */
const routePath = fc.oneof(
  { arbitrary: apiPath, weight: 4 },
  { arbitrary: apiPath.map((p) => `/ui${p.startsWith('/') ? p : `/${p}`}`), weight: 1 },
  { arbitrary: fc.constantFrom('/ui', '/ui/', '/ui/me', '/assets/app.js', '/assets/zz', '/assets/', '/auth/session', '/index.html'), weight: 1 },
);
const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('0', '-1', '1e3', '101', '', 'QUEUED', 'FAILED', 'true'));
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.constantFrom('limit', 'cursor', 'status', 'schedule', 'attempt', 'task', 'from', 'to', 'x', 'limit[]', ''), queryValue), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '')),
  fc.constantFrom('?', '?&&', '?limit', '?limit=%ZZ', '?cursor=!!!', '?cursor=eyJ4IjoxfQ', '?limit=1&limit=2'),
);
// Every method Node's HTTP parser accepts (it answers other tokens 400 itself, before any of our code); CONNECT opens a tunnel.
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.constantFrom(...METHODS.filter((m) => m !== 'CONNECT')));
const json = fc.jsonValue({ maxDepth: 3 });
/** Wrong types at every field of every route's body, plus anything at all. */
const body = fc.oneof(
  fc.constant(undefined),
  json.map((v) => JSON.stringify(v)),
  fc.record({ parameters: json }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ from: json, to: json }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ prefix: json, tag: fc.oneof(json, fc.record({ key: json, value: json }, { requiredKeys: [] })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc
    .record(
      { name: fc.oneof(json, name), expression: json, timezone: json, tasks: json, job: json, overlap: json, parameters: json, tags: json, enabled: json },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('{', '[', 'null', '""', '{"a":', '\u0000', '{"from":"2026-01-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}', '{"parameters":{"a":"b"}}', '{"prefix":"zz-fuzz-"}'),
);
const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', 'x'.repeat(300), 'a b', 'ok-key-1')).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const headers = fc.record(
  {
    'idempotency-key': headerValue,
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', ''),
    accept: fc.constantFrom('*/*', 'text/html'),
    'x-fuzz': headerValue,
  },
  { requiredKeys: [] },
);
/** A request to one of the API's real routes (from its route table) with a generated name or id. */
const routed = fc
  .tuple(fc.constantFrom(...apiRoutes), segment, query, headers, body)
  .map(([route, id, q, h, b]) => ({ method: route.method as string, path: route.path.replace(/\{[^}]+\}/, id) + q, headers: h, body: b }));
const anywhere = fc.record({ method, path: fc.tuple(routePath, query).map(([p, q]) => (p.startsWith('/') ? p : `/${p}`) + q), headers, body });
const requestArb = fc.oneof({ arbitrary: routed, weight: 3 }, { arbitrary: anywhere, weight: 2 });

/* ------------------------------------------------------------------ properties */

describe('fuzzed API requests', () => {
  it('answers thousands of malformed requests without a 5xx, each refusal in the error shape naming the field', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        // Act
        const req: Req = { ...r, headers: { ...r.headers, authorization: 'Bearer operator-token' } };
        const res = await send(req, true);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // Assess
        const problem = problemWith(req, res);
        if (problem) throw new Error(`${problem}: ${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body ?? ''} → ${res.status} ${res.text.slice(0, 500)}`);
      }),
      { numRuns: 5_000 },
    );
    await world.idle();
    expect(unhandled).toEqual([]);
    // The generators do reach the validators, not only the router's 404, and some requests pass them.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    // serverless.yml's schedules were there to be found (and none was deleted: generated names never match).
    expect(scheduler.schedules.size).toBeGreaterThan(0);
  }, 120_000);

  it('refuses every generated request without the token with 401 before any route runs', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, fc.constantFrom(undefined, 'Bearer wrong', 'Basic abc', 'Bearer', ''), async (r, authorization) => {
        // Arrange
        const req: Req = { ...r, headers: { ...r.headers, ...(authorization !== undefined ? { authorization } : {}) } };
        // serverless.yml declares the dashboard's files and its sign-in answer without an authorizer.
        fc.pre(!isPublic(req.method, req.path));
        // Act
        const res = await send(req, false);
        // Assess
        expect(res.status).toBe(401);
        if (req.method !== 'HEAD') expect((JSON.parse(res.text) as ErrorBody).error?.code).toBe('Unauthorized');
        refused++;
      }),
      { numRuns: 1_000 },
    );
    expect(refused).toBeGreaterThan(900);
  });
});
