/**
 * What the dashboard asks the API beyond the CLI's routes, end to end on the local stack
 * (serverless.yml deployed, functions/api over real HTTP, the api function's own IAM role
 * enforced by local/iam): a schedule's month calendar, the run of a Batch job id (found
 * through Batch, no item per job), and schedules started only by events in the listings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiStack, type ApiStack } from '#test/helpers/api-stack';
import { eventually } from '#test/helpers/stack';

let s: ApiStack;

beforeAll(async () => {
  s = await startApiStack('batchron-api-dashboard-test');
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

const call: ApiStack['call'] = (method, path, body, headers) => s.call(method, path, body, headers);

/** `2026-12` of an instant on a zone's clock. */
const monthIn = (t: number, timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(t).slice(0, 7);

describe('the calendar of a schedule', () => {
  it("shows a run on its day and the day's next fires after now, this month by default", async () => {
    // A schedule of its own, so the day holds only this test's runs (a day shows its first six,
    // and the example schedules of other files' stacks may share the table).
    const name = `cal-${process.pid}-${Date.now().toString(36)}`;
    expect((await call('POST', '/schedules', { name, expression: 'rate(1 minute)', job: { definition: 'batchron-dev-hello' } })).status).toBe(201);
    const started = await call('POST', `/schedules/${name}/runs`, {});
    expect(started.status).toBe(201);
    const cal = await eventually(async () => {
      const r = await call('GET', `/schedules/${name}/calendar`);
      return r.body.days?.some((d: any) => d.runs.shown.some((x: any) => x.runId === started.body.runId)) ? r : undefined;
    }, 'the triggered run in the calendar');
    expect(cal.status).toBe(200);
    const now = Date.parse(cal.body.now);
    expect(cal.body).toMatchObject({ schedule: name, timezone: 'UTC', month: monthIn(now, 'UTC'), timed: true });
    const today = cal.body.days.find((d: any) => d.date === new Date(now).toISOString().slice(0, 10));
    expect(today.runs.total).toBeGreaterThanOrEqual(1);
    for (const f of today.fires.shown) expect(Date.parse(f)).toBeGreaterThan(now);
    // A day still to come fires once a minute: more than the per-day count.
    const last = cal.body.days.at(-1);
    if (last.date > today.date) expect(last.fires).toMatchObject({ total: 24, more: true });
  });

  it('names the month in the URL and puts the fires on the days of the schedule zone', async () => {
    const now = Date.now();
    const next = new Date(now);
    next.setUTCDate(15);
    next.setUTCMonth(next.getUTCMonth() + 2);
    const month = monthIn(next.getTime(), 'Asia/Tokyo');
    const cal = await call('GET', `/schedules/nightly-tokyo/calendar?month=${month}`);
    expect(cal.status).toBe(200);
    expect(cal.body.month).toBe(month);
    // Midnight in Tokyo is 15:00 UTC the day before.
    expect(cal.body.from).toMatch(/T15:00:00\.000Z$/);
    for (const day of cal.body.days) {
      expect(day.fires.total).toBe(1);
      // 02:00 in Tokyo: 17:00 UTC on the day before.
      const prev = new Date(Date.parse(`${day.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      expect(day.fires.shown).toEqual([`${prev}T17:00:00.000Z`]);
    }
    expect([cal.body.previous, cal.body.next]).toEqual([
      monthIn(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)) - 2, 15), 'UTC'),
      monthIn(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)), 15), 'UTC'),
    ]);
  });

  it.each([
    ['?month=2026-13', 'query.month', 'must be a month as YYYY-MM (e.g. 2026-12)'],
    ['?month=1999-12', 'query.month', 'must be a month of the years 2000 to 2099'],
    ['?year=2026', 'query', 'year'],
  ])('refuses %s naming the field', async (query, path, message) => {
    const res = await call('GET', `/schedules/nightly-tokyo/calendar${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: expect.stringContaining(path), message: expect.stringContaining(message) })]);
  });

  it('answers 404 for an unknown schedule', async () => {
    expect((await call('GET', '/schedules/no-such/calendar')).status).toBe(404);
  });
});

describe('the run of a Batch job id', () => {
  it('finds the run, task and attempt of a job through Batch', async () => {
    // every-minute allows overlaps: an ad hoc run always starts its job.
    const started = await call('POST', '/schedules/every-minute/runs', {});
    const jobId = await eventually(async () => {
      const r = await call('GET', `/runs/${encodeURIComponent(started.body.runId)}`);
      return r.body.tasks?.[0]?.attempts?.[0]?.jobId as string | undefined;
    }, 'the job id of the run', 60_000);
    const res = await call('GET', `/runs?jobId=${encodeURIComponent(jobId)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ jobId, task: 'main', attempt: 1, runs: [{ runId: started.body.runId, schedule: 'every-minute', trigger: 'api' }] });
  });

  it('answers 404 "no run for job" for a job id Batch does not know', async () => {
    const res = await call('GET', '/runs?jobId=4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/^No run for job '4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11'/);
  });

  it.each([
    ['jobId=not%20a%20job', 'query.jobId', 'must be a Batch job id'],
    ['jobId=abc&schedule=etl-dag', 'query.jobId', 'takes no other filter'],
  ])('refuses ?%s with 400', async (query, path, message) => {
    const res = await call('GET', `/runs?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });
});

describe('a schedule started only by events', () => {
  it('is listed with its triggers in place of next fires, shown, paused and resumed', async () => {
    const list = await call('GET', '/schedules');
    expect(list.status).toBe(200);
    const onUpload = list.body.schedules.find((x: any) => x.name === 'on-upload');
    expect(onUpload).toMatchObject({ firedBy: 'events', expression: '', nextFireTimes: [], source: 'declared', paused: false, enabled: true });
    expect(list.body.schedules.find((x: any) => x.name === 'every-minute')).toMatchObject({ firedBy: 'time' });

    expect((await call('GET', '/schedules/on-upload')).body).toMatchObject({ name: 'on-upload', firedBy: 'events' });
    expect((await call('POST', '/schedules/on-upload/pause')).body).toMatchObject({ paused: true });
    expect((await call('POST', '/schedules/on-upload/resume')).body).toMatchObject({ paused: false });
    const backfill = await call('POST', '/schedules/on-upload/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' });
    expect(backfill.status).toBe(400);
    expect(backfill.body.error.issues).toEqual([{ path: 'path.name', message: expect.stringContaining('started only by events') }]);
    // Run ad hoc, its run is among the runs of every schedule.
    const adhoc = await call('POST', '/schedules/on-upload/runs', { parameters: { keys: '["incoming/a.csv"]' } });
    expect(adhoc.status, JSON.stringify(adhoc.body)).toBe(201);
    const everyRun = await call('GET', '/runs?limit=100');
    expect(everyRun.body.runs.map((r: any) => r.runId)).toContain(adhoc.body.runId);
    // Declared in serverless.yml: changed and deleted there, as any declared schedule.
    expect((await call('DELETE', '/schedules/on-upload')).status).toBe(409);
    const taken = await call('POST', '/schedules', { name: 'on-upload', expression: 'rate(1 hour)', job: { definition: 'batchron-dev-hello' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain("Schedule 'on-upload' already exists");
    const cal = await call('GET', '/schedules/on-upload/calendar');
    expect(cal.body).toMatchObject({ timed: false });
    expect(cal.body.days.every((d: any) => d.fires.total === 0)).toBe(true);
  });
});
