/**
 * Now: what is running (current task, elapsed against the usual duration), what failed in
 * the last 24 h, what fires in the next hour, and runs stuck longer than they should be.
 * `?wall=1` is the full-screen wall display.
 */
import { api, type RunSummary, type RunView, type ScheduleView } from '../api.ts';
import { Loading, Problem, Section, Status } from '../components/common.tsx';
import { formatDuration, localTime, median, relative } from '../format.ts';
import { usePoll, useNow } from '../hooks.ts';

/** Run states past which a run is "stuck" (the sweeper's defaults in serverless.yml). */
const STUCK_AFTER_MS: Record<string, number> = { QUEUED: 30 * 60_000, SUBMITTED: 120 * 60_000, RUNNING: 720 * 60_000 };

interface NowData {
  active: { run: RunView; usual?: number | undefined }[];
  failed: RunSummary[];
  schedules: ScheduleView[];
}

const DAY = 24 * 3600_000;

async function loadNow(): Promise<NowData> {
  const [running, submitted, queued, failed, { schedules }] = await Promise.all([
    api.runs({ status: 'RUNNING', limit: 50 }),
    api.runs({ status: 'SUBMITTED', limit: 50 }),
    api.runs({ status: 'QUEUED', limit: 50 }),
    api.runs({ status: 'FAILED', limit: 50 }),
    api.schedules(),
  ]);
  const activeSummaries = [...running.runs, ...submitted.runs, ...queued.runs];
  const names = [...new Set(activeSummaries.map((r) => r.schedule))];
  const [details, usual] = await Promise.all([
    Promise.all(activeSummaries.map((r) => api.run(r.runId))),
    Promise.all(
      names.map(async (name) => {
        const ok = await api.runs({ schedule: name, status: 'SUCCEEDED', limit: 10 });
        const durations = ok.runs.filter((r) => r.endedAt).map((r) => Date.parse(r.endedAt!) - Date.parse(r.createdAt));
        return [name, median(durations)] as const;
      }),
    ),
  ]);
  const usualBy = new Map(usual);
  const since = Date.now() - DAY;
  return {
    active: details.map((run) => ({ run, usual: usualBy.get(run.schedule) })),
    failed: failed.runs.filter((r) => Date.parse(r.scheduledTime) >= since || Date.parse(r.endedAt ?? r.createdAt) >= since),
    schedules,
  };
}

/** Fires grouped by schedule, soonest first; `more` when the schedule's known fires (5) all fall in the hour. */
function bySchedule(fires: { schedule: string; at: number; more: number }[]): { schedule: string; at: number; count: number; more: boolean }[] {
  const out = new Map<string, { schedule: string; at: number; count: number; more: boolean }>();
  for (const f of fires) {
    const e = out.get(f.schedule) ?? { schedule: f.schedule, at: f.at, count: 0, more: false };
    e.count += 1;
    e.more = e.count >= f.more;
    out.set(f.schedule, e);
  }
  return [...out.values()].sort((a, b) => a.at - b.at);
}

function currentTask(run: RunView): string {
  const t = run.tasks.find((x) => x.status === 'RUNNING') ?? run.tasks.find((x) => x.status === 'SUBMITTED' || x.status === 'RETRY_WAIT') ?? run.tasks.find((x) => x.status !== 'SUCCEEDED');
  return t ? `${t.name} (${t.status.toLowerCase()})` : '–';
}

export function NowPage({ wall }: { wall: boolean }) {
  const { data, error } = usePoll(loadNow, 'now');
  const now = useNow();
  if (!data)
    return (
      <>
        <h1>Now</h1>
        {error ? <Problem error={error} /> : <Loading />}
      </>
    );

  const hour = now + 3600_000;
  const fires = data.schedules
    .filter((s) => !s.paused && s.enabled)
    .flatMap((s) => s.nextFireTimes.map((t) => ({ schedule: s.name, at: Date.parse(t), more: s.nextFireTimes.length })))
    .filter((f) => f.at >= now - 1000 && f.at <= hour)
    .sort((a, b) => a.at - b.at);
  const stuck = data.active.filter(({ run }) => now - Date.parse(run.updatedAt) > (STUCK_AFTER_MS[run.status] ?? Infinity));

  return (
    <>
      <div class="titlebar">
        <h1>Now</h1>
        {wall ? (
          <a href="#/now" class="button">
            Leave wall mode
          </a>
        ) : (
          <a href="#/now?wall=1" class="button" onClick={() => void document.documentElement.requestFullscreen?.().catch(() => undefined)}>
            Wall mode
          </a>
        )}
      </div>
      <Problem error={error} />
      <div class="tiles">
        <div class="tile">
          <span class="big">{data.active.length}</span> running or waiting
        </div>
        <div class={`tile ${data.failed.length ? 'bad' : ''}`}>
          <span class="big">{data.failed.length}</span> failed in 24 h
        </div>
        <div class="tile">
          <span class="big">{fires.length}</span> fires due in the next hour
        </div>
        <div class={`tile ${stuck.length ? 'bad' : ''}`}>
          <span class="big">{stuck.length}</span> stuck
        </div>
      </div>

      <Section title="Running">
        {data.active.length === 0 ? (
          <p class="muted">Nothing is running.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Current task</th>
                <th scope="col">Elapsed</th>
                <th scope="col">Usual</th>
              </tr>
            </thead>
            <tbody>
              {data.active.map(({ run, usual }) => {
                const elapsed = now - Date.parse(run.createdAt);
                const pct = usual ? Math.min(100, Math.round((elapsed / usual) * 100)) : undefined;
                return (
                  <tr key={run.runId}>
                    <td>
                      <a href={`#/runs/${encodeURIComponent(run.runId)}`}>{run.runId}</a>
                    </td>
                    <td>
                      <Status status={run.status} />
                    </td>
                    <td>{currentTask(run)}</td>
                    <td>
                      {formatDuration(elapsed)}
                      {pct !== undefined && (
                        <progress class={elapsed > usual! ? 'over' : ''} max={100} value={pct} aria-label={`${pct}% of the usual duration`} />
                      )}
                    </td>
                    <td>{usual ? formatDuration(usual) : '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Failed in the last 24 hours">
        {data.failed.length === 0 ? (
          <p class="muted">No failures.</p>
        ) : (
          <ul class="plain">
            {data.failed.map((r) => (
              <li key={r.runId}>
                <Status status={r.status} /> <a href={`#/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a>{' '}
                <span class="muted">{r.statusReason ?? ''} · ended {r.endedAt ? relative(Date.parse(r.endedAt), now) : '–'}</span>
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section title="Due in the next hour">
        {fires.length === 0 ? (
          <p class="muted">Nothing fires in the next hour.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Schedule</th>
                <th scope="col">Next fire</th>
                <th scope="col">Fires this hour</th>
              </tr>
            </thead>
            <tbody>
              {bySchedule(fires).map(({ schedule, at, count, more }) => (
                <tr key={schedule}>
                  <td>
                    <a href={`#/schedules/${encodeURIComponent(schedule)}`}>{schedule}</a>
                  </td>
                  <td>
                    {localTime(at)} <span class="countdown muted">{relative(at, now)}</span>
                  </td>
                  <td>{more ? `${count}+` : count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      {stuck.length > 0 && (
        <Section title="Stuck">
          <ul class="plain">
            {stuck.map(({ run }) => (
              <li key={run.runId}>
                <Status status={run.status} /> <a href={`#/runs/${encodeURIComponent(run.runId)}`}>{run.runId}</a> unchanged for{' '}
                {formatDuration(now - Date.parse(run.updatedAt))}
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}
