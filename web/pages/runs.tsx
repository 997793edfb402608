/**
 * Runs: filter by status, schedule and scheduled-time range; jump to a run id; find the run
 * of a Batch job id (`#/runs?jobId=…`, shareable); cursor paging.
 */
import { useState } from 'preact/hooks';
import { api, type RunStatus } from '../api.ts';
import { Loading, Problem, Status } from '../components/common.tsx';
import { formatDuration, localTime } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { setQuery } from '../router.ts';

const STATUSES: RunStatus[] = ['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];
const PAGE = 50;

function iso(local: string | null): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function RunsPage({ query }: { query: URLSearchParams }) {
  const filters = {
    status: query.get('status') ?? '',
    schedule: query.get('schedule') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    cursor: query.get('cursor') ?? '',
  };
  const jobId = query.get('jobId')?.trim() ?? '';
  const key = JSON.stringify({ ...filters, jobId });
  const { data, error } = usePoll(
    () =>
      Promise.all([
        jobId ? api.runOfJob(jobId) : api.runs({
          limit: PAGE,
          ...(filters.status ? { status: filters.status } : {}),
          ...(filters.schedule ? { schedule: filters.schedule } : {}),
          ...(filters.cursor ? { cursor: filters.cursor } : {}),
          ...(iso(filters.from) ? { scheduledFrom: iso(filters.from) } : {}),
          ...(iso(filters.to) ? { scheduledTo: iso(filters.to) } : {}),
        }),
        api.schedules(),
      ]),
    key,
  );
  const [runId, setRunId] = useState('');
  const [job, setJob] = useState(jobId);
  const set = (patch: Partial<typeof filters>) => setQuery('/runs', { ...filters, cursor: undefined, ...patch });
  const found = data && 'jobId' in data[0] ? data[0] : undefined;

  return (
    <>
      <h1>Runs</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (runId.trim()) location.hash = `#/runs/${encodeURIComponent(runId.trim())}`;
        }}
      >
        <label>
          Status
          <select value={filters.status} onChange={(e) => set({ status: e.currentTarget.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Schedule
          <select value={filters.schedule} onChange={(e) => set({ schedule: e.currentTarget.value })}>
            <option value="">any</option>
            {(data?.[1].schedules ?? []).map((s) => (
              <option key={s.name}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          Scheduled from
          <input type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} />
        </label>
        <label>
          to
          <input type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} />
        </label>
        <label>
          Run id
          <input type="search" name="run-id" value={runId} placeholder="open a run by id" onInput={(e) => setRunId(e.currentTarget.value)} />
        </label>
        <button type="submit">Open</button>
      </form>
      <form
        class="filters"
        role="search"
        aria-label="Find the run of a Batch job"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery('/runs', { jobId: job.trim() }, false);
        }}
      >
        <label>
          Batch job id
          <input type="search" name="job-id" value={job} placeholder="find the run of a job" onInput={(e) => setJob(e.currentTarget.value)} required />
        </label>
        <button type="submit">Find run</button>
        {jobId && (
          <a href="#/runs" onClick={() => setJob('')}>
            Show all runs
          </a>
        )}
      </form>
      {found && (
        <p role="status">
          Job <span class="mono">{found.jobId}</span> is attempt {found.attempt} of task <strong>{found.task}</strong> of this run:
        </p>
      )}
      <Problem error={error} />
      {!data ? (
        !error && <Loading />
      ) : (
        <>
          <table class="runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Scheduled</th>
                <th scope="col">Trigger</th>
                <th scope="col">Duration</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {data[0].runs.map((r) => (
                <tr key={r.runId}>
                  <td>
                    <a href={`#/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a>
                  </td>
                  <td>
                    <Status status={r.status} />
                  </td>
                  <td>{localTime(r.scheduledTime)}</td>
                  <td>{r.trigger}</td>
                  <td>{r.endedAt ? formatDuration(Date.parse(r.endedAt) - Date.parse(r.createdAt)) : '–'}</td>
                  <td class="small">{r.statusReason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data[0].runs.length === 0 && <p class="muted">No run matches.</p>}
          <nav class="pager" aria-label="Pages">
            {filters.cursor && (
              <button type="button" onClick={() => history.back()}>
                Newer
              </button>
            )}
            {'cursor' in data[0] && data[0].cursor && (
              <button type="button" onClick={() => setQuery('/runs', { ...filters, cursor: (data[0] as { cursor?: string }).cursor }, false)}>
                Older
              </button>
            )}
          </nav>
        </>
      )}
    </>
  );
}
