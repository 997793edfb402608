/**
 * Schedule: its definition and next fires, the history grid (runs × tasks), the duration
 * trend, the trigger form generated from its declared parameters (with an Idempotency-Key,
 * so a double click or a retry starts one run) and backfill with a preview of its times.
 */
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, type RunView, type ScheduleView } from '../api.ts';
import { Loading, Problem, Section, Status } from '../components/common.tsx';
import { DurationTrend } from '../components/trend.tsx';
import { Calendar } from '../components/calendar.tsx';
import { expressionInWords, FINAL_STATUSES, localTime, relative } from '../format.ts';
import { usePoll, useNow } from '../hooks.ts';
import { nextFireTimes } from '../../shared/expressions/index.ts';

const HISTORY = 20;
/** Finished runs never change: read once, keep. */
const finished = new Map<string, RunView>();

async function load(name: string): Promise<{ schedule: ScheduleView; runs: RunView[] }> {
  const [schedule, list] = await Promise.all([api.schedule(name), api.runs({ schedule: name, limit: HISTORY })]);
  const runs = await Promise.all(
    list.runs.map(async (r) => {
      const cached = finished.get(r.runId);
      if (cached && cached.status === r.status) return cached;
      const run = await api.run(r.runId);
      if (FINAL_STATUSES.has(run.status)) finished.set(run.runId, run);
      return run;
    }),
  );
  return { schedule, runs };
}

function newKey(): string {
  return crypto.randomUUID();
}

function TriggerForm({ schedule }: { schedule: ScheduleView }) {
  const params = Object.entries(schedule.parameters);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(params.map(([k, p]) => [k, p.default ?? ''])));
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const run = await api.trigger(schedule.name, values, key);
      setKey(newKey());
      location.hash = `#/runs/${encodeURIComponent(run.runId)}`;
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Trigger a run">
      {params.length === 0 && <p class="muted">This schedule declares no parameters.</p>}
      {params.map(([name, p]) => (
        <label key={name}>
          {name}
          {p.required ? ' (required)' : ''}
          <input
            name={`param-${name}`}
            value={values[name] ?? ''}
            required={Boolean(p.required)}
            {...(p.pattern ? { pattern: p.pattern } : {})}
            onInput={(ev) => setValues({ ...values, [name]: ev.currentTarget.value })}
          />
          {p.description && <span class="muted small">{p.description}</span>}
        </label>
      ))}
      <label>
        Idempotency-Key
        <input name="idempotency-key" value={key} onInput={(ev) => setKey(ev.currentTarget.value)} required maxLength={255} />
        <span class="muted small">The same key and parameters never start a second run.</span>
      </label>
      <div>
        <button type="submit" disabled={busy}>
          Trigger run
        </button>
      </div>
      <Problem error={error} />
    </form>
  );
}

function toIso(local: string): string | undefined {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function BackfillForm({ schedule }: { schedule: ScheduleView }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<Error>();
  const fromIso = toIso(from);
  const toIsoV = toIso(to);
  // The same series the API's backfill runs (shared/expressions), computed here for the preview.
  const preview = useMemo(() => {
    if (!fromIso || !toIsoV) return undefined;
    try {
      return nextFireTimes(schedule.expression, {
        timezone: schedule.timezone,
        from: new Date(Date.parse(fromIso) - 1),
        count: 501,
        ...(schedule.startDate ? { startDate: new Date(schedule.startDate) } : {}),
        ...(schedule.endDate ? { endDate: new Date(schedule.endDate) } : {}),
      }).filter((t) => t.getTime() < Date.parse(toIsoV));
    } catch (e) {
      return e as Error;
    }
  }, [fromIso, toIsoV, schedule.expression, schedule.timezone]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!fromIso || !toIsoV) return;
    setError(undefined);
    try {
      const r = await api.backfill(schedule.name, fromIso, toIsoV);
      setResult(`${r.created} new run(s) of ${r.count} time(s).`);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Backfill">
      <div class="row">
        <label>
          From
          <input type="datetime-local" step={1} value={from} onInput={(e) => setFrom(e.currentTarget.value)} required />
        </label>
        <label>
          To (not included)
          <input type="datetime-local" step={1} value={to} onInput={(e) => setTo(e.currentTarget.value)} required />
        </label>
      </div>
      {preview instanceof Error ? (
        <p class="problem">{preview.message}</p>
      ) : preview ? (
        <div aria-live="polite">
          <p>
            {preview.length > 500 ? 'More than 500 times: split the range.' : `${preview.length} run(s) at:`}
          </p>
          <ol class="preview small mono">
            {preview.slice(0, 20).map((t) => (
              <li key={t.getTime()}>{localTime(t.getTime())}</li>
            ))}
            {preview.length > 20 && <li>… and {preview.length - 20} more</li>}
          </ol>
        </div>
      ) : null}
      <div>
        <button type="submit" disabled={!preview || preview instanceof Error || preview.length === 0 || preview.length > 500}>
          Backfill
        </button>
      </div>
      {result && <p role="status">{result}</p>}
      <Problem error={error} />
    </form>
  );
}

export function SchedulePage({ name, query, operator }: { name: string; query: URLSearchParams; operator: boolean }) {
  const month = query.get('month') ?? undefined;
  const loader = useRef(() => load(name));
  loader.current = () => load(name);
  const { data, error, reload } = usePoll(() => loader.current(), `schedule:${name}`);
  const now = useNow();
  const [actionError, setActionError] = useState<Error>();
  if (!data)
    return (
      <>
        <h1>{name}</h1>
        {error ? <Problem error={error} /> : <Loading />}
      </>
    );
  const { schedule, runs } = data;
  const taskNames = [...schedule.tasks.map((t) => t.name), ...schedule.onFailure];
  const points = runs
    .filter((r) => r.endedAt && r.status !== 'SKIPPED')
    .map((r) => ({ t: Date.parse(r.scheduledTime), seconds: Math.round((Date.parse(r.endedAt!) - Date.parse(r.createdAt)) / 100) / 10, status: r.status }));
  const toggle = async () => {
    try {
      await (schedule.paused ? api.resume(name) : api.pause(name));
      reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };

  return (
    <>
      <div class="titlebar">
        <h1>{schedule.name}</h1>
        <button type="button" role="switch" class="switch" aria-checked={schedule.paused} aria-label="Paused" disabled={!operator} onClick={() => void toggle()}>
          {schedule.paused ? 'paused' : 'active'}
        </button>
      </div>
      {schedule.description && <p>{schedule.description}</p>}
      <p>
        {schedule.firedBy === 'events' ? (
          <>on events (no time expression)</>
        ) : (
          <>
            {expressionInWords(schedule.expression)} <span class="mono muted">{schedule.expression}</span>
          </>
        )}{' '}
        in {schedule.timezone} · overlap {schedule.overlap} · {schedule.origin}
      </p>
      <Problem error={error ?? actionError} />

      <Section title="Next fires">
        {schedule.paused ? (
          <p class="muted">Paused: nothing fires until it is resumed.</p>
        ) : schedule.firedBy === 'events' ? (
          <p>On events: its event triggers start it; it has no fire times.</p>
        ) : (
          <ol class="plain">
            {schedule.nextFireTimes.map((t, i) => (
              <li key={t}>
                {localTime(t)} <span class="muted">({schedule.nextFireTimesLocal[i]} {schedule.timezone})</span> <span class="countdown">{relative(Date.parse(t), now)}</span>
              </li>
            ))}
          </ol>
        )}
      </Section>

      <Section title="History">
        {runs.length === 0 ? (
          <p class="muted">No runs yet.</p>
        ) : (
          <div class="scroll">
            <table class="grid">
              <caption class="sr-only">Task status by run, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  {taskNames.map((t) => (
                    <th scope="col" key={t}>
                      {t}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.runId}>
                    <th scope="row">
                      <a href={`#/runs/${encodeURIComponent(r.runId)}`}>{localTime(r.scheduledTime)}</a>
                    </th>
                    <td>
                      <Status status={r.status} />
                    </td>
                    {taskNames.map((t) => {
                      const task = r.tasks.find((x) => x.name === t);
                      return (
                        <td key={t}>
                          {task ? <span role="img" class={`cell s-${task.status.toLowerCase()}`} title={`${t}: ${task.status}`} aria-label={`${t}: ${task.status}`} /> : <span class="muted">·</span>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title="Calendar">
        <Calendar name={name} {...(month ? { month } : {})} />
      </Section>

      <Section title="Duration trend">
        <DurationTrend points={points} />
      </Section>

      {operator ? (
        <>
          <Section title="Trigger a run">
            <TriggerForm schedule={schedule} />
          </Section>
          {schedule.firedBy !== 'events' && (
            <Section title="Backfill">
              <BackfillForm schedule={schedule} />
            </Section>
          )}
        </>
      ) : (
        <p class="muted">Viewers can look but not trigger, pause or backfill.</p>
      )}
    </>
  );
}
