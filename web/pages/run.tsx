/**
 * Run: the task graph coloured by state, the Gantt of every attempt, exit codes and
 * reasons, each attempt's log (with follow), and cancel / re-run for operators.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type RunView } from '../api.ts';
import { Loading, Problem, Section, Status } from '../components/common.tsx';
import { Gantt, TaskGraph } from '../components/graph.tsx';
import { FINAL_STATUSES, formatDuration, localTime } from '../format.ts';
import { usePoll, useNow } from '../hooks.ts';
import { setQuery } from '../router.ts';

function LogView({ runId, task, attempt, live }: { runId: string; task: string; attempt: number; live: boolean }) {
  const [lines, setLines] = useState<{ timestamp: string; message: string }[]>([]);
  const [error, setError] = useState<Error>();
  const [follow, setFollow] = useState(true);
  const token = useRef<string | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    setError(undefined);
    token.current = undefined;
    let stopped = false;
    const read = async () => {
      try {
        const page = await api.logs(runId, task, attempt, token.current);
        if (stopped) return;
        token.current = page.nextToken;
        if (page.events.length) setLines((l) => [...l, ...page.events]);
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(e as Error);
      }
    };
    void read();
    const t = setInterval(() => (follow || live) && void read(), 1500);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [runId, task, attempt, follow]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);
  return (
    <div>
      <label class="inline">
        <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
      </label>
      {error && !(error instanceof ApiError && error.status === 404) && <Problem error={error} />}
      <pre class="log" ref={box} tabIndex={0} aria-label={`Log of ${task} attempt ${attempt}`}>
        {lines.length === 0 ? (error ? 'No log yet.' : '…') : lines.map((l) => `${l.timestamp.slice(11, 19)}  ${l.message}`).join('\n')}
      </pre>
    </div>
  );
}

export function RunPage({ id, query, operator }: { id: string; query: URLSearchParams; operator: boolean }) {
  const { data: run, error, reload } = usePoll(() => api.run(id), `run:${id}`);
  const now = useNow();
  const [actionError, setActionError] = useState<Error>();
  const [notice, setNotice] = useState<string>();
  if (!run)
    return (
      <>
        <h1 class="mono">{id}</h1>
        {error ? <Problem error={error} /> : <Loading />}
      </>
    );

  const finished = FINAL_STATUSES.has(run.status);
  const started = run.tasks.filter((t) => t.attempts.length > 0);
  const task = query.get('task') ?? (run.tasks.find((t) => t.status === 'FAILED') ?? started.at(-1) ?? run.tasks[0])?.name;
  const selected = run.tasks.find((t) => t.name === task);
  const attempt = Number(query.get('attempt') ?? selected?.attempts.at(-1)?.attempt ?? 1);
  const select = (t: string, a?: number) => setQuery(`/runs/${encodeURIComponent(id)}`, { task: t, ...(a ? { attempt: String(a) } : {}) });

  const cancel = async () => {
    setActionError(undefined);
    try {
      await api.cancel(run.runId);
      reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };
  const rerun = async (tasks: 'all' | 'failed') => {
    setActionError(undefined);
    try {
      // The run starts again as its next attempt (same id); one key per click.
      await api.rerun(run.runId, tasks, crypto.randomUUID());
      setNotice(tasks === 'all' ? 'Re-running every task.' : 'Re-running the failed tasks.');
      reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && /No route/.test(e.message)) {
        // A server without POST /runs/{id}/rerun: start a new run with the same parameters instead.
        try {
          const next = await api.trigger(run.schedule, run.parameters, `rerun-${run.runId}-${Date.now()}`.slice(0, 255));
          location.hash = `#/runs/${encodeURIComponent(next.runId)}`;
        } catch (e2) {
          setActionError(e2 as Error);
        }
      } else setActionError(e as Error);
    }
  };

  return (
    <>
      <div class="titlebar">
        <h1 class="mono">{run.runId}</h1>
        <Status status={run.status} />
      </div>
      <p>
        <a href={`#/schedules/${encodeURIComponent(run.schedule)}`}>{run.schedule}</a> · scheduled {localTime(run.scheduledTime)} · {run.trigger} ·{' '}
        {finished ? `took ${formatDuration(Date.parse(run.endedAt ?? run.updatedAt) - Date.parse(run.createdAt))}` : `running for ${formatDuration(now - Date.parse(run.createdAt))}`}
        {run.statusReason && <> · {run.statusReason}</>}
      </p>
      {Object.keys(run.parameters).length > 0 && (
        <p class="small">
          Parameters:{' '}
          {Object.entries(run.parameters).map(([k, v]) => (
            <code key={k}>
              {k}={v}{' '}
            </code>
          ))}
        </p>
      )}
      {operator && (
        <div class="actions">
          {!finished && (
            <button type="button" class="danger" onClick={() => void cancel()}>
              Cancel run
            </button>
          )}
          {finished && (
            <button type="button" onClick={() => void rerun('all')}>
              Re-run
            </button>
          )}
          {finished && run.tasks.some((t) => t.status === 'FAILED' || t.status === 'CANCELLED') && (
            <button type="button" onClick={() => void rerun('failed')}>
              Re-run failed tasks
            </button>
          )}
        </div>
      )}
      <Problem error={error ?? actionError} />
      {notice && <p role="status">{notice}</p>}

      <Section title="Tasks">
        <div class="scroll">
          <TaskGraph tasks={run.tasks} selected={task} onSelect={(t) => select(t)} />
        </div>
      </Section>

      <Section title="Timeline">
        <Gantt tasks={run.tasks} now={now} />
      </Section>

      <Section title="Attempts">
        <table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Exit code</th>
              <th scope="col">Reason</th>
              <th scope="col">Queued</th>
              <th scope="col">Ran</th>
              <th scope="col">Log</th>
            </tr>
          </thead>
          <tbody>
            {run.tasks.flatMap((t) =>
              t.attempts.length === 0
                ? [
                    <tr key={t.name}>
                      <td>{t.name}</td>
                      <td>–</td>
                      <td>
                        <Status status={t.status} />
                      </td>
                      <td>–</td>
                      <td class="small">{t.reason ?? ''}</td>
                      <td>–</td>
                      <td>–</td>
                      <td />
                    </tr>,
                  ]
                : t.attempts.map((a) => {
                    const sub = a.submittedAt ? Date.parse(a.submittedAt) : undefined;
                    const st = a.startedAt ? Date.parse(a.startedAt) : undefined;
                    const sp = a.stoppedAt ? Date.parse(a.stoppedAt) : undefined;
                    return (
                      <tr key={`${t.name}-${a.attempt}`} class={t.name === task && a.attempt === attempt ? 'current' : ''}>
                        <td>{t.name}</td>
                        <td>{a.attempt}</td>
                        <td>
                          <Status status={a.status} />
                        </td>
                        <td class="mono">{a.exitCode ?? '–'}</td>
                        <td class="small">{a.statusReason ?? t.reason ?? ''}</td>
                        <td>{sub !== undefined ? formatDuration((st ?? sp ?? now) - sub) : '–'}</td>
                        <td>{st !== undefined ? formatDuration((sp ?? now) - st) : '–'}</td>
                        <td>
                          <button type="button" class="link" onClick={() => select(t.name, a.attempt)} aria-label={`Show the log of ${t.name} attempt ${a.attempt}`}>
                            log
                          </button>
                        </td>
                      </tr>
                    );
                  }),
            )}
          </tbody>
        </table>
      </Section>

      {selected && selected.attempts.length > 0 && (
        <Section title={`Log: ${selected.name}, attempt ${attempt}`} id="h-log">
          <LogView runId={run.runId} task={selected.name} attempt={attempt} live={!finished} />
        </Section>
      )}
    </>
  );
}

export type { RunView };
