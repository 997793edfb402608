/**
 * The HTTP API end to end on the local stack: serverless.yml deployed with deployLocal,
 * functions/api registered in the local Lambda runtime, served by local/http-api.ts, and
 * called over real HTTP with the bearer token, the way the CLI calls it.
 *
 * Also a fixed sample of malformed requests over real HTTP (the HTTP layer in front of the
 * handler: the token, the body limit, the nesting guard, content types, raw paths and
 * queries), held to what the API fuzz holds every answer to in process
 * (test/unit/fuzz-api.test.ts).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemWith, type ErrorBody } from '#test/helpers/api-answers';
import { startApiStack, type ApiStack } from '#test/helpers/api-stack';
import { eventually } from '#test/helpers/stack';

let s: ApiStack;

beforeAll(async () => {
  s = await startApiStack('batchron-api-test');
});

afterAll(async () => {
  await s?.stop();
});

const call: ApiStack['call'] = (method, path, body, headers) => s.call(method, path, body, headers);

describe('schedules', () => {
  it('lists the declared schedules with next fire times in their zone, paused flag and origin', async () => {
    const res = await call('GET', '/schedules');
    expect(res.status).toBe(200);
    const tokyo = res.body.schedules.find((s: any) => s.name === 'nightly-tokyo');
    expect(tokyo).toMatchObject({ origin: 'declared', timezone: 'Asia/Tokyo', paused: false, enabled: true });
    expect(tokyo.nextFireTimes).toHaveLength(5);
    expect(tokyo.nextFireTimesLocal[0]).toMatch(/T02:00:00\+09:00$/);
    expect(res.body.schedules.map((s: any) => s.name)).not.toContain('_sweep');
  });

  it("shows a schedule's deadline: its rule and the next one on its clock, in the listing and alone", async () => {
    const listed = (await call('GET', '/schedules')).body.schedules.find((s: any) => s.name === 'nightly-tokyo');
    expect(listed.deadline).toEqual({
      rule: '06:00 Asia/Tokyo, for the same logical date',
      next: { at: expect.stringMatching(/T21:00:00\.000Z$/), atLocal: expect.stringMatching(/T06:00:00\+09:00$/), logicalDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
    });
    expect(listed.deadline.next.atLocal.slice(0, 10)).toBe(listed.deadline.next.logicalDate);
    expect((await call('GET', '/schedules/nightly-tokyo')).body.deadline).toEqual(listed.deadline);
    // A schedule without one has no deadline field.
    expect((await call('GET', '/schedules/every-minute')).body).not.toHaveProperty('deadline');
  });

  it('answers 404 for an unknown schedule', async () => {
    const res = await call('GET', '/schedules/no-such');
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'NotFound', message: "Schedule 'no-such' does not exist." });
  });

  it('pauses and resumes a schedule in DynamoDB and in Scheduler', async () => {
    const paused = await call('POST', '/schedules/nightly-tokyo/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, enabled: false });
    expect((await call('GET', '/schedules/nightly-tokyo')).body).toMatchObject({ paused: true, enabled: false });
    const resumed = await call('POST', '/schedules/nightly-tokyo/resume');
    expect(resumed.body).toMatchObject({ paused: false, enabled: true });
  });

  it('pauses and resumes every schedule matching a prefix', async () => {
    const res = await call('POST', '/schedules/pause', { prefix: 'overlap-' });
    expect(res.body).toEqual({ paused: true, schedules: ['overlap-skip'] });
    expect((await call('POST', '/schedules/resume', { prefix: 'overlap-' })).body).toEqual({ paused: false, schedules: ['overlap-skip'] });
  });

  it('creates, updates and deletes a dynamic schedule, and refuses to edit a declared one', async () => {
    const spec = { expression: 'cron(0 3 * * ? *)', timezone: 'Europe/Berlin', job: { definition: 'batchron-dev-hello' } };
    const created = await call('POST', '/schedules', { name: 'dyn-api-test', ...spec });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'dyn-api-test', origin: 'api', timezone: 'Europe/Berlin' });
    expect((await call('POST', '/schedules', { name: 'dyn-api-test', ...spec })).status).toBe(409);
    const updated = await call('PUT', '/schedules/dyn-api-test', { ...spec, expression: 'cron(0 4 * * ? *)' });
    expect(updated.body.expression).toBe('cron(0 4 * * ? *)');
    const declared = await call('PUT', '/schedules/nightly-tokyo', spec);
    expect(declared.status).toBe(409);
    expect(declared.body.error.message).toContain('declared in serverless.yml');
    expect((await call('DELETE', '/schedules/nightly-tokyo')).status).toBe(409);
    expect((await call('DELETE', '/schedules/dyn-api-test')).body).toEqual({ deleted: 'dyn-api-test' });
    expect((await call('GET', '/schedules/dyn-api-test')).status).toBe(404);
  });

  it('tells declared and dynamic schedules apart in the listing and refuses to delete a declared one, naming serverless.yml', async () => {
    // Prepare
    const spec = { expression: 'cron(0 3 * * ? *)', job: { definition: 'batchron-dev-hello' } };
    expect((await call('POST', '/schedules', { name: 'dyn-source-test', ...spec })).status).toBe(201);
    // Act
    const listed = (await call('GET', '/schedules')).body.schedules as { name: string; source: string }[];
    const refused = await call('DELETE', '/schedules/etl-dag');
    const deleted = await call('DELETE', '/schedules/dyn-source-test');
    // Assess
    expect(listed.find((s) => s.name === 'etl-dag')?.source).toBe('declared');
    expect(listed.find((s) => s.name === 'dyn-source-test')?.source).toBe('dynamic');
    expect(listed.every((s) => s.source === 'declared' || s.source === 'dynamic')).toBe(true);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('serverless.yml');
    expect(refused.body.error.message).toContain('source: declared');
    expect(deleted.status).toBe(200);
  });

  it('answers a run of a paused schedule with the run SKIPPED and the reason (201: a run record was created)', async () => {
    // Prepare
    // (flaky: a schedule no other test here reads the runs of)
    await call('POST', '/schedules/flaky/pause');
    // Act
    const res = await call('POST', '/schedules/flaky/runs', {});
    await call('POST', '/schedules/flaky/resume');
    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'SKIPPED', statusReason: 'schedule is paused' });
  });

  it('refuses an invalid dynamic schedule with the field named', async () => {
    const res = await call('POST', '/schedules', { name: 'dyn-bad', expression: 'cron(0 25 * * ? *)', timezone: 'Mars/Olympus', job: { definition: 'x' } });
    expect(res.status).toBe(400);
    const paths = res.body.error.issues.map((i: any) => i.path);
    expect(paths).toContain('body.expression');
    expect(paths).toContain('body.timezone');
  });
});

describe('runs', () => {
  it('starts a run with parameters, returns the same run for the same Idempotency-Key and 409 for other parameters', async () => {
    const first = await call('POST', '/schedules/etl-dag/runs', { parameters: { day: '2026-11-01' } }, { 'idempotency-key': 'k-1' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ schedule: 'etl-dag', trigger: 'api', parameters: { day: '2026-11-01' } });
    const again = await call('POST', '/schedules/etl-dag/runs', { parameters: { day: '2026-11-01' } }, { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(200);
    expect(again.body.runId).toBe(first.body.runId);
    const other = await call('POST', '/schedules/etl-dag/runs', { parameters: { day: '2026-11-02' } }, { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
    expect(other.body.error.message).toContain("Idempotency-Key 'k-1'");
  });

  it('starts a new run for each request without a key', async () => {
    const a = await call('POST', '/schedules/every-minute/runs');
    const b = await call('POST', '/schedules/every-minute/runs', {});
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.runId).not.toBe(b.body.runId);
  });

  it.each([
    [{ parameters: { month: '11' } }, 'body.parameters.month', "is not a parameter of schedule 'etl-dag' (it declares: day)"],
    [{ parameters: { day: 'monday' } }, 'body.parameters.day', 'does not match the pattern'],
  ])('refuses parameters the schedule does not declare or allow: %j', async (body, path, message) => {
    const res = await call('POST', '/schedules/etl-dag/runs', body);
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it('answers 404 for a run of an unknown schedule', async () => {
    const res = await call('POST', '/schedules/no-such/runs', {});
    expect(res.status).toBe(404);
  });

  it('shows a run with its tasks and attempts once its job is submitted, and lists it', async () => {
    const started = await call('POST', '/schedules/every-minute/runs', {});
    const run = await eventually(async () => {
      const r = await call('GET', `/runs/${encodeURIComponent(started.body.runId)}`);
      return r.body.tasks?.[0]?.attempts?.[0]?.jobId ? r.body : undefined;
    }, 'the job id of the run');
    expect(run.tasks[0]).toMatchObject({ name: 'main', phase: 'main' });
    expect(run.tasks[0].attempts[0]).toMatchObject({ attempt: 1 });
    const listed = await call('GET', '/runs?schedule=every-minute&limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body.runs.map((r: any) => r.runId)).toContain(run.runId);
  });

  it('pages through runs with a cursor without repeating one', async () => {
    for (let i = 0; i < 3; i++) await call('POST', '/schedules/flaky/runs', {});
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call('GET', `/runs?schedule=flaky&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.runs.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.runs.map((r: any) => r.runId));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses a tampered cursor with 400', async () => {
    const res = await call('GET', '/runs?cursor=not-a-cursor');
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe('query.cursor');
  });

  it('answers 404 for an unknown run', async () => {
    expect((await call('GET', '/runs/nope')).status).toBe(404);
    expect((await call('POST', '/runs/nope/cancel')).status).toBe(404);
  });

  it('cancels a running run, then answers 409 to a second cancel', async () => {
    // every-minute allows overlap: an ad hoc run starts even while a scheduled one is active.
    const started = await call('POST', '/schedules/every-minute/runs', {});
    expect(started.status).toBe(201);
    expect(started.body.status).not.toBe('SKIPPED');
    const id = encodeURIComponent(started.body.runId);
    const cancelled = await call('POST', `/runs/${id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    const again = await call('POST', `/runs/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already finished (CANCELLED');
  });
});

describe('backfill', () => {
  it('starts one run per scheduled time in [from, to), with the ids normal fires would have', async () => {
    const res = await call('POST', '/schedules/nightly-tokyo/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-04T00:00:00Z', parallel: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.created).toBe(3);
    // 02:00 Tokyo = 17:00Z the day before: Jan 1, 2 and 3 at 17:00Z.
    expect(res.body.runs.map((r: any) => r.scheduledTime)).toEqual([
      '2026-01-01T17:00:00.000Z',
      '2026-01-02T17:00:00.000Z',
      '2026-01-03T17:00:00.000Z',
    ]);
    expect(res.body.runs[0].runId).toBe('nightly-tokyo.20260101T170000Z');
    // Defect: "the last run column showed a run many runs old": it is the latest by scheduled time, at once.
    expect((await call('GET', '/schedules/nightly-tokyo')).body.lastRun).toMatchObject({ runId: 'nightly-tokyo.20260103T170000Z', scheduledTime: '2026-01-03T17:00:00.000Z' });
    const again = await call('POST', '/schedules/nightly-tokyo/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-04T00:00:00Z', parallel: 3 });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(0);
  });

  it('lists the runs of a scheduled-time range [scheduledFrom, scheduledTo), paging within it', async () => {
    await call('POST', '/schedules/nightly-tokyo/backfill', { from: '2026-02-01T00:00:00Z', to: '2026-02-06T00:00:00Z', parallel: 50 });
    const range = 'scheduledFrom=2026-02-02T17:00:00Z&scheduledTo=2026-02-04T17:00:00Z';
    // A backfill may start its runs after answering: wait for the five of them.
    await eventually(async () => (await call('GET', '/runs?schedule=nightly-tokyo&scheduledFrom=2026-02-01T00:00:00Z&scheduledTo=2026-02-06T00:00:00Z')).body.runs.length === 5 || undefined, 'the backfilled runs');
    const all = await call('GET', `/runs?schedule=nightly-tokyo&${range}`);
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body.runs.map((r: any) => r.scheduledTime)).toEqual(['2026-02-03T17:00:00.000Z', '2026-02-02T17:00:00.000Z']);
    const first = await call('GET', `/runs?schedule=nightly-tokyo&limit=1&${range}`);
    const second = await call('GET', `/runs?schedule=nightly-tokyo&limit=1&${range}&cursor=${first.body.cursor}`);
    expect([...first.body.runs, ...second.body.runs].map((r: any) => r.scheduledTime)).toEqual(['2026-02-03T17:00:00.000Z', '2026-02-02T17:00:00.000Z']);
    expect(second.body.cursor).toBeUndefined();
    const across = await call('GET', `/runs?${range}`);
    expect(across.body.runs.map((r: any) => r.runId)).toEqual(['nightly-tokyo.20260203T170000Z', 'nightly-tokyo.20260202T170000Z']);
    const bad = await call('GET', '/runs?scheduledFrom=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('query.scheduledFrom');
  });

  it.each([
    [{ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'every-minute', 'more than 500 fire times'],
    [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'nightly-tokyo', 'must be after body.from'],
    [{ from: '2026-01-01T00:00:00Z', to: '2999-01-01T00:00:00Z' }, 'nightly-tokyo', 'must not be in the future'],
  ])('refuses %j on %s with 400', async (body, schedule, message) => {
    const res = await call('POST', `/schedules/${schedule}/backfill`, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
  });

  it('answers 404 for an unknown schedule', async () => {
    expect((await call('POST', '/schedules/no-such/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' })).status).toBe(404);
  });
});

describe('malformed requests over real HTTP', () => {
  interface Raw {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Leave the bearer token out. */
    anonymous?: boolean;
  }

  /** Sends a request as is (no URL normalization), over a fresh connection; the answer's status and text. */
  function send(req: Raw): Promise<{ status: number; text: string }> {
    const url = new URL(s.api.url);
    const headers = {
      ...(req.anonymous ? {} : { authorization: `Bearer ${s.api.token}` }),
      ...req.headers,
      ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
    };
    return new Promise((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      // The gateway may answer (413, 401) and close before an oversized body is all written.
      r.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      r.end(req.body);
    });
  }

  const json = { 'content-type': 'application/json' };
  it.each<{ what: string; req: Raw; status: number; code: string; field?: string }>([
    { what: 'no token', req: { method: 'GET', path: '/runs', anonymous: true }, status: 401, code: 'Unauthorized' },
    { what: 'a wrong token', req: { method: 'POST', path: '/schedules/zz-http/runs', headers: { authorization: 'Bearer wrong', ...json }, body: '{}', anonymous: true }, status: 401, code: 'Unauthorized' },
    { what: 'a body over 10 MB', req: { method: 'POST', path: '/schedules', headers: json, body: JSON.stringify({ name: 'zz-http', pad: 'x'.repeat(10 * 1024 * 1024) }) }, status: 413, code: 'PayloadTooLarge' },
    { what: 'bad JSON', req: { method: 'POST', path: '/schedules', headers: json, body: '{"name":' }, status: 400, code: 'Validation', field: 'body' },
    { what: 'a form body', req: { method: 'POST', path: '/schedules/zz-http/runs', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'parameters=1' }, status: 400, code: 'Validation', field: 'body' },
    { what: 'a binary content type (base64 to the function)', req: { method: 'POST', path: '/schedules', headers: { 'content-type': 'application/octet-stream' }, body: '{"name":5}' }, status: 400, code: 'Validation', field: 'body.name' },
    { what: 'a bad query', req: { method: 'GET', path: '/runs?limit=0&status=NOPE', headers: {} }, status: 400, code: 'Validation', field: 'query.limit' },
    { what: 'a malformed percent-encoding', req: { method: 'GET', path: '/schedules/zz%ZZ/runs?limit=%ZZ' }, status: 404, code: 'NotFound' },
    { what: 'an unknown method', req: { method: 'PATCH', path: '/runs' }, status: 404, code: 'NotFound' },
  ])('answers $what with $status in the error shape', async ({ req, status, code, field }) => {
    // Act
    const res = await send(req);
    // Assess
    expect(res.status, res.text.slice(0, 300)).toBe(status);
    expect(problemWith(req, res)).toBeUndefined();
    const error = (JSON.parse(res.text) as ErrorBody).error!;
    expect(error.code).toBe(code);
    if (field) expect(error.issues?.map((i) => i.path)).toContain(field);
  });

  it('answers JSON nested deeper than the guard allows with 400 before the function runs', async () => {
    const res = await send({ method: 'POST', path: '/schedules', headers: json, body: `${'['.repeat(1_001)}${']'.repeat(1_001)}` });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: { code: 'BadRequest', message: expect.stringContaining('deeper than 1000 levels') } });
  });
});
