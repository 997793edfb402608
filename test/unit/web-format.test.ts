/** The dashboard's pure parts: expressions in words, durations, the DAG's layers, the Gantt's segments, the URL of a view. */
import { describe, expect, it } from 'vitest';
import { expressionInWords, formatDuration, ganttSegments, layers, median, relative } from '../../web/format.ts';
import { href, parseHash } from '../../web/router.ts';

describe('expressionInWords', () => {
  it.each([
    ['rate(1 minute)', 'every minute'],
    ['rate(5 minutes)', 'every 5 minutes'],
    ['rate(2 hours)', 'every 2 hours'],
    ['rate(1 day)', 'every day'],
    ['cron(* * * * ? *)', 'every minute'],
    ['cron(*/2 * * * ? *)', 'every 2 minutes'],
    ['cron(15 * * * ? *)', 'hourly at :15'],
    ['cron(0 2 * * ? *)', 'daily at 02:00'],
    ['cron(30 9 ? * MON-FRI *)', 'weekdays at 09:30'],
    ['cron(0 6 ? * 2 *)', 'Mondays at 06:00'],
    ['cron(0 6 ? * SUN *)', 'Sundays at 06:00'],
    ['cron(0 0 1 * ? *)', 'monthly on day 1 at 00:00'],
    ['at(2026-12-01T09:00:00)', 'once at 2026-12-01 09:00:00'],
    ['cron(0 8 L * ? *)', 'cron(0 8 L * ? *)'],
  ])('%s reads "%s"', (expression, words) => {
    expect(expressionInWords(expression)).toBe(words);
  });
});

describe('durations', () => {
  it.each([
    [850, '850 ms'],
    [42_000, '42s'],
    [185_000, '3m 05s'],
    [3_720_000, '1h 02m'],
    [3 * 86_400_000 + 3_600_000, '3d 1h'],
    [-1, '–'],
  ])('%i ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('says whether a time is ahead or behind', () => {
    expect(relative(10_000, 0)).toBe('in 10s');
    expect(relative(0, 65_000)).toBe('1m 05s ago');
  });

  it('takes the median of an even and an odd count, and of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });
});

describe('layers of a task graph', () => {
  it('puts every task right of what it depends on (fan-out and fan-in)', () => {
    const tasks = [
      { name: 'extract', dependsOn: [] },
      { name: 'orders', dependsOn: ['extract'] },
      { name: 'customers', dependsOn: ['extract'] },
      { name: 'load', dependsOn: ['orders', 'customers'] },
      { name: 'report', dependsOn: ['extract', 'load'] },
    ];
    expect(layers(tasks)).toEqual([['extract'], ['orders', 'customers'], ['load'], ['report']]);
  });
});

describe('Gantt segments', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const at = (s: number) => Date.parse(t(s));

  it('shows queued time, running time and the wait between two attempts', () => {
    const segments = ganttSegments(
      [
        {
          name: 'main',
          status: 'SUCCEEDED',
          attempts: [
            { attempt: 1, status: 'FAILED', exitCode: 3, submittedAt: t(0), startedAt: t(2), stoppedAt: t(5) },
            { attempt: 2, status: 'SUCCEEDED', exitCode: 0, submittedAt: t(15), startedAt: t(16), stoppedAt: t(20) },
          ],
        },
      ],
      at(30),
    );
    expect(segments.map((s) => [s.kind, s.start, s.end, s.status])).toEqual([
      ['queued', at(0), at(2), 'FAILED'],
      ['running', at(2), at(5), 'FAILED'],
      ['retry-wait', at(5), at(15), 'WAITING'],
      ['queued', at(15), at(16), 'SUCCEEDED'],
      ['running', at(16), at(20), 'SUCCEEDED'],
    ]);
    expect(segments[1]!.label).toContain('exit 3');
  });

  it('runs a running attempt, and a wait for a retry still ahead, up to now', () => {
    const segments = ganttSegments(
      [
        { name: 'a', status: 'RUNNING', attempts: [{ attempt: 1, status: 'RUNNING', submittedAt: t(0), startedAt: t(1) }] },
        { name: 'b', status: 'RETRY_WAIT', retryAt: t(60), attempts: [{ attempt: 1, status: 'FAILED', submittedAt: t(0), startedAt: t(1), stoppedAt: t(4) }] },
      ],
      at(10),
    );
    expect(segments.find((s) => s.row === 'a' && s.kind === 'running')!.end).toBe(at(10));
    expect(segments.find((s) => s.row === 'b' && s.kind === 'retry-wait')).toMatchObject({ start: at(4), end: at(10) });
  });
});

describe('the URL of a view', () => {
  it('names the view and its filters', () => {
    expect(parseHash('')).toMatchObject({ view: 'now' });
    expect(parseHash('#/schedules/etl-dag')).toMatchObject({ view: 'schedule', id: 'etl-dag' });
    const runs = parseHash('#/runs?status=FAILED&schedule=always-fails');
    expect(runs.view).toBe('runs');
    expect(Object.fromEntries(runs.query)).toEqual({ status: 'FAILED', schedule: 'always-fails' });
    expect(parseHash(`#/runs/${encodeURIComponent('a.b/c')}`)).toMatchObject({ view: 'run', id: 'a.b/c' });
    expect(parseHash('#/nothing')).toMatchObject({ view: 'notfound' });
    expect(href('/runs', { status: 'FAILED', schedule: '', cursor: undefined })).toBe('#/runs?status=FAILED');
  });
});
