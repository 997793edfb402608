/** Schedules: every schedule with its expression in words, next fire, last outcomes, pause toggle and tags; search and tag filter. */
import { useState } from 'preact/hooks';
import { api, type RunSummary, type ScheduleView } from '../api.ts';
import { Loading, OutcomeCells, Problem } from '../components/common.tsx';
import { expressionInWords, localTime, relative } from '../format.ts';
import { usePoll, useNow } from '../hooks.ts';
import { setQuery } from '../router.ts';

const LAST_N = 12;

async function load(): Promise<{ schedules: ScheduleView[]; runs: Map<string, RunSummary[]> }> {
  const { schedules } = await api.schedules();
  const runs = await Promise.all(schedules.map(async (s) => [s.name, (await api.runs({ schedule: s.name, limit: LAST_N })).runs] as const));
  return { schedules, runs: new Map(runs) };
}

export function SchedulesPage({ query, operator }: { query: URLSearchParams; operator: boolean }) {
  const { data, error, reload } = usePoll(load, 'schedules');
  const now = useNow();
  const [actionError, setActionError] = useState<Error>();
  const q = query.get('q') ?? '';
  const tag = query.get('tag') ?? '';
  const state = query.get('state') ?? '';
  const filters = { q, tag, state };
  if (!data)
    return (
      <>
        <h1>Schedules</h1>
        {error ? <Problem error={error} /> : <Loading />}
      </>
    );

  const tags = [...new Set(data.schedules.flatMap((s) => Object.entries(s.tags).map(([k, v]) => `${k}=${v}`)))].sort();
  const shown = data.schedules.filter((s) => {
    if (q && !`${s.name} ${s.description ?? ''}`.toLowerCase().includes(q.toLowerCase())) return false;
    if (tag && !Object.entries(s.tags).some(([k, v]) => `${k}=${v}` === tag)) return false;
    if (state === 'paused' && !s.paused) return false;
    if (state === 'active' && s.paused) return false;
    return true;
  });

  const toggle = async (s: ScheduleView) => {
    setActionError(undefined);
    try {
      await (s.paused ? api.resume(s.name) : api.pause(s.name));
      reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };

  return (
    <>
      <h1>Schedules</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={q} placeholder="name or description" onInput={(e) => setQuery('/schedules', { ...filters, q: e.currentTarget.value })} />
        </label>
        <label>
          Tag
          <select value={tag} onChange={(e) => setQuery('/schedules', { ...filters, tag: e.currentTarget.value })}>
            <option value="">any</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select value={state} onChange={(e) => setQuery('/schedules', { ...filters, state: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="paused">paused</option>
          </select>
        </label>
      </form>
      <Problem error={error ?? actionError} />
      <table class="schedules">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">When</th>
            <th scope="col">Next fire</th>
            <th scope="col">Last {LAST_N}</th>
            <th scope="col">Paused</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((s) => {
            const next = s.nextFireTimes[0];
            return (
              <tr key={s.name}>
                <td>
                  <a href={`#/schedules/${encodeURIComponent(s.name)}`}>{s.name}</a>
                  {s.description && <div class="muted small">{s.description}</div>}
                </td>
                <td>
                  {s.firedBy === 'events' ? 'on events' : expressionInWords(s.expression)} <span class="muted small">({s.timezone})</span>
                  <div class="muted small mono">{s.expression}</div>
                </td>
                <td>
                  {s.paused ? (
                    <span class="muted">paused</span>
                  ) : s.firedBy === 'events' ? (
                    <span>on events</span>
                  ) : next ? (
                    <>
                      <span class="countdown">{relative(Date.parse(next), now)}</span>
                      <div class="muted small">{localTime(next)}</div>
                    </>
                  ) : (
                    <span class="muted">none</span>
                  )}
                </td>
                <td>
                  <OutcomeCells runs={data.runs.get(s.name) ?? []} />
                </td>
                <td>
                  <button
                    type="button"
                    role="switch"
                    class="switch"
                    aria-checked={s.paused}
                    aria-label={`Paused: ${s.name}`}
                    disabled={!operator}
                    title={operator ? (s.paused ? 'Resume' : 'Pause') : 'Viewers cannot pause'}
                    onClick={() => void toggle(s)}
                  >
                    {s.paused ? 'paused' : 'active'}
                  </button>
                </td>
                <td>
                  {Object.entries(s.tags).map(([k, v]) => (
                    <a key={k} class="tag" href={`#/schedules?tag=${encodeURIComponent(`${k}=${v}`)}`}>
                      {k}={v}
                    </a>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {shown.length === 0 && <p class="muted">No schedule matches.</p>}
      {operator && q && shown.length > 0 && (
        <p>
          <button type="button" onClick={() => void api.pauseMany(q, true).then(reload, setActionError)}>
            Pause every schedule starting with “{q}”
          </button>{' '}
          <button type="button" onClick={() => void api.pauseMany(q, false).then(reload, setActionError)}>
            Resume them
          </button>
        </p>
      )}
    </>
  );
}
