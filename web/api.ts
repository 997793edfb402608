/**
 * The dashboard's API client: the same routes as the CLI (docs/api.md) under `/ui`, where
 * the browser's credentials (the session cookie locally, a JWT on AWS) are accepted. The
 * types are the server's own, inferred from the same zod schemas (type-only imports: no
 * server code reaches the bundle).
 */
import type { JobRunView, LogPage, RunView } from '../shared/api/runs.ts';
import type { CalendarDay, ScheduleCalendar } from '../shared/api/calendar.ts';
import type { ScheduleView } from '../shared/api/schedules.ts';
import type { RunStatus, RunSummary } from '../shared/store/schema.ts';
import type { Role } from '../shared/api/auth.ts';

export type { CalendarDay, JobRunView, LogPage, Role, RunStatus, RunSummary, RunView, ScheduleCalendar, ScheduleView };
export type TaskView = RunView['tasks'][number];
export type AttemptView = TaskView['attempts'][number];

export const API_BASE = '/ui';

/** An error answer of the API, with its code and plain-words message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called when any call answers 401: the session ended (or never began). */
let onSignedOut: () => void = () => undefined;
export function setSignedOutHandler(f: () => void): void {
  onSignedOut = f;
}

/** On AWS the browser sends its OIDC ID token as a bearer token; locally the cookie goes by itself. */
let bearer: string | undefined;
export function setBearer(token: string | undefined): void {
  bearer = token;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(API_BASE + path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401) onSignedOut();
    throw new ApiError(res.status, err?.code ?? String(res.status), err?.message ?? res.statusText);
  }
  return json as T;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
const enc = encodeURIComponent;

export const api = {
  me: () => call<{ role: Role }>('GET', '/me'),
  schedules: () => call<{ schedules: ScheduleView[] }>('GET', '/schedules'),
  schedule: (name: string) => call<ScheduleView>('GET', `/schedules/${enc(name)}`),
  pause: (name: string) => call<ScheduleView>('POST', `/schedules/${enc(name)}/pause`),
  resume: (name: string) => call<ScheduleView>('POST', `/schedules/${enc(name)}/resume`),
  pauseMany: (prefix: string, paused: boolean) =>
    call<{ paused: boolean; schedules: string[] }>('POST', `/schedules/${paused ? 'pause' : 'resume'}`, { prefix }),
  trigger: (name: string, parameters: Record<string, string>, idempotencyKey: string) =>
    call<RunView>('POST', `/schedules/${enc(name)}/runs`, { parameters }, { 'idempotency-key': idempotencyKey }),
  backfill: (name: string, from: string, to: string) =>
    call<{ count: number; created: number; runs: { runId: string; scheduledTime: string; status: string; created: boolean }[] }>(
      'POST',
      `/schedules/${enc(name)}/backfill`,
      { from, to },
    ),
  calendar: (name: string, month?: string) => call<ScheduleCalendar>('GET', `/schedules/${enc(name)}/calendar${q({ month })}`),
  runOfJob: (jobId: string) => call<JobRunView>('GET', `/runs${q({ jobId })}`),
  runs: (filter: { schedule?: string; status?: string; limit?: number; cursor?: string }) =>
    call<{ runs: RunSummary[]; cursor?: string }>('GET', `/runs${q(filter)}`),
  run: (id: string) => call<RunView>('GET', `/runs/${enc(id)}`),
  cancel: (id: string) => call<RunView>('POST', `/runs/${enc(id)}/cancel`),
  rerun: (id: string, tasks: 'all' | 'failed', idempotencyKey: string) =>
    call<RunView>('POST', `/runs/${enc(id)}/rerun`, { tasks }, { 'idempotency-key': idempotencyKey }),
  logs: (id: string, task: string, attempt: number, nextToken?: string) =>
    call<LogPage>('GET', `/runs/${enc(id)}/logs${q({ task, attempt, nextToken, limit: 1000 })}`),
};
